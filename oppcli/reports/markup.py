"""The dashboard's building blocks: markup, charts, data tables, cards and the page's
frame (``dashboard.py`` puts the reports into them).

HTML is built by small functions over ``Html`` (text that is already markup):
``el()`` escapes every child and attribute value that is not ``Html``, so user
text (names, customers, owners) can only ever be text. The charts are inline SVG drawn
by pygal, made to fetch nothing and to be read by screen readers.

Pure: no files, no git, no clock.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from string import Template
from typing import Any

from ..domain.money import money_human
from ..errors import OppError

# Okabe-Ito colours (told apart with every common colour vision deficiency), each
# at least 3:1 against the white of the cards (WCAG 2.1, 1.4.11 non-text contrast).
AMOUNT, WEIGHTED, OBJECTIVE = "#0072B2", "#009E73", "#D55E00"
WON, LOST = "#009E73", "#D55E00"
TEXT, MUTED, CARD, PAGE = "#111827", "#4b5563", "#ffffff", "#f1f5f9"


# ---------------------------------------------------------------- markup


class Html(str):
    """Text that is already HTML: ``el`` and ``esc`` never escape it again."""


def esc(value: Any) -> Html:
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def el(tag: str, *children: Any, **attrs: Any) -> Html:
    """``<tag attrs>children</tag>``; ``class_`` is ``class``, ``data_x`` is ``data-x``;
    an attribute that is None or False is left out, True is written bare."""
    parts = [tag]
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(name if value is True else f'{name}="{esc(value)}"')
    inner = "".join(esc(c) for c in children if c is not None)
    return Html(f"<{' '.join(parts)}>{inner}</{tag}>")


def join(items: Iterable[Any]) -> Html:
    return Html("".join(esc(i) for i in items))


def json_block(value: Any) -> Html:
    """JSON inside a ``<script type="application/json">``: ``<``, ``>`` and ``&`` written as
    \\u escapes, so no text (a name holding ``</script>``) can end the block early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Html(f'<script type="application/json" id="opp-data">{text}</script>')


# ---------------------------------------------------------------- charts (pygal)


def _pygal():
    try:
        import pygal
        from pygal.style import Style
    except ImportError:
        raise OppError("opp dashboard draws its charts with pygal, which is not installed; "
                       "install it with: python -m pip install pygal") from None
    return pygal, Style


def _style(colors: Sequence[str]) -> Any:
    _, Style = _pygal()
    font = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
    return Style(background="transparent", plot_background="transparent", font_family=font,
                 foreground=TEXT, foreground_strong=TEXT, foreground_subtle="#cbd5e1",
                 guide_stroke_color="#cbd5e1", major_guide_stroke_color="#94a3b8",
                 opacity="1", opacity_hover="1", transition="0s", colors=tuple(colors),
                 label_font_size=16, major_label_font_size=16, legend_font_size=16,
                 value_font_size=16, tooltip_font_size=16, title_font_size=18)


def _compact(value: float) -> str:
    """An axis label: 950, 12k, 1.2M (the tables give the exact figures)."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:.0f}"


def _geometry(amount: Decimal) -> float:
    # only the bars' lengths are floats; every figure a reader sees is an exact Decimal
    return float(amount)


@dataclass(frozen=True)
class Series:
    name: str
    values: list[Decimal]
    tips: list[str]  # a native tooltip per bar or slice: the exact figure in words


def _accessible(root: Any, *, chart_id: str, title: str, summary: str,
                series: Sequence[Series]) -> Any:
    """pygal's SVG made fit for a page that fetches nothing: no script, no comments (they
    carry the day and web addresses); ``role="img"`` with ``aria-label``, ``<title>``
    and ``<desc>`` first; a ``<title>`` tooltip on every bar or slice, so hovering shows
    the exact figure without pygal's tooltip script."""
    from pygal.etree import etree

    for parent in list(root.iter()):
        for child in list(parent):
            # a comment, a script, or pygal's data for its script
            if callable(child.tag) or child.tag == "script" or (
                    child.tag == "desc" and child.get("class")):
                parent.remove(child)
    for child in list(root):
        if child.tag == "title":  # pygal's own ("Pygal" when the chart has no title)
            root.remove(child)
    root.set("role", "img")
    root.set("aria-label", f"{title}. {summary}")
    t = etree.Element("title")
    t.text = title
    t.set("id", f"{chart_id}-title")
    d = etree.Element("desc")
    d.text = summary
    d.set("id", f"{chart_id}-desc")
    root.insert(0, d)
    root.insert(0, t)
    for index, s in enumerate(series):
        groups = [g for g in root.iter("g")
                  if f"serie-{index}" in (g.get("class") or "").split()]
        if not groups:
            continue
        points = [g for g in groups[0].iter("g")
                  if (g.get("class") or "").split()[:1] in (["bar"], ["slice"])]
        for point, tip in zip(points, s.tips, strict=True):
            tip_el = etree.SubElement(point, "title")
            tip_el.text = tip
    return root


def chart(kind: str, chart_id: str, title: str, summary: str, labels: Sequence[str],
          series: Sequence[Series], colors: Sequence[str], **config: Any) -> Html:
    """One inline SVG chart: ``kind`` a pygal chart class (Bar, HorizontalBar, Pie)."""
    pygal, _ = _pygal()
    options = dict(js=[], disable_xml_declaration=True, style=_style(colors), width=440,
                   height=320, margin=8, spacing=12, truncate_label=-1, truncate_legend=-1,
                   legend_at_bottom=True, value_formatter=_compact, max_scale=6, min_scale=3)
    options.update(config)
    graph = getattr(pygal, kind)(**options)
    graph.uuid = chart_id  # pygal names the <svg> chart-<uuid> and scopes its CSS by it
    if labels:
        graph.x_labels = list(labels)
    for s in series:
        graph.add(s.name, [_geometry(v) for v in s.values])
    graph.add_xml_filter(lambda root: _accessible(root, chart_id=f"chart-{chart_id}",
                                                  title=title, summary=summary,
                                                  series=series))
    return Html(graph.render(is_unicode=True))


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | money | count | date


def _cell(column: Column, value: Any, tag: str = "td") -> Html:
    scope = "row" if tag == "th" else None
    if column.kind == "money":
        return el(tag, money_human(Decimal(value)), class_="num", data_key=column.key,
                  data_value=value, scope=scope)
    if column.kind == "count":
        return el(tag, value, class_="num", data_key=column.key, data_value=value, scope=scope)
    if column.kind == "date":
        return el(tag, value or "–", data_key=column.key, data_value=value or "", scope=scope)
    return el(tag, value, data_key=column.key, scope=scope)


def table(name: str, currency: str, caption: str, columns: Sequence[Column],
          rows: Sequence[dict], total: dict | None = None, total_label: str = "Total",
          row_header: str = "") -> Html:
    """A data table: every figure in a ``data-value`` attribute as the JSON has it (plain
    decimals), and in the cell as people read it (thousands separators). The cell of
    ``row_header`` (default: the first column) names its row: a row header."""
    row_header = row_header or columns[0].key
    head = el("thead", el("tr", join(el("th", c.header, scope="col",
                                        class_="num" if c.kind in ("money", "count")
                                        else None) for c in columns)))
    body = el("tbody", join(el("tr", join(_cell(c, r.get(c.key),
                                                "th" if c.key == row_header else "td")
                                          for c in columns),
                               data_row=r.get("_row")) for r in rows))
    foot = None
    if total is not None:
        cells = [el("th", total_label, scope="row")]
        cells += [_cell(c, total[c.key]) if c.key in total else el("td")
                  for c in columns[1:]]
        foot = el("tfoot", el("tr", join(cells), data_row="total"))
    return el("div", el("table", el("caption", caption), head, body, foot,
                        data_table=name, data_currency=currency),
              class_="table-wrap", role="region", aria_label=caption, tabindex="0")


# ---------------------------------------------------------------- cards and the page's frame


def card(title: str, *body: Any, kind: str, split: bool = False) -> Html:
    """A titled card. ``split``: its parts (a figure and its data) sit side by side where
    there is room, one under the other on a phone."""
    if split:
        body = (el("div", *(el("div", b, class_="part") for b in body), class_="parts"),)
    return el("section", el("h3", title), *body, class_=f"card {kind}")


def figure(svg: Html | None, title: str, currency: str, summary: str) -> Html:
    """The chart with its caption; without a chart (nothing but zeros to draw) the caption
    alone says what the table holds."""
    lead = el("strong", f"{title}, {currency}. ")
    if svg is None:
        return el("p", lead, summary, " Nothing but zeros to draw: the table has it all.",
                  class_="note")
    return el("figure", svg, el("figcaption", lead, summary))


PAGE_TEMPLATE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light">
<meta name="generator" content="$generator">
<title>$title</title>
<style>
$css
</style>
</head>
<body>
$body
</body>
</html>
""")

CSS = Template("""
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: $page; color: $text; line-height: 1.45;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main, footer { max-width: 80rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1.25rem; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.35rem; margin: 1.5rem 0 .75rem; padding-bottom: .25rem;
  border-bottom: 2px solid $text; }
h3 { font-size: 1.1rem; margin: 0 0 .5rem; }
.sub, .note, figcaption, footer { color: $muted; }
.sub { margin: .25rem 0 0; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .5rem; padding: 0;
  margin: .75rem 0 0; }
nav a { display: inline-block; padding: .35rem .8rem; border: 1px solid $muted;
  border-radius: 999px; color: $text; background: $card; text-decoration: none; }
nav a:hover, nav a:focus-visible { background: $text; color: $card; }
a:focus-visible, .table-wrap:focus-visible { outline: 3px solid $amount; outline-offset: 2px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 10rem), 1fr));
  gap: .75rem; margin: 0 0 1rem; }
.kpis div { background: $card; border-radius: .5rem; padding: .6rem .8rem;
  border: 1px solid #cbd5e1; }
.kpis dt { font-size: .85rem; color: $muted; }
.kpis dd { margin: 0; font-size: 1.3rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.grid { display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 26rem), 1fr)); }
.parts { display: grid; gap: .5rem 1.25rem; align-items: start;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr)); }
.part { min-width: 0; }
.card { background: $card; border: 1px solid #cbd5e1; border-radius: .5rem; padding: 1rem;
  margin: 0 0 1rem; min-width: 0; }
.grid .card { margin: 0; }
.card.wide { margin-top: 1rem; }
.outcome .parts { grid-template-columns: repeat(auto-fit, minmax(min(100%, 15rem), 1fr)); }
figure { margin: 0 0 .75rem; }
figure svg { display: block; width: 100%; max-width: 32rem; height: auto; }
.outcome figure svg { max-width: 16rem; margin: 0 auto; }
.top table, .changes table { min-width: 40rem; }
figcaption { font-size: .9rem; margin-top: .25rem; }
.rate { margin: 0 0 .5rem; }
.rate strong { font-size: 1.3rem; }
.empty { font-style: italic; }
.note, .summary { font-size: .9rem; margin: 0 0 .5rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
caption { text-align: left; font-size: .85rem; color: $muted; padding: 0 0 .25rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #e2e8f0; text-align: left;
  vertical-align: top; }
td[data-key="group"], td[data-key="date"], td[data-key="close_date"] { white-space: nowrap; }
thead th { border-bottom: 2px solid #94a3b8; white-space: nowrap; }
tbody th { font-weight: 500; }
/* free text (a long name, an address in it) wraps anywhere rather than widen the page */
[data-key="name"], [data-key="customer"], [data-key="owner"], [data-key="change"],
[data-key="author"] { overflow-wrap: anywhere; min-width: 6rem; }
tfoot th, tfoot td { border-top: 2px solid #94a3b8; font-weight: 650; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
footer { padding-top: .5rem; padding-bottom: 2rem; font-size: .85rem; }
footer code { color: $text; }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  header, main, footer { padding: 0 .6rem; }
  .card { padding: .75rem; }
  .kpis dd { font-size: 1.1rem; }
  th, td { padding: .25rem .35rem; }
}
@media print {
  @page { margin: 12mm; }
  body { background: #fff; font-size: 10pt; }
  header, main, footer { max-width: none; padding: 0; }
  nav { display: none; }
  .currency + .currency { break-before: page; }
  .card, .kpis div { border-color: #999; break-inside: avoid; }
  .card.top, .card.changes { break-inside: auto; }  /* long lists flow on */
  h3 { break-after: avoid; }
  .table-wrap { overflow: visible; }
  .kpis { grid-template-columns: repeat(5, minmax(0, 1fr)); gap: .4rem; }
  .kpis dd { font-size: 11pt; }
  .grid { grid-template-columns: minmax(0, 1fr); gap: .6rem; }
  .parts { grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); }
  .outcome .parts { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  .card { padding: .5rem .75rem; margin-bottom: .6rem; }
  table { font-size: 8.5pt; }
  th, td { padding: .2rem .3rem; }
  figure svg { max-height: 16rem; width: auto; max-width: 100%; }
  .top table, .changes table { min-width: 0; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
""").substitute(page=PAGE, text=TEXT, muted=MUTED, card=CARD, amount=AMOUNT)
