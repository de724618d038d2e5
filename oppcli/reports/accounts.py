"""Accounts seen through their deals: ``opp account show`` (deals, totals per currency),
``opp account list`` rows, the per-account pipeline (``opp pipeline --by customer``)
and the dashboard's top accounts. Pure functions over ``Record``s."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..domain.money import ZERO, money_str, weighted
from ..domain.records import Record
from ..read.index.accounts import directory
from ..read.source import of
from .common import iso_day

if TYPE_CHECKING:
    from ..store.repo import Repo


def _deal(r: Record) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "stage": r.stage, "status": r.status,
            "amount": money_str(r.amount), "currency": r.currency,
            "close_date": iso_day(r.close_date)}


def _totals(records: Iterable[Record]) -> list[dict[str, Any]]:
    sums: dict[str, dict[str, Any]] = {}
    for r in records:
        row = sums.setdefault(r.currency, {"currency": r.currency, "open_count": 0,
                                           "open_amount": ZERO, "open_weighted": ZERO,
                                           "won_count": 0, "won_amount": ZERO,
                                           "lost_count": 0, "lost_amount": ZERO})
        row[f"{r.status}_count"] += 1
        row[f"{r.status}_amount"] += r.amount
        if r.status == "open":
            row["open_weighted"] += weighted(r.amount, r.probability)
    return [sums[c] for c in sorted(sums)]


def account_card(account: Mapping[str, Any], records: Iterable[Record]) -> dict[str, Any]:
    """``opp account show --format json``: the account, its people, its deals (by close
    date), and its open, won and lost totals per currency."""
    deals = sorted((r for r in records if r.customer_id == account["id"]),
                   key=lambda r: (r.close_date is None, r.close_date or r.created, r.name))
    totals = [{"currency": t["currency"], "open_count": t["open_count"],
               "open_amount": money_str(t["open_amount"]), "won_count": t["won_count"],
               "won_amount": money_str(t["won_amount"]), "lost_count": t["lost_count"]}
              for t in _totals(deals)]
    keys = ("id", "name", "aliases", "vat", "tax_code", "country", "city", "address",
            "industry", "website", "owner", "ref", "notes")
    return {**{k: account.get(k) for k in keys}, "people": list(account.get("people") or []),
            "deals": [_deal(r) for r in deals], "totals": totals}


def card(repo: Repo, ref: str) -> dict[str, Any]:
    """``opp account show --format json`` of the account ``ref`` names."""
    entry = directory(repo).resolve(ref)
    return account_card(entry.data, of(repo).records())


def account_rows(accounts: Sequence[Mapping[str, Any]], records: Iterable[Record]
                 ) -> list[dict[str, Any]]:
    """``opp account list``: each account with its number of people and deals."""
    counts: dict[str, list[int]] = {}
    for r in records:
        if r.customer_id is not None:
            c = counts.setdefault(r.customer_id, [0, 0])
            c[0] += 1
            c[1] += r.status == "open"
    return [{"id": a["id"], "name": a["name"], "aliases": list(a.get("aliases") or []),
             "vat": a.get("vat"), "country": a.get("country"), "city": a.get("city"),
             "industry": a.get("industry"), "owner": a.get("owner"),
             "people": len(a.get("people") or []), "deals": counts.get(a["id"], [0, 0])[0],
             "open_deals": counts.get(a["id"], [0, 0])[1]}
            for a in sorted(accounts, key=lambda a: (str(a["name"]).casefold(), a["id"]))]


def by_customer(records: Iterable[Record]) -> list[dict[str, Any]]:
    """``opp pipeline --by customer``: one row per account (or customer text) and
    currency, largest open amount first."""
    groups: dict[tuple[str, str | None], list[Record]] = {}
    for r in records:
        groups.setdefault((r.customer, r.customer_id), []).append(r)
    rows = []
    for (name, account_id), group in groups.items():
        for t in _totals(group):
            rows.append({"customer": name, "customer_id": account_id,
                         "currency": t["currency"], "open_count": t["open_count"],
                         "open_amount": t["open_amount"], "open_weighted": t["open_weighted"],
                         "won_count": t["won_count"], "won_amount": t["won_amount"],
                         "lost_count": t["lost_count"], "lost_amount": t["lost_amount"]})
    rows.sort(key=lambda x: (-x["open_amount"], -x["won_amount"], x["customer"].casefold(),
                             x["currency"]))
    return [{**x, **{k: money_str(x[k]) for k in ("open_amount", "open_weighted",
                                                     "won_amount", "lost_amount")}}
            for x in rows]


def top_accounts(records: Iterable[Record], currency: str, limit: int = 10
                 ) -> list[dict[str, Any]]:
    """The dashboard's top accounts in one currency: open pipeline and won revenue per
    account, the largest (open + won) first."""
    rows = [r for r in by_customer(x for x in records if x.currency == currency)]
    rows.sort(key=lambda x: (-(Decimal(x["open_amount"]) + Decimal(x["won_amount"])),
                             x["customer"].casefold()))
    return rows[:limit]
