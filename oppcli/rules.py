"""The domain of opp, rules R1-R20 of ``domain.md``, as pure functions.

Each function takes models and returns new ones, or raises a ``RuleError`` whose
message says why and what to do instead. No I/O, no click, no git: every rule is a
unit test away. ``problems`` states the same rules as checks over stored data, for
``opp validate`` and for every load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from . import ids
from .errors import NotFound, RuleError, UsageError
from .model import (
    CatalogItem,
    Opportunity,
    ProductLine,
    Quote,
    QuoteLine,
    Settings,
    Stage,
)
from .money import MAX_MONEY, ZERO, cents, line_total, money_human
from .records import loose_key, near, resolve_stage, stage_problems  # noqa: F401  (part of this API)

# ---------------------------------------------------------------- lookups


# near and resolve_stage live in records.py, which reports load without pydantic


def stage_of(opp: Opportunity, settings: Settings) -> Stage:
    """The opportunity's stage; ``RuleError`` when the settings no longer have it."""
    try:
        return settings.stage(opp.stage)
    except KeyError:
        raise RuleError(f"opportunity {opp.id} is at stage '{opp.stage}', which opp.yaml does "
                        f"not define; add it to opp.yaml or move the opportunity") from None


def status(opp: Opportunity, settings: Settings) -> str:
    """open, won or lost: the kind of the opportunity's stage."""
    return stage_of(opp, settings).kind


def first_stage(settings: Settings, kind: str) -> Stage:
    return next(s for s in settings.stages if s.kind == kind)


def find_line(lines: Sequence, ref: str, what: str, opp_id: str) -> Any:
    """A line of a panel by its id (or a unique prefix of it), or by its SKU when that
    SKU is on one line only."""
    key = ref.strip().casefold()
    by_id = [line for line in lines if line.id == key]
    if by_id:
        return by_id[0]
    by_sku = [line for line in lines if line.sku and line.sku.casefold() == key]
    if len(by_sku) == 1:
        return by_sku[0]
    if len(by_sku) > 1:
        choices = ", ".join(line.id for line in by_sku)
        raise UsageError(f"SKU '{ref}' is on {len(by_sku)} {what} lines of {opp_id}; "
                         f"name one by its line id: {choices}")
    by_prefix = [line for line in lines if key and line.id.startswith(key)]
    if len(by_prefix) == 1:
        return by_prefix[0]
    have = ", ".join(f"{line.id} ({line.sku or 'manual'})" for line in lines) or "none"
    if by_prefix:
        raise UsageError(f"'{ref}' matches {len(by_prefix)} {what} lines of {opp_id}; type "
                         f"more of the line id: {have}")
    raise NotFound(f"no {what} line '{ref}' on {opp_id}; its lines are: {have}")


# ---------------------------------------------------------------- guards


def ensure_open(opp: Opportunity, settings: Settings, doing: str = "change it") -> None:
    """R17: a closed opportunity is read-only (but for notes, activities, documents)."""
    kind = status(opp, settings)
    if kind != "open":
        when = f" on {opp.close_date}" if opp.close_date else ""
        raise RuleError(f"opportunity {opp.id} is closed ({kind}{when}); reopen it before you "
                        f"{doing}: opp reopen {opp.id}")


def _closing_date(close_date: date | None, today: date) -> date:
    if close_date is None:
        return today
    if close_date > today:
        raise UsageError(f"close date {close_date} is in the future; a deal closes on the day "
                         f"it is won or lost (today is {today})")
    return close_date


# ---------------------------------------------------------------- creating (R1)


def new_opportunity(settings: Settings, *, opp_id: str, name: str, customer: str, owner: str,
                    today: date, amount: Decimal | None = None,
                    objective: Decimal | None = None, stage: Stage | None = None,
                    close_date: date | None = None, currency: str | None = None,
                    lost_reason: str | None = None, ref: str | None = None) -> Opportunity:
    """A new opportunity; a won or lost stage creates it closed (R16, R17a)."""
    stage = stage or settings.stage(settings.default_stage)
    if stage.kind == "open" and lost_reason:
        raise UsageError("a lost reason belongs to a lost opportunity")
    if stage.kind != "open":
        close_date = _closing_date(close_date, today)
    if stage.kind != "lost":
        lost_reason = None
    opp = Opportunity(id=opp_id, name=name, customer=customer, stage=stage.id,
                      amount=cents(amount if amount is not None else ZERO),
                      amount_source="manual", objective=objective,
                      currency=currency or settings.currency, close_date=close_date,
                      owner=owner, lost_reason=lost_reason, ref=ref, created=today)
    return Opportunity.model_validate(opp.model_dump())


# ---------------------------------------------------------------- amount and objective (R4-R8)


def set_amount(opp: Opportunity, settings: Settings, amount: Decimal) -> Opportunity:
    """R5: a typed amount, only while open and without products."""
    ensure_open(opp, settings, "change the amount")
    if opp.products:
        raise RuleError(f"the amount of {opp.id} is the total of its products "
                        f"({products_total(opp.products)} over {len(opp.products)} "
                        f"line{'s' if len(opp.products) > 1 else ''}); change the products "
                        "instead, or remove them all to type an amount (R5)")
    return opp.model_copy(update={"amount": cents(amount), "amount_source": "manual"})


def set_objective(opp: Opportunity, settings: Settings, objective: Decimal | None
                  ) -> Opportunity:
    """R8: a free estimate, changeable at any time while open (None clears it)."""
    ensure_open(opp, settings, "change the objective")
    value = cents(objective) if objective is not None else None
    return opp.model_copy(update={"objective": value})


EDITABLE = ("name", "customer", "close_date", "owner", "currency", "ref")


def set_field(opp: Opportunity, settings: Settings, field: str, value: Any) -> Opportunity:
    """Change a plain field of an open opportunity (R17 keeps closed ones read-only)."""
    if field not in EDITABLE:
        raise UsageError(f"field '{field}' cannot be set this way")
    ensure_open(opp, settings, f"change its {field.replace('_', ' ')}")
    if field == "currency" and value != opp.currency and (opp.products or opp.quotes):
        raise RuleError(f"{opp.id} has products or quotes priced in {opp.currency}; "
                        "remove them before changing the currency")
    updated = opp.model_copy(update={field: value})
    return Opportunity.model_validate(updated.model_dump())


def ensure_ref_free(ref: str, holders: list[str]) -> None:
    """A ref is an external id: one opportunity holds it, or imports could not tell
    which one a row updates. ``holders``: the other opportunities holding it."""
    if holders:
        raise RuleError(f"ref '{ref}' is held by {', '.join(sorted(holders))} already; a ref "
                        "is an external id, one per opportunity (see: opp list --format json)")


# ---------------------------------------------------------------- products (R6, R9, R10)


def bounded(value: Decimal, what: str) -> Decimal:
    """``value`` when opp can store it as money; otherwise a refusal naming the limit."""
    if value > MAX_MONEY:
        raise RuleError(f"{what} would be {money_human(value)}, more than the largest amount "
                        f"opp stores ({money_human(MAX_MONEY)}); lower the quantity or price")
    return value


def products_total(lines: Iterable) -> Decimal:
    """The sum of the rounded line totals (R10)."""
    return sum((line.total for line in lines), ZERO)


def with_products(opp: Opportunity, lines: list[ProductLine]) -> Opportunity:
    """R6: the amount follows the products; with none left it becomes typable again at 0."""
    if lines:
        return opp.model_copy(update={"products": lines,
                                      "amount": bounded(products_total(lines), "the amount"),
                                      "amount_source": "products"})
    return opp.model_copy(update={"products": [], "amount": ZERO, "amount_source": "manual"})


def require_module(settings: Settings, module: str) -> None:
    """R3: refuse a module's commands while the module is off, saying how to turn it on."""
    if not getattr(settings.modules, module):
        raise RuleError(f"the {module} module is off; turn it on by setting "
                        f"'{module}: true' under 'modules:' in opp.yaml")


def add_product(opp: Opportunity, settings: Settings, item: CatalogItem, *,
                quantity: Decimal = Decimal(1), unit_price: Decimal | None = None,
                discount: Decimal = Decimal(0), line_id: str | None = None) -> Opportunity:
    """R9-R10: a catalog product line; the amount becomes the products' total."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    if unit_price is None:
        if opp.currency != settings.currency:
            raise RuleError(f"catalog prices are in {settings.currency} and {opp.id} is in "
                            f"{opp.currency}; give the unit price with --price")
        unit_price = item.price
    line = ProductLine(id=line_id or ids.new_item_id({p.id for p in opp.products}),
                       sku=item.sku, name=item.name, quantity=quantity,
                       unit_price=cents(unit_price), discount=discount,
                       total=bounded(line_total(quantity, cents(unit_price), discount),
                                     "the line total"))
    return with_products(opp, [*opp.products, line])


def update_product(opp: Opportunity, settings: Settings, ref: str, *,
                   quantity: Decimal | None = None, unit_price: Decimal | None = None,
                   discount: Decimal | None = None) -> Opportunity:
    """R6: change a product line's quantity, price or discount; the amount follows."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    line = find_line(opp.products, ref, "product", opp.id)
    quantity = line.quantity if quantity is None else quantity
    unit_price = line.unit_price if unit_price is None else cents(unit_price)
    discount = line.discount if discount is None else discount
    changed = line.model_copy(update={"quantity": quantity, "unit_price": unit_price,
                                      "discount": discount,
                                      "total": bounded(line_total(quantity, unit_price,
                                                                  discount), "the line total")})
    return with_products(opp, [changed if p.id == line.id else p for p in opp.products])


def remove_product(opp: Opportunity, settings: Settings, ref: str) -> Opportunity:
    """R6: remove a product line; the amount follows."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    line = find_line(opp.products, ref, "product", opp.id)
    return with_products(opp, [p for p in opp.products if p.id != line.id])


# ---------------------------------------------------------------- stages and closing (R16-R17a)


def accepted_quote(opp: Opportunity) -> Quote | None:
    return next((q for q in opp.quotes if q.status == "accepted"), None)


def products_from_quote(quote: Quote) -> list[ProductLine]:
    """R14: the quote's catalog lines as product lines (manual lines are not products)."""
    return [ProductLine(id=line.id, sku=line.sku, name=line.description,
                        quantity=line.quantity, unit_price=line.unit_price,
                        discount=line.discount, total=line.total)
            for line in quote.lines if line.sku]


def _won(opp: Opportunity) -> dict:
    """R7: closing won takes the accepted quote's total and lines when there is one."""
    quote = accepted_quote(opp)
    if quote is None:
        return {}
    return {"products": products_from_quote(quote), "amount": quote.total,
            "amount_source": "quote"}


def change_stage(opp: Opportunity, settings: Settings, stage: Stage, *, today: date,
                 close_date: date | None = None, reason: str | None = None
                 ) -> Opportunity:
    """Move an open opportunity; a won or lost stage closes it (R16, R17, R17a)."""
    current = stage_of(opp, settings)
    if current.kind != "open":
        if stage.kind == "open":
            raise RuleError(f"opportunity {opp.id} is closed ({current.kind}); move it back "
                            f"with: opp reopen {opp.id} --stage {stage.id}")
        ensure_open(opp, settings, "move it")
    if stage.kind == "open":
        if reason:
            raise UsageError("--reason is for closing as lost")
        if close_date is not None:
            raise UsageError("--date is the closing day; to change the expected close date use: "
                             f"opp set {opp.id} close-date DATE")
        return opp.model_copy(update={"stage": stage.id})  # the same stage: nothing changes
    if stage.kind == "won" and reason:
        raise UsageError("--reason is for closing as lost, not won")
    # a close date before 'created' is allowed: 'created' is the day the record entered
    # opp, and deals are often recorded after the fact
    closing = _closing_date(close_date, today)
    if reason:  # a configured lost reason keeps its configured spelling
        reason = next((r for r in settings.lost_reasons if r.casefold() == reason.casefold()),
                      reason)
    update = {"stage": stage.id, "close_date": closing,
              "lost_reason": reason if stage.kind == "lost" else None}
    if stage.kind == "won":
        update.update(_won(opp))
    return opp.model_copy(update=update)


def close(opp: Opportunity, settings: Settings, *, won: bool, today: date,
          close_date: date | None = None, reason: str | None = None) -> Opportunity:
    """Close as won or lost on ``close_date`` (default today), R17 and R17a."""
    ensure_open(opp, settings, "close it again")
    stage = first_stage(settings, "won" if won else "lost")
    return change_stage(opp, settings, stage, today=today, close_date=close_date, reason=reason)


def reopen(opp: Opportunity, settings: Settings, stage: Stage | None = None,
           close_date: date | None = None) -> Opportunity:
    """Reopen a closed opportunity at an open stage (default: the last open one).

    The actual close date no longer holds: the close date becomes ``close_date``, the
    expected one (the caller passes the one it had before closing, or a new one), or
    none; the lost reason goes too.
    """
    kind = status(opp, settings)
    if kind == "open":
        raise RuleError(f"opportunity {opp.id} is already open (stage '{opp.stage}')")
    open_stages = [s for s in settings.stages if s.kind == "open"]
    stage = stage or open_stages[-1]
    if stage.kind != "open":
        raise UsageError(f"reopen needs an open stage; open stages are: "
                         f"{', '.join(s.id for s in open_stages)}")
    return opp.model_copy(update={"stage": stage.id, "close_date": close_date,
                                  "lost_reason": None})


# ---------------------------------------------------------------- checks over stored data


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
    def key(line: ProductLine | QuoteLine) -> tuple:
        return ((line.sku or '').casefold(), line.quantity, line.unit_price, line.discount)
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
    for i, quote in enumerate(opp.quotes):
        out += _line_problems(quote.lines, ("quotes", i, "lines"))
        quote_sum = products_total(quote.lines)
        if quote.total != quote_sum:
            out.append(Problem(("quotes", i, "total"), f"quote {quote.id} total {quote.total} "
                               f"should be {quote_sum}, the sum of its lines (R12)"))
        out += _unique_ids(quote.lines, f"quotes.{quote.id}.lines")
    if opp.amount_source == "quote":
        if not accepted:
            out.append(Problem(("amount_source",), "amount_source is 'quote' but no quote is "
                               "accepted"))
        else:
            quote = accepted[0]
            if opp.amount != quote.total:
                out.append(Problem(("amount",), f"amount {opp.amount} should be "
                                   f"{quote.total}, the total of accepted quote {quote.id} (R14)"))
            if not _same_lines(opp.products, quote.lines):
                out.append(Problem(("products",), f"products should be the catalog lines of "
                                   f"accepted quote {quote.id} (R14)"))
    from .quotes import quote_problems  # here: quotes.py builds on this module

    out += quote_problems(opp)
    for panel in ("products", "quotes", "contacts", "partners", "competitors", "activities",
                  "documents", "notes"):
        out += _unique_ids(getattr(opp, panel), panel)
    return out
