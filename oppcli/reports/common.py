"""What every report shares: the filters, currencies, rates, and money sums."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter, methodcaller
from typing import Any

from ..domain.money import CENT, ZERO, fixed_human, money_str
from ..domain.records import Record

# a text the customer's name holds, or a ``domain.accounts.CustomerQuery``
CustomerMatch = str | Callable[[str, str | None], bool] | None


def select(records: Iterable[Record], *, owner: str | None = None,
           customer: CustomerMatch = None, stage: str | None = None) -> list[Record]:
    """The records a report covers: ``owner`` contained in the owner's name
    (case-insensitive), ``customer`` contained in the customer's name (case-insensitive),
    or a ``CustomerQuery`` (the accounts it names by id, name or alias), ``stage`` the
    stage id; the same matching as ``opp list``."""
    if not owner and not customer and not stage:  # every record: 100,000 calls saved
        return records if isinstance(records, list) else list(records)
    return [r for r in records if matches(r, owner=owner, customer=customer, stage=stage)]


def matches(r: Record, *, owner: str | None = None, customer: CustomerMatch = None,
            stage: str | None = None) -> bool:
    if owner and owner.casefold() not in r.owner.casefold():
        return False
    if callable(customer):
        if not customer(r.customer, r.customer_id):
            return False
    elif customer and customer.casefold() not in r.customer.casefold():
        return False
    return not stage or r.stage == stage


def currencies_of(records: Sequence[Record], default_currency: str) -> list[str]:
    """The currencies present, sorted; the default one alone when there are no records,
    so that an empty report still says which money it counts."""
    return sorted({r.currency for r in records}) or [default_currency]


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percent_words(part: int, whole: int, none: str = "-") -> str:
    """``part/whole`` for people: a percentage to one decimal, rounded half-up once from
    the exact ratio (4238/6711 is 63.2 %, not the 63.1 % of a rounded 0.6315)."""
    return _percent(Decimal(part) * 100 / Decimal(whole)) if whole else none


def percent_text(ratio: float | Decimal | None, none: str = "-") -> str:
    """A ratio (0.6667, a report's figure) for people: 66.7 %, rounded half-up."""
    return none if ratio is None else _percent(Decimal(str(ratio)) * 100)


def _percent(value: Decimal) -> str:
    """A percentage to one decimal, written the locale's way (63,2 % in an Italian repo)."""
    return f"{fixed_human(value.quantize(Decimal('0.1'), ROUND_HALF_UP))} %"


_AMOUNT, _OBJECTIVE = attrgetter("amount"), attrgetter("objective")
_WEIGHING = attrgetter("status", "probability")
_CELL = attrgetter("stage", "currency", "status")
_CENTS = methodcaller("quantize", CENT, ROUND_HALF_UP)  # as ``money.cents``


def cells(records: Sequence[Record]) -> dict[tuple[str, str, str], Sum]:
    """The sums of each (stage, currency, status) cell (``sums``)."""
    return sums(records, map(_CELL, records))


def sums(records: Sequence[Record], keys: Iterable[Hashable],
         probabilities: Mapping[str, Decimal] | None = None) -> dict[Any, Sum]:
    """The sums of the records of each key (``keys``: one per record, in order), every
    record's weighted amount as ``forecast.forecast_weighted`` gives it: all of a won
    one, none of a lost one, an open one's amount x its stage's probability (or its
    stage's in ``probabilities``), rounded half-up per record. The records are grouped
    first, then each group summed in C."""
    weighing: Iterable[tuple] = map(_WEIGHING, records)
    if probabilities:
        weighing = ((status, probabilities.get(r.stage, probability))
                    for (status, probability), r in zip(weighing, records, strict=True))
    groups: dict[tuple, list[Record]] = {}
    for key, r in zip(zip(keys, weighing, strict=True), records, strict=True):
        found = groups.get(key)
        if found is None:
            groups[key] = [r]
        else:
            found.append(r)
    out: dict[Any, Sum] = {}
    for (key, (status, probability)), group in groups.items():
        amounts = list(map(_AMOUNT, group))
        objectives = [o for o in map(_OBJECTIVE, group) if o is not None]
        part = Sum()
        part.count, part.amount = len(group), sum(amounts, ZERO)
        part.objective, part.objective_count = sum(objectives, ZERO), len(objectives)
        if status == "won":
            part.weighted = part.amount
        elif status != "lost":  # exact products (60 digits), then rounded per record
            factor = Decimal(probability) / 100
            part.weighted = sum(map(_CENTS, map(factor.__mul__, amounts)), ZERO)
        cell = out.get(key)
        if cell is None:
            out[key] = part
        else:
            cell.merge(part)
    return out


class Sum:
    """count, amount, weighted and objective of some records of one currency."""

    def __init__(self) -> None:
        self.count = 0
        self.amount = ZERO
        self.weighted = ZERO
        self.objective = ZERO
        self.objective_count = 0

    def add(self, r: Record, weighted_amount: Decimal) -> None:
        self.count += 1
        self.amount += r.amount
        self.weighted += weighted_amount
        if r.objective is not None:
            self.objective += r.objective
            self.objective_count += 1

    def merge(self, other: Sum) -> None:
        """Add another sum's records (exact: money adds within 60 digits)."""
        self.count += other.count
        self.amount += other.amount
        self.weighted += other.weighted
        self.objective += other.objective
        self.objective_count += other.objective_count

    def fields(self) -> dict[str, Any]:
        return {"count": self.count, "amount": self.amount, "weighted": self.weighted,
                "objective": self.objective, "objective_count": self.objective_count}


def money_fields(row: Any, names: Sequence[str]) -> dict[str, Any]:
    return {n: money_str(getattr(row, n)) for n in names}


def iso_day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
