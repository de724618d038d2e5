"""Checks of stored data: every rule an opportunity file must hold, as small functions
returning ``Problem`` lists (file order). ``opp validate``, every load and the team
merge run them; the commands' rules make sure opp itself never writes a breach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import Opportunity, ProductLine, QuoteLine
from .money import line_total
from .panels import document_path_problem
from .products import products_total
from .settings import Settings
from .stages import stage_problems


@dataclass(frozen=True)
class Problem:
    """A rule that stored data breaks; ``loc`` is the path to the field."""

    loc: tuple
    message: str


def _unique_ids(items: Sequence, panel: str) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for i, item in enumerate(items):
        if item.id in seen:
            out.append(Problem((panel, i, "id"), f"{panel} id '{item.id}' appears twice"))
        seen.add(item.id)
    return out


def _line_problems(lines: Sequence, where: tuple) -> list[Problem]:
    out = []
    for i, line in enumerate(lines):
        expected = line_total(line.quantity, line.unit_price, line.discount)
        if line.total != expected:
            out.append(Problem((*where, i, "total"),
                               f"line total {line.total} should be {expected} "
                               f"(quantity x unit price x (1 - discount/100))"))
    return out


def _same_lines(products: Sequence[ProductLine], quote_lines: Sequence[QuoteLine]) -> bool:
    def key(line) -> tuple:
        return (line.sku.casefold(), line.quantity, line.unit_price, line.discount)
    return sorted(map(key, products)) == sorted(key(q) for q in quote_lines if q.sku)


def problems(opp: Opportunity, settings: Settings) -> list[Problem]:
    """Every rule the stored opportunity breaks, in file order; empty when all hold."""
    return [Problem(loc, message) for loc, message in
            stage_problems(opp.stage, opp.close_date, opp.lost_reason, settings)
            ] + form_problems(opp)


def form_problems(opp: Opportunity) -> list[Problem]:
    """The rules of a stored opportunity that hold whatever the settings (R4-R15), in file
    order: ``problems`` without the stage checks."""
    out: list[Problem] = []
    out += _line_problems(opp.products, ("products",))
    total = products_total(opp.products)
    if opp.amount_source == "products":
        if not opp.products:
            out.append(Problem(("amount_source",),
                               "amount_source is 'products' but there are no products; "
                               "use 'manual'"))
        elif opp.amount != total:
            out.append(Problem(("amount",), f"amount {opp.amount} should be {total}, the total "
                               "of the products (R4)"))
    elif opp.amount_source == "manual" and opp.products:
        out.append(Problem(("amount_source",), "an opportunity with products takes its amount "
                           f"from them: amount_source 'products', amount {total} (R5)"))

    accepted = [q for q in opp.quotes if q.status == "accepted"]
    if len(accepted) > 1:
        out.append(Problem(("quotes",), "more than one accepted quote (R15): "
                           + ", ".join(q.id for q in accepted)))
    out += _renegotiation_problems(opp)
    for i, document in enumerate(opp.documents):
        problem = document_path_problem(opp.id, document.path)
        if problem:
            out.append(Problem(("documents", i, "path"), problem))
    for i, quote in enumerate(opp.quotes):
        out += _line_problems(quote.lines, ("quotes", i, "lines"))
        quote_sum = products_total(quote.lines)
        if quote.total != quote_sum:
            out.append(Problem(("quotes", i, "total"), f"quote {quote.id} total {quote.total} "
                               f"should be {quote_sum}, the sum of its lines (R12)"))
        out += _unique_ids(quote.lines, f"quotes.{quote.id}.lines")
    if opp.amount_source == "quote":
        if not accepted:
            superseded = [q.id for q in opp.quotes if q.status == "superseded"]
            why = (f" (quote {superseded[-1]} was superseded when the deal was reopened, "
                   "R15a)" if superseded else "")
            use = (f"'products', amount {total} (R4)" if opp.products else "'manual' (R5)")
            out.append(Problem(("amount_source",), "amount_source is 'quote' but no quote is "
                               f"accepted{why}; use {use}"))
        else:
            quote = accepted[0]
            if opp.amount != quote.total:
                out.append(Problem(("amount",), f"amount {opp.amount} should be "
                                   f"{quote.total}, the total of accepted quote {quote.id} (R14)"))
            if not _same_lines(opp.products, quote.lines):
                out.append(Problem(("products",), f"products should be the catalog lines of "
                                   f"accepted quote {quote.id} (R14)"))
    out += quote_problems(opp)
    for panel in ("products", "quotes", "contacts", "partners", "competitors", "activities",
                  "documents", "notes"):
        out += _unique_ids(getattr(opp, panel), panel)
    return out


def _renegotiation_problems(opp: Opportunity) -> list[Problem]:
    """R14 with R15a: accepting a quote wins the deal with its total, and reopening the
    deal supersedes the quote; so beside a superseded quote, an accepted one gives the
    amount. (Without a superseded quote this is not asked: opp 0.2.0 reopened deals and
    left their quote accepted, and those files stay valid.)"""
    if opp.amount_source == "quote" or not any(q.status == "superseded" for q in opp.quotes):
        return []
    return [Problem(("quotes", i, "status"),
                    f"quote {q.id} is accepted but the amount is not its total "
                    f"(amount_source '{opp.amount_source}'); accepting a quote wins the deal "
                    "with its total (R14), and reopening the deal marks the quote superseded "
                    "(R15a)")
            for i, q in enumerate(opp.quotes) if q.status == "accepted"]


def quote_problems(opp: Opportunity) -> list[Problem]:
    """What stored quotes break beyond totals and R15 (checked in ``form_problems``):
    a status agrees with its dates, dates run created <= sent <= closed, and a quote
    that left the draft state has lines. A superseded quote (R15a) keeps the dates
    of its acceptance. Modules play no part: quotes stored while the module is off
    are checked all the same."""
    out: list[Problem] = []
    for i, q in enumerate(opp.quotes):
        where = ("quotes", i)
        if q.status == "draft":
            if q.sent is not None:
                out.append(Problem((*where, "sent"), f"quote {q.id} is a draft but has a sent "
                                   "date; a sent quote has status 'sent'"))
            if q.closed is not None:
                out.append(Problem((*where, "closed"), f"quote {q.id} is a draft but has a "
                                   "closed date; a closed quote is 'accepted', 'rejected' or "
                                   "'superseded'"))
        else:
            if q.sent is None:
                out.append(Problem((*where, "status"), f"quote {q.id} is {q.status} but has no "
                                   "sent date (R13: draft -> sent -> accepted | rejected; "
                                   "R15a: accepted -> superseded)"))
            if not q.lines:
                out.append(Problem((*where, "status"), f"quote {q.id} is {q.status} but has no "
                                   "lines; only a quote with lines is sent"))
        if q.status == "sent" and q.closed is not None:
            out.append(Problem((*where, "closed"), f"quote {q.id} is sent (still open) but has a "
                               "closed date"))
        if q.status in ("accepted", "rejected", "superseded") and q.closed is None:
            out.append(Problem((*where, "status"), f"quote {q.id} is {q.status} but has no "
                               "closed date"))
        if q.sent is not None and q.sent < q.created:
            out.append(Problem((*where, "sent"), f"quote {q.id} was sent ({q.sent}) before it "
                               f"was created ({q.created})"))
        if q.closed is not None and q.closed < (q.sent or q.created):
            out.append(Problem((*where, "closed"), f"quote {q.id} was closed ({q.closed}) "
                               f"before it was {'sent' if q.sent else 'created'} "
                               f"({q.sent or q.created})"))
    return out
