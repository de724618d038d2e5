"""Opportunities as plain records: the JSON shapes of the contract, rows for lists.

Money becomes its exact two-decimal string, quantities and discounts their plain
decimal text, dates ISO strings; nothing here touches files or the terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .categories import deal_category, stage_category
from .model import Opportunity
from .money import money_str, plain
from .settings import Settings

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal

    from .model import ProductLine, Quote, QuoteLine


def _money(value: Decimal | None) -> str | None:
    return None if value is None else money_str(value)


def _date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _line(line: ProductLine | QuoteLine, name_key: str) -> dict:
    return {"id": line.id, "sku": line.sku, name_key: getattr(line, name_key),
            "quantity": plain(line.quantity), "unit_price": money_str(line.unit_price),
            "discount": plain(line.discount), "total": money_str(line.total)}


def quote_record(quote: Quote) -> dict[str, Any]:
    """A quote as in ``opp show --format json``: status, dates, total and lines."""
    return {"id": quote.id, "status": quote.status, "created": _date(quote.created),
            "sent": _date(quote.sent), "closed": _date(quote.closed),
            "total": money_str(quote.total),
            "lines": [_line(line, "description") for line in quote.lines]}


def stage_info(opp: Opportunity, settings: Settings) -> tuple[str, str, int]:
    """(status, label, probability); a stage opp.yaml lacks reads as open at 0 %."""
    try:
        stage = settings.stage(opp.stage)
        return stage.kind, stage.label, stage.probability
    except KeyError:
        return "open", opp.stage, 0


def opp_category(opp: Opportunity, settings: Settings) -> tuple[str | None, str]:
    """(category, source) of a deal under these settings (``categories.deal_category``)."""
    try:
        stage = settings.stage(opp.stage)
        kind, stage_cat = stage.kind, stage_category(stage.id, stage.kind, stage.category)
    except KeyError:
        kind, stage_cat = "open", None
    return deal_category(kind, stage_cat, opp.category)


def summary(opp: Opportunity, settings: Settings) -> dict[str, Any]:
    """The row of ``opp list --format json``."""
    status, label, probability = stage_info(opp, settings)
    return {"id": opp.id, "name": opp.name, "customer": opp.customer, "stage": opp.stage,
            "stage_label": label, "status": status, "probability": probability,
            "amount": money_str(opp.amount), "amount_source": opp.amount_source,
            "objective": _money(opp.objective), "currency": opp.currency,
            "close_date": _date(opp.close_date), "owner": opp.owner, "ref": opp.ref}


def detail(opp: Opportunity, settings: Settings) -> dict[str, Any]:
    """``opp show --format json``: every field and panel."""
    out = summary(opp, settings)
    category, source = opp_category(opp, settings)
    out.update({
        "lost_reason": opp.lost_reason,
        "category": category, "category_source": source,
        "created": _date(opp.created),
        "products": [_line(p, "name") for p in opp.products],
        "quotes": [quote_record(q) for q in opp.quotes],
        "contacts": [c.model_dump(mode="json") for c in opp.contacts],
        "partners": [p.model_dump(mode="json") for p in opp.partners],
        "competitors": [c.model_dump(mode="json") for c in opp.competitors],
        "activities": [a.model_dump(mode="json") for a in opp.activities],
        "documents": [d.model_dump(mode="json") for d in opp.documents],
        "notes": [n.model_dump(mode="json") for n in opp.notes],
    })
    # the JSON shape is the contract's whatever the modules (R3 hides panels from people,
    # not keys from scripts): a module that is off keeps its data, shown as stored
    return out
