"""One opportunity's life (R1-R8, R15a, R16-R17a): create it, set its fields, move it
through the stages, close it won or lost, reopen it.

Each function takes models and returns new ones, or raises a ``RuleError`` whose
message says why and what to do instead. No I/O, no click, no git.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..errors import RuleError, UsageError
from .categories import CATEGORIES
from .model import Opportunity, ProductLine, Quote
from .money import ZERO, cents
from .products import products_total
from .settings import Settings, Stage
from .stages import (
    ensure_open,
    first_stage,
    stage_of,
    status,
)


def _closing_date(close_date: date | None, today: date) -> date:
    if close_date is None:
        return today
    if close_date > today:
        raise UsageError(f"close date {close_date} is in the future; a deal closes on the day "
                         f"it is won or lost (today is {today})")
    return close_date


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


EDITABLE = ("name", "customer", "close_date", "owner", "currency", "ref", "category")


def category_value(text: str) -> str:
    """A forecast category a deal can be set to; ``ValueError`` naming the choices."""
    value = text.strip().lower().replace("-", "_")
    if value not in CATEGORIES:
        raise ValueError(f"'{text}' is not a forecast category; use one of "
                         f"{', '.join(CATEGORIES)}, or none for the stage's")
    return value


def set_field(opp: Opportunity, settings: Settings, field: str, value) -> Opportunity:
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


def accepted_quote(opp: Opportunity) -> Quote | None:
    """The accepted quote (R15: one at most); a superseded one is no longer accepted."""
    return next((q for q in opp.quotes if q.status == "accepted"), None)


def products_from_quote(quote: Quote) -> list[ProductLine]:
    """R14: the quote's catalog lines as product lines (manual lines are not products)."""
    return [ProductLine(id=line.id, sku=line.sku, name=line.description,
                        quantity=line.quantity, unit_price=line.unit_price,
                        discount=line.discount, total=line.total)
            for line in quote.lines if line.sku]


def _won(opp: Opportunity) -> dict:
    """R7: closing won takes the accepted quote's total and lines when there is one; after
    a reopening there is none (R15a), and the products' total or typed amount stays."""
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
    none; the lost reason goes too. An accepted quote is superseded (R15a).
    """
    kind = status(opp, settings)
    if kind == "open":
        raise RuleError(f"opportunity {opp.id} is already open (stage '{opp.stage}')")
    open_stages = [s for s in settings.stages if s.kind == "open"]
    stage = stage or open_stages[-1]
    if stage.kind != "open":
        raise UsageError(f"reopen needs an open stage; open stages are: "
                         f"{', '.join(s.id for s in open_stages)}")
    update = {"stage": stage.id, "close_date": close_date, "lost_reason": None}
    update.update(supersede(opp))
    return opp.model_copy(update=update)


def supersede(opp: Opportunity) -> dict[str, Any]:
    """R15a: reopening marks the accepted quote ``superseded`` (kept whole, never edited
    again), so that R7 finds none and a new quote can be accepted (R15). An amount that
    came from the quote follows R4 and R5 again: the products' total when there are
    products, else it stays as a typed amount. Nothing to change without an accepted
    quote."""
    quote = accepted_quote(opp)
    if quote is None:
        return {}
    update: dict[str, Any] = {"quotes": [q.model_copy(update={"status": "superseded"})
                               if q.id == quote.id else q for q in opp.quotes]}
    if opp.amount_source == "quote":
        if opp.products:
            update.update(amount=products_total(opp.products), amount_source="products")
        else:
            update.update(amount_source="manual")
    return update


CLOSED_EDITABLE = ("notes", "documents", "activities")  # R17: what a closed deal takes


def edited(before: Opportunity, after: Opportunity, settings: Settings, *, today: date,
           catalog_skus: set[str] | None = None) -> Opportunity:
    """A hand edit (``opp edit``) held to the rules of the typed commands: a closed deal
    takes changes to notes, documents and activities only (R17; reopening is ``opp
    reopen``'s); a stage that closes the deal closes it as ``opp stage`` does (R17a: the
    close date becomes today unless the edit gave another, never in the future; the
    lost reason only when lost; won by an accepted quote takes its total, R7); a quote
    is sent and answered by its commands only (R14 acts on an acceptance); a product
    line added or changed names a product of the catalog (``catalog_skus``, R9). The file
    rules (``checks.problems``) are the caller's."""
    _edited_quotes(before, after)
    if catalog_skus is not None:
        _edited_products(before, after, catalog_skus)
    changed = [f for f in type(after).model_fields if getattr(before, f) != getattr(after, f)]
    if status(before, settings) != "open":
        fields = [f for f in changed if f not in CLOSED_EDITABLE]
        if "stage" in fields and settings.stage(after.stage).kind == "open":
            raise RuleError(f"opportunity {before.id} is closed; move it back to "
                            f"{after.stage} with: opp reopen {before.id} --stage {after.stage}")
        if fields:
            ensure_open(before, settings, f"change its {', '.join(fields).replace('_', ' ')}")
        return after
    stage = settings.stage(after.stage)
    if stage.kind == "open":
        return after
    if "lost_reason" in changed and stage.kind != "lost":
        raise RuleError("only a lost opportunity has a lost reason")
    given = after.close_date if "close_date" in changed else None
    reason = after.lost_reason if stage.kind == "lost" else None
    still_open = after.model_copy(update={"stage": before.stage, "close_date": before.close_date,
                                          "lost_reason": None})
    try:
        return change_stage(still_open, settings, stage, today=today, close_date=given,
                            reason=reason)
    except UsageError as exc:  # worded for --date; here the date is the file's
        raise RuleError(f"close_date: {exc.message}") from None


def _edited_quotes(before: Opportunity, after: Opportunity) -> None:
    """A quote's status and dates are its commands' (send, accept, reject, reopen): an
    edit that changes them, or adds a quote past draft, is refused naming the command."""
    was = {q.id: q for q in before.quotes}
    for q in after.quotes:
        old = was.get(q.id)
        moved = (q.status, q.sent, q.closed) != (
            (old.status, old.sent, old.closed) if old else ("draft", None, None))
        if moved:
            raise RuleError(f"quote {q.id}: its status and dates change with its commands "
                            f"only (opp quote send, opp close-quote {before.id} {q.id} "
                            "--accepted or --rejected), which apply the rules that go with "
                            "them; edit its lines while it is a draft")


def _edited_products(before: Opportunity, after: Opportunity, skus: set[str]) -> None:
    """A product line the edit adds, or whose SKU it changes, names a catalog product
    (R9); lines kept as they were may name one removed from the catalog since."""
    was = {line.id: line.sku for line in before.products}
    for line in after.products:
        if was.get(line.id) != line.sku and line.sku not in skus:
            raise RuleError(f"product line {line.id}: '{line.sku}' is not in the catalog; "
                            "add it with: opp catalog add SKU --name NAME --price PRICE")
