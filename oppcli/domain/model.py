"""The shapes of opp's data: an opportunity with its panels, the settings, the catalog.

These models check the form of each field (types, ranges, ids, cents) and forbid
unknown keys; the rules between fields and against the settings (R4-R17) live in
``rules.py``. Field order here is the key order of the YAML files.
"""

import re
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    model_serializer,
    model_validator,
)

from . import visible
from .categories import Category
from .l10n import LOCALE_PATTERN, check_country, check_currency, check_locale
from .money import CENT, MAX_MONEY, MAX_QUANTITY, MONEY_SCHEMA, number_as_text
from .settings import DEFAULT_STAGES, Modules, Roles, Settings, Stage
from .stages import loose_key

# ---------------------------------------------------------------- field types

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _visible(value: str, line: bool = False) -> str:
    """Text that reads as it shows (``visible.py``); ``line``: a one-line name."""
    found = visible.problem(value, line=line)
    if found:
        raise ValueError(found)
    return value


def _number(money: bool) -> BeforeValidator:
    """A number as YAML gives it, never text or a boolean (R10): ``amount: "1000"`` is
    refused at its line, as the JSON Schema refuses it, instead of being read as 1000."""

    def check(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, (str, bool)):
            raise ValueError(number_as_text(value, info.field_name, money=money))
        return value

    return BeforeValidator(check)


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _money(value: Decimal) -> Decimal:
    _finite(value)
    if value < 0:
        raise ValueError("money cannot be negative")
    if value > MAX_MONEY:
        raise ValueError(f"money is at most {MAX_MONEY}")
    if value != value.quantize(CENT):
        raise ValueError(f"money has at most two decimals, not {value}")
    return value.quantize(CENT)


def _quantity(value: Decimal) -> Decimal:
    _finite(value)
    if value <= 0:
        raise ValueError("quantity must be greater than zero")
    if value > MAX_QUANTITY:
        raise ValueError(f"quantity is at most {MAX_QUANTITY}")
    return value


def _discount(value: Decimal) -> Decimal:
    _finite(value)
    if not 0 <= value <= 100:
        raise ValueError("discount is a percentage between 0 and 100")
    return value


# any character _line or _text may refuse: text without one (nearly all) is checked by
# one search (the three below and visible's two cost five: a merge of 30,000 notes
# checks 80,000 strings)
_SUSPECT = re.compile(f"[\n\r\u2028\u2029]|{_CONTROL.pattern}|{visible.BIDI.pattern}|"
                      f"{visible.INVISIBLE.pattern}")


def _line(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("cannot be empty")
    if not _SUSPECT.search(value):
        return value
    if any(c in value for c in "\n\r\u2028\u2029"):
        raise ValueError("must fit on one line")
    if _CONTROL.search(value):
        raise ValueError("holds control characters")
    return _visible(value, line=True)


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("cannot be empty")
    if not _SUSPECT.search(value):
        return value
    if _CONTROL.search(value):
        raise ValueError("holds control characters")
    return _visible(value)


# What the JSON Schemas say (schemas.py): the same constraints in a form that editors and
# third-party validators check; validation itself stays with the validators above. Money
# and dates get theirs from schemas.py, which knows how YAML values reach a validator.
_NOT_SHOWN = r"\u007f-\u009f\u202a-\u202e\u2066-\u2069"  # C1 controls, direction controls
_VISIBLE = r"[^\s\u0000-\u001f" + _NOT_SHOWN + "]"
_LINE_CHAR = r"[^\u0000-\u0008\u000a-\u001f\u2028\u2029" + _NOT_SHOWN + "]"  # tab allowed
_TEXT_CHAR = r"[^\u0000-\u0008\u000b-\u001f" + _NOT_SHOWN + "]"  # the same, plus line feeds
_ONE_LINE = "^" + _LINE_CHAR + "*" + _VISIBLE + _LINE_CHAR + "*$"
_SOME_TEXT = "^" + _TEXT_CHAR + "*" + _VISIBLE + _TEXT_CHAR + "*$"


def _string_schema(pattern: str, max_length: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "minLength": 1, "maxLength": max_length,
                           "pattern": pattern})


Money = Annotated[Decimal, _number(money=True), AfterValidator(_money),
                  WithJsonSchema(MONEY_SCHEMA)]
Quantity = Annotated[Decimal, _number(money=False), AfterValidator(_quantity),
                     WithJsonSchema({"type": "number", "exclusiveMinimum": 0,
                                     "maximum": 1000000000})]
Discount = Annotated[Decimal, _number(money=False), AfterValidator(_discount),
                     WithJsonSchema({"type": "number", "minimum": 0, "maximum": 100})]
Line = Annotated[str, AfterValidator(_line), Field(max_length=500),
                 _string_schema(_ONE_LINE, 500)]
Text = Annotated[str, AfterValidator(_text), Field(max_length=100_000),
                 _string_schema(_SOME_TEXT, 100_000)]
OppId = Annotated[str, Field(pattern=r"^[0-9a-z]{4,32}$")]
ItemId = Annotated[str, Field(pattern=r"^[0-9a-z]{2,32}$")]
Sku = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
StageId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(check_currency)]


def _locale(value: str) -> str:
    return check_locale(value)


# a locale tag Babel knows: what people read is written its way (l10n.py)
LocaleTag = Annotated[str, Field(pattern=LOCALE_PATTERN), AfterValidator(_locale)]
Word = Annotated[str, AfterValidator(_line), Field(max_length=100),
                 _string_schema(_ONE_LINE, 100)]


class Model(BaseModel):
    # defer_build: a model's validator is built when first used, so a change (opp note)
    # builds the opportunity's and the settings' and not the twenty others' (#25)
    model_config = ConfigDict(extra="forbid", validate_assignment=False, defer_build=True)


# ---------------------------------------------------------------- the panels


class ProductLine(Model):
    """A catalog product under negotiation (R9-R10)."""

    id: ItemId
    sku: Sku
    name: Line
    quantity: Quantity
    unit_price: Money
    discount: Discount = Decimal(0)
    total: Money


class QuoteLine(Model):
    """A quote line: a catalog line has a SKU, a manual line has none (R12)."""

    id: ItemId
    sku: Sku | None = None
    description: Line
    quantity: Quantity
    unit_price: Money
    discount: Discount = Decimal(0)
    total: Money


QuoteStatus = Literal["draft", "sent", "accepted", "rejected", "superseded"]


class Quote(Model):
    """An offer issued to the customer (R11-R15); an accepted quote becomes superseded
    when its deal is reopened (R15a)."""

    id: ItemId
    status: QuoteStatus = "draft"
    created: date
    sent: date | None = None
    closed: date | None = None
    lines: list[QuoteLine] = []
    total: Money = Decimal("0.00")


class Contact(Model):
    """A referent at the customer; ``person`` is the id of that person in the
    customer's account file, when the deal's customer is an account."""

    id: ItemId
    name: Line
    role: Word
    email: Line | None = None
    phone: Line | None = None
    person: ItemId | None = None


class Partner(Model):
    """An account that supplies or supports the sale."""

    id: ItemId
    account: Line
    role: Word


class Competitor(Model):
    """A company offering similar products."""

    id: ItemId
    account: Line
    role: Word | None = None
    products: Line | None = None
    notes: Text | None = None


class Activity(Model):
    """A call, visit, meeting, e-mail or task done with the customer for this deal."""

    id: ItemId
    type: Word
    subject: Line
    date: date
    done: bool = False
    notes: Text | None = None
    author: Line | None = None


class Document(Model):
    """A file kept under ``documents/<ID>/``, tracked by git."""

    id: ItemId
    path: Line
    title: Line
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: Annotated[int, Field(ge=0), _number(money=False)]
    added: date


class Note(Model):
    """A message or note about the deal, with who wrote it and when."""

    id: ItemId
    author: Line
    date: datetime
    text: Text


AmountSource = Literal["manual", "products", "quote"]


class Opportunity(Model):
    """A deal with a customer (R1): the main data and every panel."""

    id: OppId
    name: Line
    customer: Line
    stage: StageId
    amount: Money = Decimal("0.00")
    amount_source: AmountSource = "manual"
    objective: Money | None = None
    currency: Currency
    close_date: date | None = None
    owner: Line
    lost_reason: Line | None = None
    category: Category | None = None  # the forecast category set on the deal, else the stage's
    ref: Line | None = None
    created: date
    products: list[ProductLine] = []
    quotes: list[Quote] = []
    contacts: list[Contact] = []
    partners: list[Partner] = []
    competitors: list[Competitor] = []
    activities: list[Activity] = []
    documents: list[Document] = []
    notes: list[Note] = []


# ---------------------------------------------------------------- accounts and people

Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(check_country)]


class Person(Model):
    """Someone who works at an account: a deal's contact may name them."""

    id: ItemId
    name: Line
    title: Line | None = None
    email: Line | None = None
    phone: Line | None = None


class Account(Model):
    """A customer, partner or competitor (``accounts/<ID>.yaml``): the record a deal's
    ``customer`` names by id ("il cliente è l'anagrafica")."""

    id: OppId
    name: Line
    aliases: list[Line] = []
    vat: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9A-Z+*.]{2,14}$")] | None = None
    tax_code: Line | None = None
    address: Line | None = None
    city: Line | None = None
    country: Country | None = None
    industry: Line | None = None
    website: Line | None = None
    owner: Line | None = None
    ref: Line | None = None
    notes: Text | None = None
    created: date | None = None
    people: list[Person] = []


# ---------------------------------------------------------------- settings and catalog

StageKind = Literal["open", "won", "lost"]

# The file classes below check the form of opp.yaml; the settings are then read as the
# plain ``settings.Settings`` (``settings_from``). In the JSON Schema a class keeps the
# name of what it checks: "Stage", "Settings" (``schemas.py``).


class StageFile(Model):
    """A step of the sales process, with its probability and kind (R16)."""

    model_config = ConfigDict(title="Stage")

    id: StageId
    label: Line
    probability: Annotated[int, Field(ge=0, le=100), _number(money=False)]
    kind: StageKind = "open"
    category: Category | None = None  # the forecast category of its deals (open stages)

    @model_serializer(mode="wrap")
    def _without_empty_category(self, handler: Any) -> Any:
        """A stage without a category (a won or lost one) is written without the key."""
        data = handler(self)
        if isinstance(data, dict) and data.get("category") is None:
            data.pop("category", None)
        return data


class ModulesFile(Model):
    """Optional parts of opp (R3)."""

    model_config = ConfigDict(title="Modules")

    catalog: bool = True
    quotes: bool = True


_ROLES = Roles()


class RolesFile(Model):
    """The roles people and companies can have in a deal (R2)."""

    model_config = ConfigDict(title="Roles")

    contacts: list[Word] = list(_ROLES.contacts)
    partners: list[Word] = list(_ROLES.partners)
    competitors: list[Word] = list(_ROLES.competitors)


_SETTINGS = Settings()


class SettingsFile(Model):
    """``opp.yaml``: the parameters every opportunity uses (R2, R3, R16)."""

    model_config = ConfigDict(title="Settings")

    currency: Currency = _SETTINGS.currency
    locale: LocaleTag = _SETTINGS.locale
    stages: list[StageFile] = Field(
        default_factory=lambda: [StageFile(**s.as_data()) for s in DEFAULT_STAGES])
    default_stage: StageId = _SETTINGS.default_stage
    activity_types: list[Word] = list(_SETTINGS.activity_types)
    roles: RolesFile = Field(default_factory=RolesFile)
    lost_reasons: list[Word] = list(_SETTINGS.lost_reasons)
    modules: ModulesFile = Field(default_factory=ModulesFile)

    @model_validator(mode="after")
    def _stages_hold(self) -> "SettingsFile":
        ids = [s.id for s in self.stages]
        counts = Counter(ids)  # not ids.count() per id: 20,000 stages stay quick
        dupes = sorted(i for i, n in counts.items() if n > 1)
        if dupes:
            raise ValueError(f"stage ids must be unique: {', '.join(dupes)}")
        labels = [s.label.casefold() for s in self.stages]
        if len(set(labels)) != len(labels):
            raise ValueError("stage labels must be unique")
        for kind in ("open", "won", "lost"):
            if not any(s.kind == kind for s in self.stages):
                raise ValueError(f"stages need at least one '{kind}' stage")
        default = next((s for s in self.stages if s.id == self.default_stage), None)
        if default is None:
            more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
            raise ValueError(f"default_stage '{self.default_stage}' is not one of the stages: "
                             f"{', '.join(ids[:10])}{more}")
        if default.kind != "open":
            raise ValueError(f"default_stage '{self.default_stage}' must be an open stage")
        return self

    def value(self) -> Settings:
        """The checked file as the settings every layer reads: built from the fields
        themselves (what ``Settings.from_data(model_dump())`` gives, without pydantic's
        serializer: a quarter of a change to 20,000 stages)."""
        roles, modules = self.roles, self.modules
        return Settings(self.currency, self.locale,
                        tuple(Stage(s.id, s.label, s.probability, s.kind, s.category)
                              for s in self.stages), self.default_stage,
                        tuple(self.activity_types),
                        Roles(tuple(roles.contacts), tuple(roles.partners),
                              tuple(roles.competitors)),
                        tuple(self.lost_reasons), Modules(modules.catalog, modules.quotes))


def settings_from(data: Any) -> Settings:
    """The settings of ``opp.yaml``'s data, checked (pydantic's ``ValidationError`` says
    what does not hold)."""
    return SettingsFile.model_validate(data).value()


class CatalogItem(Model):
    """A product that can be sold (R9); its price is in the settings' currency."""

    sku: Sku
    name: Line
    price: Money
    unit: Word | None = None


class Catalog(Model):
    """``catalog.yaml``: the products opportunities may hold."""

    products: list[CatalogItem] = []

    @model_validator(mode="after")
    def _unique_skus(self) -> "Catalog":
        seen: set[str] = set()
        names: dict[str, CatalogItem] = {}
        for item in self.products:
            key = item.sku.casefold()
            if key in seen:
                raise ValueError(f"SKU '{item.sku}' appears twice")
            seen.add(key)
            # two names that match loosely ('GTX Pro', 'gtx-pro') would make a name find
            # two products (R9): refused here, so the merge of two clones and validate agree
            name = loose_key(item.name)
            other = names.setdefault(name, item)
            if other is not item:
                raise ValueError(f"products {other.sku} ('{other.name}') and {item.sku} "
                                 f"('{item.name}') have one name, loosely compared; rename "
                                 "one (opp catalog update SKU --name NAME)")
        return self

    def find(self, sku: str) -> CatalogItem | None:
        key = sku.casefold()
        return next((p for p in self.products if p.sku.casefold() == key), None)


# ---------------------------------------------------------------- quotas

QuotaPeriod = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$")]


class QuotaEntry(Model):
    """A sales quota: what an owner should win in a month or a quarter, in a currency."""

    owner: Line
    period: QuotaPeriod
    amount: Money
    currency: Currency


class Quotas(Model):
    """``quotas.yaml``: the sales quotas, one per owner, period and currency."""

    quotas: list[QuotaEntry] = []

    @model_validator(mode="after")
    def _one_per_owner_period_currency(self) -> "Quotas":
        seen: set[tuple[str, str, str]] = set()
        for q in self.quotas:
            key = (q.owner.casefold(), q.period, q.currency)
            if key in seen:
                raise ValueError(f"{q.owner} has two quotas for {q.period} in {q.currency}")
            seen.add(key)
        return self
