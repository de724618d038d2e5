"""Forecast categories (Salesforce's): how sure a deal is, apart from its probability.

Each open stage of ``opp.yaml`` has one (``category``); a deal takes its stage's
unless one is set on it (``opp set ID category``). Won deals are ``closed``; lost
ones have none (they are left out of the forecast).
"""

from __future__ import annotations

from typing import Literal

Category = Literal["pipeline", "best_case", "commit", "omitted"]
CATEGORIES: tuple[str, ...] = ("pipeline", "best_case", "commit", "omitted")
CLOSED = "closed"
# the forecast's groups, surest first
GROUPS: tuple[str, ...] = (CLOSED, "commit", "best_case", "pipeline", "omitted")

# the categories of the default stages, for an opp.yaml that names none
STAGE_DEFAULTS = {"prospecting": "pipeline", "qualification": "pipeline",
                  "proposal": "best_case", "negotiation": "commit"}


def stage_category(stage_id: str, kind: str, category: str | None) -> str | None:
    """The category of a stage: the one ``opp.yaml`` gives, else the default stages'
    (``pipeline`` for any other open stage); ``closed`` for a won stage, None for a lost
    one."""
    if kind == "won":
        return CLOSED
    if kind == "lost":
        return None
    return category or STAGE_DEFAULTS.get(stage_id, "pipeline")


def deal_category(status: str, stage_cat: str | None, own: str | None
                  ) -> tuple[str | None, str]:
    """(category, source) of a deal: ``closed`` when won, None when lost, else its own
    (source ``set``) or its stage's (source ``stage``)."""
    if status == "won":
        return CLOSED, "stage"
    if status == "lost":
        return None, "stage"
    if own:
        return own, "set"
    return stage_cat, "stage"
