"""How fast and how big: the charting libraries considered for ``opp dashboard``.

Each library draws one dashboard's worth of charts (two currencies x funnel, forecast
with three series, won vs lost: 6 SVG charts) in a fresh Python process, so that its
import counts as it does for a user. Prints the median of --runs runs: import time,
render time, total, and the SVG bytes. Libraries that are not installed are skipped:

    .venv/bin/pip install pygal vl-convert-python matplotlib
    .venv/bin/python benchmarks/chart_libraries.py --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CHILD = r'''
import io, sys, time
lib = sys.argv[1]
t0 = time.perf_counter()
STAGES = ["Prospecting", "Qualification", "Proposal", "Negotiation"]
FUNNEL = [12000.0, 8000.0, 15000.0, 4000.0]
PERIODS = ["2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "unscheduled"]
AMOUNT = [12000.0, 8400.5, 15000.0, 3000.0, 22000.0, 1200.0]
WEIGHTED = [v * 0.5 for v in AMOUNT]
OBJECTIVE = [v * 1.1 for v in AMOUNT]
OUTCOME = [("Won", 5), ("Lost", 2)]
out = []
if lib == "pygal":
    import pygal
    t1 = time.perf_counter()
    for _ in ("EUR", "USD"):
        c = pygal.HorizontalBar(js=[], width=440, height=260)
        c.x_labels = STAGES
        c.add("Amount", FUNNEL)
        out.append(c.render(is_unicode=True))
        c = pygal.Bar(js=[], width=440, height=320)
        c.x_labels = PERIODS
        for name, values in (("Amount", AMOUNT), ("Weighted", WEIGHTED),
                             ("Objective", OBJECTIVE)):
            c.add(name, values)
        out.append(c.render(is_unicode=True))
        c = pygal.Pie(js=[], inner_radius=0.6, width=320, height=300)
        for name, n in OUTCOME:
            c.add(name, [n])
        out.append(c.render(is_unicode=True))
elif lib == "vl-convert":
    import vl_convert as vlc
    t1 = time.perf_counter()

    def spec(values, enc, mark="bar"):
        return {"width": 440, "height": 260, "data": {"values": values}, "mark": mark,
                "encoding": enc}
    for _ in ("EUR", "USD"):
        out.append(vlc.vegalite_to_svg(spec(
            [{"s": s, "v": v} for s, v in zip(STAGES, FUNNEL)],
            {"y": {"field": "s", "type": "nominal", "sort": None},
             "x": {"field": "v", "type": "quantitative"}})))
        out.append(vlc.vegalite_to_svg(spec(
            [{"p": p, "m": m, "v": v} for p, a, w, o in zip(PERIODS, AMOUNT, WEIGHTED, OBJECTIVE)
             for m, v in (("Amount", a), ("Weighted", w), ("Objective", o))],
            {"x": {"field": "p", "type": "nominal", "sort": None},
             "xOffset": {"field": "m", "sort": None},
             "y": {"field": "v", "type": "quantitative"},
             "color": {"field": "m", "sort": None}})))
        out.append(vlc.vegalite_to_svg(spec(
            [{"k": k, "n": n} for k, n in OUTCOME],
            {"theta": {"field": "n", "type": "quantitative"}, "color": {"field": "k"}},
            {"type": "arc", "innerRadius": 60})))
elif lib == "matplotlib":
    import matplotlib
    matplotlib.use("svg")
    import matplotlib.pyplot as plt
    t1 = time.perf_counter()
    plt.rcParams["svg.fonttype"] = "none"  # text as <text>, not paths: smaller, readable

    def save(fig):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        plt.close(fig)
        return buf.getvalue()
    for _ in ("EUR", "USD"):
        fig, ax = plt.subplots(figsize=(4.4, 2.6))
        ax.barh(STAGES, FUNNEL)
        out.append(save(fig))
        fig, ax = plt.subplots(figsize=(4.4, 3.2))
        w = 0.27
        for i, values in enumerate((AMOUNT, WEIGHTED, OBJECTIVE)):
            ax.bar([x + (i - 1) * w for x in range(len(PERIODS))], values, w)
        ax.set_xticks(range(len(PERIODS)), PERIODS)
        out.append(save(fig))
        fig, ax = plt.subplots(figsize=(3.2, 3.0))
        ax.pie([n for _, n in OUTCOME], labels=[k for k, _ in OUTCOME],
               wedgeprops={"width": 0.4})
        out.append(save(fig))
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {sum(len(s.encode()) for s in out)}")
'''

LIBRARIES = {"pygal": "pygal", "vl-convert": "vl_convert", "matplotlib": "matplotlib"}


def installed(module: str) -> bool:
    probe = subprocess.run([sys.executable, "-c", f"import importlib.util, sys; "
                            f"sys.exit(importlib.util.find_spec({module!r}) is None)"])
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'library':<12} {'import s':>9} {'render s':>9} {'total s':>8} {'SVG bytes':>10}")
    for name, module in LIBRARIES.items():
        if not installed(module):
            print(f"{name:<12} not installed")
            continue
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", CHILD, name], capture_output=True,
                                 text=True, check=True).stdout.split()
            runs.append((float(out[0]), float(out[1]), int(out[2])))
        imp = statistics.median(r[0] for r in runs)
        ren = statistics.median(r[1] for r in runs)
        tot = statistics.median(r[0] + r[1] for r in runs)
        print(f"{name:<12} {imp:>9.3f} {ren:>9.3f} {tot:>8.3f} {runs[0][2]:>10}")


if __name__ == "__main__":
    main()
