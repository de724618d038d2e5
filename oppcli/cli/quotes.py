"""The Quotes panel: offers made from an opportunity, sent, and closed (R11-R15).

``opp quote …`` makes and edits quotes; ``opp close-quote`` closes one as accepted
(the deal is won with the quote's total, in one commit) or rejected.
"""

from __future__ import annotations

import click

from ..store.repo import Repo
from .app import State, cli, note, pass_state
from .opportunities import amount_words, apply_change
from .output import emit_csv, emit_json, format_option, table
from .params import DATE, DISCOUNT, LINE, MONEY, QUANTITY, SKU


@cli.group()
def quote() -> None:
    """Quotes: offers to the customer, made from an opportunity's products.

    A quote starts as a draft holding a copy of the products; add catalog or
    manual lines, send it, then close it with 'opp close-quote'. Accepting it
    closes the deal as won with the quote's total.

    \b
    Example:  Q=$(opp quote new 4k7q) && opp quote send 4k7q $Q
    """


def _load(state: State, ref: str):
    """The opportunity ``ref``, read-only, once the quotes module is known to be on; its
    customer is the account's name (what a quote shows)."""
    from ..domain.products import require_module
    from ..store.accounts import with_names

    repo = state.repo
    require_module(repo.settings, "quotes")
    return with_names(repo, [repo.load(repo.resolve(ref))])[0]


def _quote_of(after, quote_ref: str):
    from ..domain.quotes import find_quote

    return find_quote(after, quote_ref)


def _line_words(line) -> str:
    from ..domain.money import money_str, plain

    what = line.sku if line.sku else repr(line.description)
    words = f"{what} x{plain(line.quantity)} at {money_str(line.unit_price)}"
    if line.discount:
        words += f" -{plain(line.discount)}%"
    return words


def _total_note(after, quote_ref: str) -> None:
    from ..domain.money import money_human

    q = _quote_of(after, quote_ref)
    note(f"{after.id}: quote {q.id} total {money_human(q.total, after.currency)} "
         f"({len(q.lines)} line(s), {q.status})")


# ---------------------------------------------------------------- new


@quote.command("new")
@click.argument("ref", metavar="ID")
@pass_state
def quote_new(state: State, ref: str) -> None:
    """Create a draft quote from the products; prints the quote id alone on stdout.

    The quote starts with a copy of the opportunity's product lines as they are
    now (R11); later product changes do not touch it.

    \b
    Example:  Q=$(opp quote new 4k7q)
    """
    from ..domain import quotes
    from ..domain.money import money_str
    from ..env import today

    def change(opp, repo: Repo):
        return quotes.new_quote(opp, repo.settings, today=today())

    def describe(before, after) -> str:
        q = after.quotes[-1]
        return (f"new quote {q.id} ({len(q.lines)} line(s) from the products, "
                f"total {money_str(q.total)})")

    after = apply_change(state, ref, "quote-new", change, describe)
    click.echo(after.quotes[-1].id)


# ---------------------------------------------------------------- editing a draft


@quote.command("add-line")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@click.option("--sku", type=SKU, help="A catalog product: a catalog line.")
@click.option("--description", type=LINE,
              help="A manual line's text (with --price); with --sku, replaces the catalog name.")
@click.option("--price", type=MONEY,
              help="Unit price (a catalog line defaults to the catalog price).")
@click.option("--qty", type=QUANTITY, default="1", show_default=True, help="Quantity.")
@click.option("--discount", type=DISCOUNT, default="0", show_default=True,
              help="Discount in percent, 0-100.")
@pass_state
def quote_add_line(state: State, ref: str, quote: str, sku, description, price, qty,
                   discount) -> None:
    """Add a catalog line (--sku) or a manual line (--description and --price) to a draft.

    Catalog lines need a SKU of the catalog and take its name and price unless
    told otherwise; manual lines have no SKU and never become products (R12).

    \b
    Example:  opp quote add-line 4k7q 7hq2 --sku SRV-01 --qty 2 --discount 10
              opp quote add-line 4k7q 7hq2 --description "Installation" --price 500
    """
    from ..domain import quotes
    from ..errors import UsageError

    if sku is None and description is None:
        raise UsageError("say what the line is: --sku SKU for a catalog product, or "
                         "--description TEXT --price DEC for a manual line")
    if sku is None and price is None:
        raise UsageError("a manual line needs its unit price: --price DEC")

    def change(opp, repo: Repo):
        return quotes.add_line(opp, repo.settings, repo.catalog, quote, sku=sku,
                               description=description, unit_price=price, quantity=qty,
                               discount=discount)

    def describe(before, after) -> str:
        q = _quote_of(after, quote)
        return f"quote {q.id}: add line {_line_words(q.lines[-1])}"

    after = apply_change(state, ref, "quote-add-line", change, describe)
    _total_note(after, quote)


@quote.command("update-line")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@click.argument("line", metavar="LINE")
@click.option("--qty", type=QUANTITY, help="New quantity.")
@click.option("--price", type=MONEY, help="New unit price.")
@click.option("--discount", type=DISCOUNT, help="New discount in percent, 0-100.")
@click.option("--description", type=LINE, help="New description.")
@pass_state
def quote_update_line(state: State, ref: str, quote: str, line: str, qty, price, discount,
                      description) -> None:
    """Change a line of a draft quote; the totals follow.

    LINE is the line id (see 'opp quote show'), or a SKU that is on one line only.

    \b
    Example:  opp quote update-line 4k7q 7hq2 SRV-01 --qty 3 --discount 15
    """
    from ..domain import quotes
    from ..errors import UsageError

    if qty is None and price is None and discount is None and description is None:
        raise UsageError("nothing to change; give --qty, --price, --discount or --description")

    def change(opp, repo: Repo):
        return quotes.update_line(opp, repo.settings, quote, line, quantity=qty,
                                  unit_price=price, discount=discount, description=description)

    def describe(before, after) -> str:
        q = _quote_of(after, quote)
        old = quotes.find_quote_line(before, _quote_of(before, quote), line)
        new = next(x for x in q.lines if x.id == old.id)
        return f"quote {q.id}: update line {old.id} {_line_words(old)} -> {_line_words(new)}"

    after = apply_change(state, ref, "quote-update-line", change, describe)
    _total_note(after, quote)


@quote.command("remove-line")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@click.argument("line", metavar="LINE")
@pass_state
def quote_remove_line(state: State, ref: str, quote: str, line: str) -> None:
    """Remove a line of a draft quote; the total follows.

    LINE is the line id (see 'opp quote show'), or a SKU that is on one line only.

    \b
    Example:  opp quote remove-line 4k7q 7hq2 LIC-10
    """
    from ..domain import quotes

    def change(opp, repo: Repo):
        return quotes.remove_line(opp, repo.settings, quote, line)

    def describe(before, after) -> str:
        q = _quote_of(before, quote)
        gone = quotes.find_quote_line(before, q, line)
        return f"quote {q.id}: remove line {gone.id} ({gone.sku or gone.description})"

    after = apply_change(state, ref, "quote-remove-line", change, describe)
    _total_note(after, quote)


@quote.command("send")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@pass_state
def quote_send(state: State, ref: str, quote: str) -> None:
    """Mark a draft quote as sent to the customer (today); it can no longer be edited.

    \b
    Example:  opp quote send 4k7q 7hq2 && opp quote print 4k7q 7hq2 -o quote.md
    """
    from ..domain import quotes
    from ..domain.money import money_str
    from ..env import today

    def change(opp, repo: Repo):
        return quotes.send_quote(opp, repo.settings, quote, today=today())

    def describe(before, after) -> str:
        q = _quote_of(after, quote)
        return f"send quote {q.id} (total {money_str(q.total)})"

    after = apply_change(state, ref, "quote-send", change, describe)
    _total_note(after, quote)


# ---------------------------------------------------------------- closing (R14, R15)


@cli.command("close-quote")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@click.option("--accepted", is_flag=True,
              help="The customer accepted: the deal is won with the quote's total.")
@click.option("--rejected", is_flag=True, help="The customer said no: only the quote changes.")
@click.option("--date", "close_date", type=DATE, help="The day of the answer (default today).")
@pass_state
def close_quote(state: State, ref: str, quote: str, accepted: bool, rejected: bool,
                close_date) -> None:
    """Close a sent quote as accepted or rejected.

    Accepting does, in one commit (R14): the products become the quote's catalog
    lines, the amount its total (manual lines included), and the opportunity
    is closed won on --date (default today). Only one quote can be accepted,
    and none of a closed opportunity (R15). Rejecting changes only the quote.

    \b
    Example:  opp close-quote 4k7q 7hq2 --accepted --date 2026-11-30
    """
    from ..domain import quotes
    from ..domain.money import money_str
    from ..env import today
    from ..errors import UsageError

    if accepted == rejected:
        raise UsageError("say how it ended: --accepted or --rejected"
                         + (", not both" if accepted else ""))
    outcome = "accepted" if accepted else "rejected"

    def change(opp, repo: Repo):
        return quotes.close_quote(opp, repo.settings, quote, accepted=outcome == "accepted",
                                  today=today(), close_date=close_date)

    def describe(before, after) -> str:
        q = _quote_of(after, quote)
        if outcome == "rejected":
            return f"quote {q.id} rejected ({q.closed})"
        return (f"quote {q.id} accepted: closed won {after.close_date}, "
                f"amount {money_str(after.amount)}")

    after = apply_change(state, ref, "close-quote", change, describe)
    if outcome == "accepted":
        note(f"{after.id}: won; {amount_words(after)}; {len(after.products)} product line(s) "
             "from the quote's catalog lines")


# ---------------------------------------------------------------- reading


def _render(opp, q) -> str:
    """A quote as a card for people."""
    from ..domain.money import money_human, number_human
    from ..reports.quote_document import status_words

    fields = [("opportunity", f"{opp.id}  {opp.name}"), ("customer", opp.customer),
              ("status", status_words(q)), ("created", str(q.created)),
              ("currency", opp.currency)]
    width = max(len(k) for k, _ in fields)
    lines = [f"Quote {q.id}", ""] + [f"  {k:<{width}}  {v}" for k, v in fields]
    lines.append("")
    if q.lines:
        rows = [[x.id, x.sku or "-", x.description, number_human(x.quantity),
                 money_human(x.unit_price), f"{number_human(x.discount)} %",
                 money_human(x.total)] for x in q.lines]
        lines.extend("  " + row for row in table(
            rows, ["line", "sku", "description", "qty", "unit price", "discount", "total"],
            align=["left", "left", "left", "right", "right", "right", "right"]).splitlines())
        lines.append("")
    else:
        lines.extend([f"  no lines yet; add one with: opp quote add-line {opp.id} {q.id} "
                      "--sku SKU", ""])
    lines.append(f"  total  {money_human(q.total, opp.currency)}")
    return "\n".join(lines)


def _record(opp, q) -> dict:
    from ..domain.views import quote_record

    return {**quote_record(q), "currency": opp.currency,
            "opportunity": {"id": opp.id, "name": opp.name, "customer": opp.customer,
                            "owner": opp.owner, "stage": opp.stage}}


@quote.command("show")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@format_option("text", "json", "markdown")
@pass_state
def quote_show(state: State, ref: str, quote: str, fmt: str) -> None:
    """Show one quote: status, dates, lines and total.

    --format markdown prints the printable document (as 'opp quote print').

    \b
    Example:  opp quote show 4k7q 7hq2 --format json
    """
    from ..reports.quote_document import markdown

    opp = _load(state, ref)
    q = _quote_of(opp, quote)
    if fmt == "json":
        emit_json(_record(opp, q))
    elif fmt == "markdown":
        click.echo(markdown(opp, q, state.locale), nl=False)
    else:
        click.echo(_render(opp, q))


LIST_COLUMNS = ["id", "status", "created", "sent", "closed", "line_count", "total", "currency"]


@quote.command("list")
@click.argument("ref", metavar="ID")
@format_option("table", "json", "csv")
@pass_state
def quote_list(state: State, ref: str, fmt: str) -> None:
    """List the quotes of an opportunity, oldest first.

    \b
    Example:  opp quote list 4k7q --format csv
    """
    from ..domain.money import money_str

    opp = _load(state, ref)
    rows = [{"id": q.id, "status": q.status, "created": q.created.isoformat(),
             "sent": q.sent.isoformat() if q.sent else None,
             "closed": q.closed.isoformat() if q.closed else None,
             "line_count": len(q.lines), "total": money_str(q.total), "currency": opp.currency}
            for q in opp.quotes]
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv(rows, LIST_COLUMNS)
    elif not rows:
        note(f"{opp.id} has no quotes yet; create one with: opp quote new {opp.id}")
    else:
        from decimal import Decimal

        from ..domain.money import money_human

        click.echo(table([[r["id"], r["status"], r["created"], r["sent"] or "-",
                           r["closed"] or "-", r["line_count"],
                           money_human(Decimal(r["total"]), r["currency"])] for r in rows],
                         ["quote", "status", "created", "sent", "closed", "lines", "total"],
                         align=["left", "left", "left", "left", "left", "right", "right"]))


@quote.command("print")
@click.argument("ref", metavar="ID")
@click.argument("quote", metavar="QUOTE")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the document to FILE instead of stdout.")
@click.option("--lang", metavar="it|en",
              help="The document's language: its words, numbers and dates (default: the "
                   "locale, see opp --locale). A locale such as it_CH works too.")
@pass_state
def quote_print(state: State, ref: str, quote: str, output: str | None,
                lang: str | None) -> None:
    """Print a quote as a Markdown document to send: customer, lines, discounts, total.

    The words come from the message catalogue of the language (English or
    Italian: Preventivo, Quantità, Prezzo unitario, Sconto, Totale), money and
    dates are written its way (1.234,50 €, 15 gennaio 2027).

    \b
    Example:  opp quote print 4k7q 7hq2 -o acme-quote.md
              opp quote print 4k7q 7hq2 --lang it -o preventivo.md
    """
    from pathlib import Path

    from ..reports.messages import has_language, languages
    from ..reports.quote_document import markdown
    from .app import checked_locale

    locale = checked_locale(lang, "--lang") if lang else state.locale
    if lang and not has_language(locale):
        raise click.UsageError(f"--lang {lang}: no message catalogue speaks it; languages: "
                               f"{', '.join(languages())}")
    if not has_language(locale):
        note(f"note: no message catalogue speaks {locale}; the words are English, the "
             "numbers and dates its way")
    opp = _load(state, ref)
    q = _quote_of(opp, quote)
    text = markdown(opp, q, locale)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.FileError(output, hint=exc.strerror or str(exc)) from None
    note(f"wrote quote {q.id} of {opp.id} to {output}")
