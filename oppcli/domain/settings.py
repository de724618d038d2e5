"""The settings (``opp.yaml``, R2, R3, R16): the one type every layer reads them as.

``Settings`` is a plain frozen value, importable without pydantic, so a report that
finds the settings in the index builds them here and never imports the models
(#18, #25: pydantic and the models are 0.1 s of a 0.18 s report). The form of the
file is checked where it is read or changed: ``model.SettingsFile`` validates its data
and gives a ``Settings`` (``model.settings_from``); ``as_data`` gives the data back in
the file's key order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Stage:
    """A step of the sales process, with its probability and kind (R16); its place in
    the order is its index in ``Settings.stages``. ``category`` is the forecast category
    ``opp.yaml`` gives it, if any (``categories.stage_category`` gives the one in force)."""

    id: str
    label: str
    probability: int
    kind: str = "open"  # open | won | lost
    category: str | None = None

    def as_data(self) -> dict[str, Any]:
        """The stage as ``opp.yaml`` holds it: a stage without a category (a won or lost
        one) is written without the key."""
        data: dict[str, Any] = {"id": self.id, "label": self.label,
                                "probability": self.probability, "kind": self.kind}
        if self.category is not None:
            data["category"] = self.category
        return data


@dataclass(frozen=True)
class Modules:
    """Optional parts of opp (R3)."""

    catalog: bool = True
    quotes: bool = True


@dataclass(frozen=True)
class Roles:
    """The roles people and companies can have in a deal (R2)."""

    contacts: tuple[str, ...] = ("decision-maker", "influencer", "user", "technical", "buyer",
                                 "other")
    partners: tuple[str, ...] = ("reseller", "supplier", "integrator", "consultant", "other")
    competitors: tuple[str, ...] = ("incumbent", "challenger", "other")


DEFAULT_STAGES = (
    Stage("prospecting", "Prospecting", 10, category="pipeline"),
    Stage("qualification", "Qualification", 25, category="pipeline"),
    Stage("proposal", "Proposal", 50, category="best_case"),
    Stage("negotiation", "Negotiation", 75, category="commit"),
    Stage("closed-won", "Closed won", 100, kind="won"),
    Stage("closed-lost", "Closed lost", 0, kind="lost"),
)


@dataclass(frozen=True)
class Settings:
    """``opp.yaml``: the parameters every opportunity uses (R2, R3, R16). Fields in the
    file's key order; the defaults are a new repo's."""

    currency: str = "EUR"
    locale: str = "en"
    stages: tuple[Stage, ...] = DEFAULT_STAGES
    default_stage: str = "prospecting"
    activity_types: tuple[str, ...] = ("call", "visit", "meeting", "email", "task")
    roles: Roles = field(default_factory=Roles)
    lost_reasons: tuple[str, ...] = ("price", "competitor", "no budget", "no decision",
                                     "timing", "other")
    modules: Modules = field(default_factory=Modules)

    def stage(self, stage_id: str) -> Stage:
        """The stage with this id; ``KeyError`` when there is none."""
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)

    def as_data(self) -> dict[str, Any]:
        """The settings as ``opp.yaml`` holds them (fresh lists and dicts, in file order):
        what the file is written from, what ``opp config get`` shows, what a change edits
        before ``model.settings_from`` checks it again."""
        return {"currency": self.currency, "locale": self.locale,
                "stages": [s.as_data() for s in self.stages],
                "default_stage": self.default_stage,
                "activity_types": list(self.activity_types),
                "roles": {"contacts": list(self.roles.contacts),
                          "partners": list(self.roles.partners),
                          "competitors": list(self.roles.competitors)},
                "lost_reasons": list(self.lost_reasons),
                "modules": {"catalog": self.modules.catalog, "quotes": self.modules.quotes}}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Settings:
        """The settings from ``as_data``'s output, trusted: data that ``settings_from``
        checked before (the index keeps it so, keyed by the file's blob id)."""
        roles, modules = data["roles"], data["modules"]
        return cls(data["currency"], data["locale"],
                   tuple(Stage(**s) for s in data["stages"]), data["default_stage"],
                   tuple(data["activity_types"]),
                   Roles(tuple(roles["contacts"]), tuple(roles["partners"]),
                         tuple(roles["competitors"])),
                   tuple(data["lost_reasons"]), Modules(modules["catalog"], modules["quotes"]))
