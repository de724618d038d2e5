"""The Quotes panel, rules R11-R15 of ``domain.md``, as pure functions.

A quote is an offer issued to the customer from an opportunity. It starts as a
copy of the opportunity's product lines (R11), gains catalog and manual lines
(R12) while it is a draft, is sent, and is closed as accepted or rejected (R13).
Accepting it closes the deal as won in one change (R14); one accepted quote per
opportunity at a time (R15): reopening the deal marks the accepted quote superseded
(R15a, in ``opportunity.reopen``), and another one can be accepted.

Decisions beyond the domain text:

- only a sent quote can be accepted or rejected (a draft is refused with the hint
  to send it first), and a quote without lines cannot be sent;
- a quote is closed on the day the customer answers: today unless ``--date``, never
  in the future and never before the day it was sent;
- quotes of a closed opportunity are read-only like the rest of it (R17);
- with the quotes module off every quote command refuses (R3); catalog lines also
  need the catalog module, manual lines do not.

Like ``rules.py``: models in, new models out, or an ``OppError`` saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from ..errors import NotFound, RuleError, UsageError
from . import ids, opportunity, products, stages
from .model import Catalog, CatalogItem, Opportunity, Quote, QuoteLine
from .money import cents, line_total
from .settings import Settings


def find_quote(opp: Opportunity, ref: str) -> Quote:
    """A quote of the opportunity by its id or a unique prefix of it."""
    key = ref.strip().casefold()
    if not key:
        raise UsageError("the quote id is empty")
    exact = [q for q in opp.quotes if q.id == key]
    if exact:
        return exact[0]
    matches = [q for q in opp.quotes if q.id.startswith(key)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFound(f"'{ref}' matches {len(matches)} quotes of {opp.id}: "
                       f"{', '.join(q.id for q in matches)}; type more of the id")
    if not opp.quotes:
        raise NotFound(f"no quote '{ref}' on {opp.id}; it has none yet, create one with: "
                       f"opp quote new {opp.id}")
    have = ", ".join(f"{q.id} ({q.status})" for q in opp.quotes)
    raise NotFound(f"no quote '{ref}' on {opp.id}{stages.near(key, [q.id for q in opp.quotes])}; "
                   f"it has: {have}")


def find_quote_line(opp: Opportunity, quote: Quote, ref: str) -> QuoteLine:
    """A line of a quote by its line id, or by its SKU when that SKU is on one line."""
    return products.find_line(quote.lines, ref, "quote", f"{opp.id} quote {quote.id}")


def catalog_lines(quote: Quote) -> list[QuoteLine]:
    """The lines with a SKU: what becomes the products when the quote is accepted (R14)."""
    return [line for line in quote.lines if line.sku]


def quotes_total(lines: Iterable[QuoteLine]) -> Decimal:
    """R12: the sum of the rounded line totals."""
    return products.bounded(products.products_total(lines), "the quote total")


def _closed_words(quote: Quote) -> str:
    """'accepted on 2026-11-26'; a superseded quote says when it had been accepted."""
    when = f" on {quote.closed}" if quote.closed else ""
    if quote.status == "superseded":
        return f"superseded: accepted{when}, then its deal was reopened (R15a)"
    return f"{quote.status}{when}"


def _editable(opp: Opportunity, settings: Settings, ref: str, doing: str) -> Quote:
    """The draft quote ``ref`` of an open opportunity, or a refusal saying why not."""
    products.require_module(settings, "quotes")
    quote = find_quote(opp, ref)
    stages.ensure_open(opp, settings, doing)
    if quote.status == "sent":
        raise RuleError(f"quote {quote.id} of {opp.id} was sent on {quote.sent}; only draft "
                        f"quotes can be edited (R13); start a new one with: "
                        f"opp quote new {opp.id}")
    if quote.status != "draft":
        raise RuleError(f"quote {quote.id} of {opp.id} is closed ({_closed_words(quote)}); "
                        "closed quotes never change (R13)")
    return quote


def _with_quote(opp: Opportunity, quote: Quote) -> Opportunity:
    """The opportunity with ``quote`` in place of the quote of the same id, total recomputed."""
    quote = quote.model_copy(update={"total": quotes_total(quote.lines)})
    return opp.model_copy(update={"quotes": [quote if q.id == quote.id else q
                                             for q in opp.quotes]})


def _line_id(quote: Quote) -> str:
    return ids.new_item_id({line.id for line in quote.lines})


def new_quote(opp: Opportunity, settings: Settings, *, today: date,
              quote_id: str | None = None) -> Opportunity:
    """R11: a draft quote copying the product lines as they are now; it is the last quote.

    The copied lines keep the product line ids, so that accepting the quote gives
    the products back under the same ids. Later product changes do not touch it.
    """
    products.require_module(settings, "quotes")
    stages.ensure_open(opp, settings, "make a quote")
    taken = {q.id for q in opp.quotes}
    quote_id = quote_id or ids.new_item_id(taken)
    if quote_id in taken:
        raise RuleError(f"{opp.id} already has a quote '{quote_id}'")
    lines = [QuoteLine(id=p.id, sku=p.sku, description=p.name, quantity=p.quantity,
                       unit_price=p.unit_price, discount=p.discount, total=p.total)
             for p in opp.products]
    quote = Quote(id=quote_id, status="draft", created=today, lines=lines,
                  total=quotes_total(lines))
    return opp.model_copy(update={"quotes": [*opp.quotes, quote]})


def add_catalog_line(opp: Opportunity, settings: Settings, quote_ref: str, item: CatalogItem,
                     *, quantity: Decimal = Decimal(1), unit_price: Decimal | None = None,
                     discount: Decimal = Decimal(0), description: str | None = None,
                     line_id: str | None = None) -> Opportunity:
    """R12: a catalog line (the item comes from the catalog); price defaults to the catalog's.

    Catalog prices are in the settings' currency: an opportunity in another
    currency needs the unit price.
    """
    products.require_module(settings, "quotes")
    products.require_module(settings, "catalog")
    quote = _editable(opp, settings, quote_ref, "change its quotes")
    if unit_price is None:
        if opp.currency != settings.currency:
            raise RuleError(f"catalog prices are in {settings.currency} and {opp.id} is in "
                             f"{opp.currency}; give the unit price with --price")
        unit_price = item.price
    price = cents(unit_price)
    line = QuoteLine(id=line_id or _line_id(quote), sku=item.sku,
                     description=description or item.name, quantity=quantity,
                     unit_price=price, discount=discount,
                     total=products.bounded(line_total(quantity, price, discount),
                                            "the line total"))
    return _with_quote(opp, quote.model_copy(update={"lines": [*quote.lines, line]}))


def add_manual_line(opp: Opportunity, settings: Settings, quote_ref: str, *, description: str,
                    unit_price: Decimal, quantity: Decimal = Decimal(1),
                    discount: Decimal = Decimal(0), line_id: str | None = None
                    ) -> Opportunity:
    """R12: a manual line: a free description and a price, no SKU (never a product)."""
    quote = _editable(opp, settings, quote_ref, "change its quotes")
    price = cents(unit_price)
    line = QuoteLine(id=line_id or _line_id(quote), sku=None, description=description,
                     quantity=quantity, unit_price=price, discount=discount,
                     total=products.bounded(line_total(quantity, price, discount),
                                            "the line total"))
    return _with_quote(opp, quote.model_copy(update={"lines": [*quote.lines, line]}))


def add_line(opp: Opportunity, settings: Settings, catalog: Catalog, quote_ref: str, *,
             sku: str | None, description: str | None, unit_price: Decimal | None,
             quantity: Decimal = Decimal(1), discount: Decimal = Decimal(0)) -> Opportunity:
    """R12: a manual line (no ``sku``: a description and a price) or a catalog line (a
    product of the catalog; its name and price unless told otherwise)."""
    if sku is None:
        if description is None or unit_price is None:
            raise UsageError("a manual line needs its description and unit price: "
                             "--description TEXT --price DEC")
        return add_manual_line(opp, settings, quote_ref, description=description,
                               unit_price=unit_price, quantity=quantity, discount=discount)
    products.require_module(settings, "quotes")
    products.require_module(settings, "catalog")
    item = products.catalog_item(catalog, sku, "a catalog line needs a catalog product (R12), "
                                               "or write a manual line with --description "
                                               "TEXT --price DEC")
    return add_catalog_line(opp, settings, quote_ref, item, quantity=quantity,
                            unit_price=unit_price, discount=discount, description=description)


def update_line(opp: Opportunity, settings: Settings, quote_ref: str, line_ref: str, *,
                quantity: Decimal | None = None, unit_price: Decimal | None = None,
                discount: Decimal | None = None, description: str | None = None
                ) -> Opportunity:
    """Change a line of a draft quote; its total and the quote's total follow."""
    quote = _editable(opp, settings, quote_ref, "change its quotes")
    line = find_quote_line(opp, quote, line_ref)
    quantity = line.quantity if quantity is None else quantity
    unit_price = line.unit_price if unit_price is None else cents(unit_price)
    discount = line.discount if discount is None else discount
    changed = line.model_copy(update={
        "quantity": quantity, "unit_price": unit_price, "discount": discount,
        "description": line.description if description is None else description,
        "total": products.bounded(line_total(quantity, unit_price, discount), "the line total")})
    lines = [changed if x.id == line.id else x for x in quote.lines]
    return _with_quote(opp, quote.model_copy(update={"lines": lines}))


def remove_line(opp: Opportunity, settings: Settings, quote_ref: str, line_ref: str
                ) -> Opportunity:
    """Remove a line of a draft quote; the quote's total follows."""
    quote = _editable(opp, settings, quote_ref, "change its quotes")
    line = find_quote_line(opp, quote, line_ref)
    lines = [x for x in quote.lines if x.id != line.id]
    return _with_quote(opp, quote.model_copy(update={"lines": lines}))


def send_quote(opp: Opportunity, settings: Settings, quote_ref: str, *, today: date
               ) -> Opportunity:
    """R13: draft -> sent, dated today; a quote without lines is not sent."""
    quote = _editable(opp, settings, quote_ref, "send a quote")
    if not quote.lines:
        raise RuleError(f"quote {quote.id} of {opp.id} has no lines; add one before sending "
                        f"it: opp quote add-line {opp.id} {quote.id} --sku SKU")
    return _with_quote(opp, quote.model_copy(update={"status": "sent", "sent": today}))


def _answer_day(quote: Quote, close_date: date | None, today: date) -> date:
    day = close_date or today
    if day > today:
        raise UsageError(f"date {day} is in the future; a quote is closed on the day the "
                         f"customer answers (today is {today})")
    if quote.sent and day < quote.sent:
        raise UsageError(f"date {day} is before quote {quote.id} was sent ({quote.sent})")
    return day


def close_quote(opp: Opportunity, settings: Settings, quote_ref: str, *, accepted: bool,
                today: date, close_date: date | None = None) -> Opportunity:
    """Close a sent quote as accepted or rejected on ``close_date`` (default today).

    R14, accepting: the quote is accepted and, in the same change, the products
    become its catalog lines, the amount its total (manual lines included,
    ``amount_source: quote``), and the opportunity moves to the first won stage
    with the close date of R17a. R15: one accepted quote at a time (a superseded one,
    R15a, no longer counts), none on a closed opportunity. Rejecting changes nothing but
    the quote.
    """
    products.require_module(settings, "quotes")
    quote = find_quote(opp, quote_ref)
    outcome = "accept" if accepted else "reject"
    if quote.status in ("accepted", "rejected", "superseded"):
        raise RuleError(f"quote {quote.id} of {opp.id} is already {_closed_words(quote)}; "
                        "closed quotes never change (R13); for a new offer make a new quote: "
                        f"opp quote new {opp.id}")
    if quote.status == "draft":
        raise RuleError(f"quote {quote.id} of {opp.id} is a draft; send it to the customer "
                        f"before you {outcome} it: opp quote send {opp.id} {quote.id}")
    stages.ensure_open(opp, settings, f"{outcome} a quote")
    if accepted:
        other = opportunity.accepted_quote(opp)
        if other is not None:
            # only in files of opp 0.2.0, which reopened a deal without superseding it
            raise RuleError(f"quote {other.id} of {opp.id} is already accepted; only one quote "
                            "of an opportunity is accepted at a time (R15), and reopening the "
                            "deal won with it marks it superseded (R15a): opp close "
                            f"{opp.id} --won, then opp reopen {opp.id}")
    day = _answer_day(quote, close_date, today)
    status = "accepted" if accepted else "rejected"
    opp = _with_quote(opp, quote.model_copy(update={"status": status, "closed": day}))
    if not accepted:
        return opp
    # rules.close takes the accepted quote's lines and total (R7, R14)
    return opportunity.close(opp, settings, won=True, today=today, close_date=day)
