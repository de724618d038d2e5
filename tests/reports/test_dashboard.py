"""opp dashboard: the page's numbers are the reports' numbers, user text stays text, the
page fetches nothing, and it says which commit and day it shows.

The numbers are read back from the page twice: from its JSON block (#opp-data) and
from its data tables (each figure's data-value, and the text people read).
"""

import itertools
import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal as D
from html.parser import HTMLParser

import pytest

from oppcli.domain.money import money_human
from oppcli.reports import dashboard, markup

EVIL = '<script>alert("x")</script> & </script><img src="http://example.invalid/x.png">'


# ---------------------------------------------------------------- reading a page back


class Page(HTMLParser):
    """What a page holds: its data tables (rows of {key: (data-value, text)}), its key
    figures, its SVG charts, figures, headings, links and sources, and the JSON block."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tables = {}  # (name, currency) -> {"rows": [...], "total": {...}}
        self.kpis = {}  # currency -> {key: (value, text)}
        self.svgs = []  # attrs of each <svg>
        self.svg_children = []  # the tags directly inside each <svg>, in order
        self.tags = []  # every start tag's (name, attrs)
        self.headings = []
        self.scripts = []  # (attrs, text)
        self._table = None
        self._section = None
        self._row = None
        self._cell = None
        self._kpi = None
        self._text = None
        self._svg_depth = 0
        self._heading = None
        self._script = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if self._svg_depth:
            if self._svg_depth == 1:
                self.svg_children[-1].append(tag)
            self._svg_depth += 1
        elif tag == "svg":
            self.svgs.append(a)
            self.svg_children.append([])
            self._svg_depth = 1
        if tag == "table":
            self._table = self.tables.setdefault((a["data-table"], a["data-currency"]),
                                                 {"rows": [], "total": None})
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr" and self._table is not None:
            self._row = {"_row": a.get("data-row")}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = a
            self._text = []
        elif tag == "dl" and "kpis" in a.get("class", ""):
            self._kpi = self.kpis.setdefault(a["data-currency"], {})
        elif tag == "dd" and self._kpi is not None:
            self._cell = a
            self._text = []
        elif tag in ("h1", "h2", "h3"):
            self._heading = [tag, []]
        elif tag == "script":
            self._script = [a, []]

    def handle_endtag(self, tag):
        if self._svg_depth:
            self._svg_depth -= 1
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            if "data-key" in self._cell:
                self._row[self._cell["data-key"]] = (self._cell.get("data-value"),
                                                     "".join(self._text).strip())
            self._cell = None
        elif tag == "dd" and self._kpi is not None:
            self._kpi[self._cell["data-key"]] = (self._cell["data-value"],
                                                 "".join(self._text).strip())
            self._cell = None
        elif tag == "dl":
            self._kpi = None
        elif tag == "tr" and self._row is not None:
            if self._section == "tbody":
                self._table["rows"].append(self._row)
            elif self._section == "tfoot":
                self._table["total"] = self._row
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("h1", "h2", "h3") and self._heading:
            self.headings.append((self._heading[0], "".join(self._heading[1]).strip()))
            self._heading = None
        elif tag == "script" and self._script:
            self.scripts.append((self._script[0], "".join(self._script[1])))
            self._script = None

    def handle_data(self, data):
        if self._text is not None and self._cell is not None:
            self._text.append(data)
        if self._heading:
            self._heading[1].append(data)
        if self._script:
            self._script[1].append(data)

    @property
    def data(self):
        (attrs, text), = [s for s in self.scripts if s[0].get("id") == "opp-data"]
        assert attrs["type"] == "application/json"
        return json.loads(text)


def values(row, *keys):
    """The data-values of some cells of a table row, checked against the text people
    read: the same number, with thousands separators (money) or as a percentage."""
    out = []
    for key in keys:
        value, text = row[key]
        if value is not None and re.fullmatch(r"-?\d+\.\d\d", value):
            assert text == money_human(D(value)), (key, value, text)
        elif value is not None and re.fullmatch(r"\d+", value):
            assert text == value, (key, value, text)
        out.append(value)
    return tuple(out)


# ---------------------------------------------------------------- a book to show


@pytest.fixture
def book(tmp_path, monkeypatch, built):
    """Two currencies, every kind of stage, names to escape, changes this week; every
    commit dated 2026-11-26, the day the page describes, whatever the clock says.

    EUR  A Acme renewal   alice negotiation 75 %  2 x 1200 = 2400.00  obj 3000  2026-12-15
         B EVIL pilot     bob   prospecting 10 %  1000.05             obj 1500  2026-11-20
         C Initech        bob   proposal    50 %  333.33              -         no date
         D Hooli          alice closed-won        5000.00                       2026-10-15
         E Stark          carol closed-lost       800.00                        2026-10-20
    USD  F Umbrella       carol qualification 25 % 999.99             obj 2000  2027-01-31
         G Wayne          alice closed-won        100.00                        2026-11-01
    """
    from conftest import Opp

    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(var, "2026-11-26T10:00:00+00:00")
    monkeypatch.chdir(tmp_path)
    crm = Opp(tmp_path / "crm")
    crm.ids = built("dashboard-book", crm.root, lambda: make_book(crm))
    monkeypatch.chdir(crm.root)
    return crm


def make_book(crm) -> dict[str, str]:
    crm("init", str(crm.root))
    os.chdir(crm.root)
    crm("catalog", "add", "SRV-01", "--name", "Support plan", "--price", "1200")
    ids = {}
    ids["A"] = crm.new("Acme renewal", "--owner", "alice", "--stage", "negotiation",
                       "--objective", "3000", "--close-date", "2026-12-15")
    crm("add-product", ids["A"], "SRV-01", "--qty", "2")
    ids["B"] = crm.new(EVIL, "--customer", f"Globex {EVIL}", "--owner", f"bob {EVIL}",
                       "--amount", "1000.05", "--objective", "1500", "--close-date",
                       "2026-11-20")
    ids["C"] = crm.new("Initech", "--customer", "Initech", "--owner", "bob", "--amount",
                       "333.33", "--stage", "Proposal")
    ids["D"] = crm.new("Hooli", "--customer", "Hooli", "--owner", "alice", "--amount", "5000",
                       "--stage", "negotiation")
    crm("close", ids["D"], "--won", "--date", "2026-10-15")
    ids["E"] = crm.new("Stark", "--customer", "Stark", "--owner", "carol", "--amount", "800")
    crm("close", ids["E"], "--lost", "--reason", "price", "--date", "2026-10-20")
    ids["F"] = crm.new("Umbrella", "--customer", "Umbrella", "--owner", "carol", "--amount",
                       "999.99", "--currency", "USD", "--stage", "qualification",
                       "--objective", "2000", "--close-date", "2027-01-31")
    ids["G"] = crm.new("Wayne", "--customer", "Wayne", "--owner", "alice", "--amount", "100",
                       "--currency", "usd")
    crm("close", ids["G"], "--won", "--date", "2026-11-01")
    return ids


def render(crm, *args, env=None):
    r = crm("dashboard", "-o", "-", *args, env=env)
    return r.stdout, Page(r.stdout)


# ---------------------------------------------------------------- the numbers


def test_json_block_is_the_reports_json(book):
    text, page = render(book)
    data = page.data
    assert data["pipeline"] == book.json("pipeline")
    assert data["forecast"] == book.json("forecast", "--by", "month")
    report = book.json("changes", "--since", "2026-11-20", "--until", "2026-11-26")
    assert data["changes"] == {**report, "count": len(report["changes"]),
                               "listed_per_currency": 50}  # every change: fewer than 50
    assert data["day"] == "2026-11-26" and data["as_of"] is None
    assert data["commit"] == book.head() and data["uncommitted"] == 0
    # the top deals: open ones, largest first, with the forecast's weighted amount
    assert [(d["id"], d["amount"], d["weighted"]) for d in data["top_deals"]["EUR"]] == [
        (book.ids["A"], "2400.00", "1800.00"), (book.ids["B"], "1000.05", "100.01"),
        (book.ids["C"], "333.33", "166.67")]
    assert [d["id"] for d in data["top_deals"]["USD"]] == [book.ids["F"]]


def test_tables_show_the_reports_numbers(book):
    _, page = render(book)
    pipeline = book.json("pipeline")
    forecast = book.json("forecast")
    for currency in ("EUR", "USD"):
        funnel = page.tables[("funnel", currency)]
        want = [r for r in pipeline["rows"] if r["currency"] == currency and r["kind"] == "open"]
        assert [r["_row"] for r in funnel["rows"]] == [r["stage"] for r in want]
        for shown, row in zip(funnel["rows"], want):
            assert shown["stage_label"][1] == row["stage_label"]
            assert values(shown, "probability", "count", "amount", "weighted", "objective") \
                == (str(row["probability"]), str(row["count"]), row["amount"], row["weighted"],
                    row["objective"])
        total = next(t for t in pipeline["totals"] if t["currency"] == currency)
        assert values(funnel["total"], "count", "amount", "weighted", "objective") == (
            str(total["open_count"]), total["open_amount"], total["open_weighted"],
            total["open_objective"])

        table = page.tables[("forecast", currency)]
        want = [r for r in forecast["rows"] if r["currency"] == currency]
        assert [r["_row"] for r in table["rows"]] == [r["group"] for r in want]
        for shown, row in zip(table["rows"], want):
            assert values(shown, "count", "amount", "weighted", "objective") == (
                str(row["count"]), row["amount"], row["weighted"], row["objective"])
        ftotal = next(t for t in forecast["totals"] if t["currency"] == currency)
        assert values(table["total"], "count", "amount", "weighted", "objective") == (
            str(ftotal["count"]), ftotal["amount"], ftotal["weighted"], ftotal["objective"])

        outcome = {r["_row"]: r for r in page.tables[("outcome", currency)]["rows"]}
        assert values(outcome["won"], "count", "amount") == (str(total["won_count"]),
                                                             total["won_amount"])
        assert values(outcome["lost"], "count", "amount") == (str(total["lost_count"]),
                                                              total["lost_amount"])
        kpis = page.kpis[currency]
        assert kpis["open_count"][0] == str(total["open_count"])
        assert kpis["open_amount"] == (total["open_amount"],
                                       money_human(D(total["open_amount"]), currency))
        assert kpis["open_weighted"][0] == total["open_weighted"]
        assert kpis["won_amount"][0] == total["won_amount"]
        assert json.loads(kpis["win_rate"][0]) == total["win_rate"]
    assert page.kpis["EUR"]["win_rate"][1] == "50.0 %"
    assert page.kpis["USD"]["win_rate"][1] == "100.0 %"


def test_by_hand(book):
    """A few figures worked out by hand, as a reader checks them on the page."""
    _, page = render(book)
    funnel = {r["_row"]: r for r in page.tables[("funnel", "EUR")]["rows"]}
    assert values(funnel["prospecting"], "count", "amount", "weighted") == (
        "1", "1000.05", "100.01")  # 100.005 -> 100.01
    assert funnel["negotiation"]["amount"] == ("2400.00", "2,400.00")
    assert values(page.tables[("funnel", "EUR")]["total"], "amount") == ("3733.38",)
    top = page.tables[("top", "EUR")]["rows"]
    assert [r["_row"] for r in top] == [book.ids["A"], book.ids["B"], book.ids["C"]]
    assert top[2]["close_date"] == ("", "–")


def test_quarter_and_as_of_and_window_are_the_reports_too(book):
    text, page = render(book, "--by", "quarter", "--as-of", "2026-11-26")
    data = page.data
    assert data["forecast"] == book.json("forecast", "--by", "quarter", "--as-of", "2026-11-26")
    assert data["pipeline"] == book.json("pipeline", "--as-of", "2026-11-26")
    assert data["as_of"] == "2026-11-26" and data["pipeline"]["as_of_commit"] == book.head()
    assert "Forecast by quarter" in [h for _, h in page.headings]
    _, page = render(book, "--from", "2026-11-01", "--to", "2026-12-31")
    assert page.data["forecast"] == book.json("forecast", "--from", "2026-11-01", "--to",
                                              "2026-12-31")
    assert page.data["forecast"]["unscheduled_left_out"] == 1


def test_changes_are_the_seven_days_ending_with_the_day(book, monkeypatch):
    _, page = render(book)
    changes = page.data["changes"]
    assert (changes["since"], changes["until"]) == ("2026-11-20", "2026-11-26")
    kinds = [r["_row"] for r in page.tables[("changes", "EUR")]["rows"]]
    assert kinds.count("new") == 5 and "won" in kinds and "lost" in kinds
    # a week later nothing has moved: the section says so, the totals are empty
    monkeypatch.setenv("OPP_TODAY", "2026-12-10")
    text, page = render(book)
    assert page.data["changes"]["changes"] == [] and ("changes", "EUR") not in page.tables
    assert "No changes in EUR." in text


def test_the_latest_changes_are_listed_with_the_totals_of_all(book):
    report = book.json("changes", "--since", "2026-11-20", "--until", "2026-11-26")
    eur = [c for c in report["changes"] if c["currency"] == "EUR"]
    usd = [c for c in report["changes"] if c["currency"] == "USD"]
    assert len(eur) > 3 and len(usd) > 2
    text, page = render(book, "--changes", "2")
    changes = page.data["changes"]
    # the latest two of each currency, oldest first as in the report; totals of them all
    assert changes["changes"] == [c for c in report["changes"] if c in eur[-2:] + usd[-2:]]
    assert changes["totals"] == report["totals"] and changes["commits"] == report["commits"]
    assert (changes["count"], changes["listed_per_currency"]) == (len(report["changes"]), 2)
    rows = page.tables[("changes", "EUR")]["rows"]
    assert [r["name"][1] for r in rows] == [f"{c['name']} ({c['id']})" for c in eur[:-3:-1]]
    assert f"The latest 2 of {len(eur)} changes; all of them: opp changes --since 2026-11-20 " \
           "--until 2026-11-26" in text
    total = next(t for t in report["totals"] if t["currency"] == "EUR")
    assert f"{total['new_count']} new (" in text  # the totals count every change
    # none listed: the totals stay, and say where the changes are
    text, page = render(book, "--changes", "0")
    assert page.data["changes"]["changes"] == [] and ("changes", "EUR") not in page.tables
    assert f"{len(eur)} changes; all of them: opp changes" in text
    assert f"{total['new_count']} new (" in text


def test_the_default_number_of_changes_is_the_reports(book):
    from oppcli.cli import dashboard as command

    assert command.CHANGES_SHOWN == dashboard.CHANGES_SHOWN == 50
    assert "--changes N" in book("dashboard", "--help").stdout


# ---------------------------------------------------------------- user text stays text


def test_user_text_is_escaped_everywhere(book):
    text, page = render(book)
    # the only script is the JSON block, and nothing made an element of the evil name
    assert [a.get("type") for a, _ in page.scripts] == ["application/json"]
    assert not any(tag == "img" for tag, _ in page.tags)
    assert "<script>alert" not in text and '<img src="http' not in text
    deal = next(d for d in page.data["top_deals"]["EUR"] if d["id"] == page.data[
        "top_deals"]["EUR"][1]["id"])
    assert deal["name"] == EVIL and deal["customer"] == f"Globex {EVIL}"
    row = page.tables[("top", "EUR")]["rows"][1]
    assert row["name"][1] == EVIL and row["owner"][1] == f"bob {EVIL}"
    json_text = page.scripts[-1][1]
    assert "</" not in json_text and "<" not in json_text


def test_a_stage_label_with_markup_is_text_in_the_charts_too(book):
    settings = book.root / "opp.yaml"
    settings.write_text(settings.read_text().replace("label: Proposal",
                                                     "label: Proposal <b>&</b>"))
    book("validate")
    text, page = render(book)
    assert "<b>&" not in text and "Proposal &lt;b&gt;&amp;&lt;/b&gt;" in text
    assert not any(tag == "b" for tag, _ in page.tags)
    rows = {r["_row"]: r for r in page.tables[("funnel", "EUR")]["rows"]}
    assert rows["proposal"]["stage_label"][1] == "Proposal <b>&</b>"


# ---------------------------------------------------------------- self-contained, accessible


def test_the_page_fetches_nothing(book):
    text, page = render(book)
    for tag, attrs in page.tags:
        assert "src" not in attrs, (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith("#"), (tag, attrs)
        for name in ("xlink:href", "srcset", "poster", "data", "action", "background"):
            assert name not in attrs, (tag, attrs)
    assert not any(tag in ("link", "iframe", "object", "embed", "img", "image", "use", "base",
                           "style") and tag != "style" for tag, _ in page.tags)
    # the only addresses are XML namespace names, which are never fetched (and the evil
    # name's, as text)
    addresses = {a for a in re.findall(r"https?://[^\s\"'<>)&\\]+", text)
                 if not a.startswith("http://example.invalid/")}
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "@import" not in text and "url(" not in text
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in text


def test_the_page_is_accessible_and_responsive(book):
    text, page = render(book)
    assert text.startswith("<!doctype html>\n<html lang=\"en\">")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media print" in text and "@media (max-width" in text
    # one chart per funnel, forecast and won/lost, in each currency
    assert len(page.svgs) == 6
    for svg, children in zip(page.svgs, page.svg_children):
        assert svg["role"] == "img" and svg["aria-label"].strip()
        assert children[:2] == ["title", "desc"], children
        assert "script" not in children
    assert text.count("<figure>") == 6 and text.count("<figcaption>") == 6
    # funnel, forecast, outcome, top deals, accounts, changes per currency; conversion from
    # the history (the last backtest, with nothing forecast or won, is a note)
    assert len(page.tables) == 2 * 6 + 1
    assert "nothing was forecast or won" in text
    levels = [int(tag[1]) for tag, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))  # no level skipped
    assert [h for tag, h in page.headings if tag == "h2"] == ["EUR", "USD",
                                                              "From the history"]


def contrast(a, b):
    def luminance(colour):
        r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
        def f(c):  # an sRGB channel in linear light
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_meet_wcag_aa():
    for colour in (markup.TEXT, markup.MUTED):  # text: 4.5:1 on cards and page
        for background in (markup.CARD, markup.PAGE):
            assert contrast(colour, background) >= 4.5, (colour, background)
    for colour in (markup.AMOUNT, markup.WEIGHTED, markup.OBJECTIVE, markup.WON,
                   markup.LOST):  # bars and slices: 3:1 against the card
        assert contrast(colour, markup.CARD) >= 3, colour


# ---------------------------------------------------------------- footer, output, refusals


def test_footer_names_the_commit_and_the_day(book, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795000000")
    text, page = render(book)
    head = book.head()
    assert f'<code title="{head}" data-commit="{head}">{head[:10]}</code>' in text
    assert "today&#x27;s files, 2026-11-26" in text
    assert '<time datetime="2026-11-18T' in text  # SOURCE_DATE_EPOCH, in UTC
    assert page.data["generated_at"] == "2026-11-18T11:06:40+00:00"
    # the same data and time make the same page, byte for byte
    assert render(book)[0] == text
    # a hand edit not committed yet is said
    path = book.file(book.ids["C"])
    path.write_text(path.read_text().replace("333.33", "333.34"))
    text, page = render(book)
    assert "with 1 file changed since the commit (not committed yet)" in text
    assert page.data["uncommitted"] == 1
    text, page = render(book, "--as-of", "2026-11-26")
    assert "as of the end of 2026-11-26" in text and page.data["uncommitted"] == 0


def test_writes_pipeline_html_by_default(book):
    r = book("dashboard")
    out = book.root / "pipeline.html"
    assert out.is_file() and "wrote pipeline.html" in r.stderr and r.stdout == ""
    assert Page(out.read_text()).data["pipeline"] == book.json("pipeline")
    r = book("dashboard", "-o", str(book.root.parent / "site" / "x.html"), code=1)
    assert "site" in r.stderr
    assert not list(book.root.glob(".pipeline.html.*"))  # no temporary file left


def test_refusals(book):
    head, files = book.head(), sorted(p.name for p in book.root.iterdir())
    r = book("dashboard", "--from", "2027-01-01", "--to", "2026-01-01", code=2)
    assert "--to 2026-01-01 is before --from 2027-01-01" in r.stderr
    book("dashboard", "--by", "owner", code=2)
    r = book("dashboard", "--changes", "-1", code=2)
    assert "--changes" in r.stderr and ">=0" in r.stderr
    r = book("dashboard", "--as-of", "2020-01-01", code=1)
    assert "no commit on or before 2020-01-01" in r.stderr
    assert book.head() == head and book.status() == ""
    assert sorted(p.name for p in book.root.iterdir()) == files  # no page written
    path = book.file(book.ids["B"])
    path.write_text("name: [unclosed\n")
    r = book("dashboard", code=1)
    assert f"opportunities/{book.ids['B']}.yaml:" in r.stderr
    assert not (book.root / "pipeline.html").exists()


def test_an_empty_repo_has_a_page_too(crm):
    text, page = render(crm)
    assert [h for tag, h in page.headings if tag == "h2"] == ["EUR", "From the history"]
    assert "No open opportunities in EUR." in text and page.svgs == []
    assert page.data["pipeline"] == crm.json("pipeline")


def test_missing_pygal_is_one_clear_line(book, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygal", None)  # import pygal raises ImportError
    r = book("dashboard", "-o", "-", code=1)
    assert "pip install pygal" in r.stderr


def test_pygal_stays_out_of_every_other_command_start_up(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    # the dashboard command's own help loads its command module, and pygal stays out
    # (plain `opp --help` loads no command module at all since #18)
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "oppcli", "dashboard",
                        "--help"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0 and "dashboard" in r.stdout
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines()}
    assert "oppcli.cli.dashboard" in imported
    assert not any(m.split(".")[0] == "pygal" or m == "oppcli.dashboard" for m in imported)


def test_changes_window():
    assert dashboard.changes_window(date(2026, 11, 26)) == (date(2026, 11, 20),
                                                             date(2026, 11, 26))
    since, until = dashboard.changes_window(date(2026, 3, 1))
    assert until - since == timedelta(days=6)


def test_el_escapes_children_and_attributes():
    html = markup.el("td", "<b>", markup.Html("<i>x</i>"), title='"q" & <', hidden=True,
                     missing=None, class_="num", data_value="1")
    assert html == ('<td title="&quot;q&quot; &amp; &lt;" hidden class="num" data-value="1">'
                    "&lt;b&gt;<i>x</i></td>")
