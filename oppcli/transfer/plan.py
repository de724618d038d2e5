"""CSV import and export as pure functions: rows in, opportunities or errors out.

Nothing here reads files, takes locks or runs git: the command line hands over the
bytes of the file and the repo's data, and stores what comes back. An import is
planned in full before anything is written, so that every bad row can be reported
at once and a good file becomes one commit (all or nothing).

Decisions (documented in the README, "Import and export"):

- Columns are matched by name, case and punctuation ignored (``Close Date``,
  ``close_date`` and ``CLOSE-DATE`` are one name); the usual headers of
  Salesforce and HubSpot exports are known (``ALIASES``); ``--map`` names the
  others, ``--map COLUMN=`` ignores one. Unknown columns are ignored (and named).
- A blank cell means "not given": on a row that updates an opportunity it leaves
  the field as it is (clear fields with ``opp set``); on a row that creates one
  it takes the ``--default`` of the field, else the usual default of ``opp new``
  (stage: the default stage; amount 0.00; owner: you; currency: opp.yaml's).
  ``name`` and ``customer`` are required when creating.
- A row is matched to an opportunity by ``id`` (an opp id), else by ``ref``
  (an external id); an ``id`` that is not there yet creates the opportunity
  with that id, so that an export comes back with the same ids.
- The rules are those of the typed commands (``rules.py``): a closed
  opportunity is read-only (R17) unless the row gives an open stage, which
  reopens it; a won or lost stage closes it on the row's close date, today when
  blank (R17a); an amount on an opportunity with products is refused unless it
  is the products' total (R5).
- ``product`` names one catalog product (SKU or name, ignoring case, spaces and
  punctuation): the row then holds one product line, quantity 1, priced at the
  row's amount (0.00 when blank), and the amount is that line's total (R4, R6).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import ids, opportunity, products, stages
from ..domain.model import Catalog, CatalogItem, Opportunity, Settings, Stage
from ..domain.money import ZERO, money_str, parse_money
from ..errors import DataError, OppError, RuleError, UsageError

OPPORTUNITY_FIELDS = ("id", "ref", "name", "customer", "stage", "amount", "objective",
                      "currency", "close_date", "owner", "lost_reason", "created", "product")
CATALOG_FIELDS = ("sku", "name", "price", "unit")
REQUIRED_TO_CREATE = ("name", "customer")

# The header names other tools write, by field (compared through ``header_key``).
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "opp id"),
    "ref": ("ref", "external id", "opportunity id", "record id", "deal id", "crm id"),
    "name": ("name", "opportunity name", "opportunity", "deal name", "deal", "title"),
    "customer": ("customer", "customer name", "account", "account name", "company",
                 "company name", "associated company", "associated company primary",
                 "client", "organization", "organisation"),
    "stage": ("stage", "stage name", "stagename", "deal stage", "opportunity stage",
              "sales stage"),
    "amount": ("amount", "deal amount", "opportunity amount", "value", "deal value"),
    "objective": ("objective", "target"),
    "currency": ("currency", "currency code", "opportunity currency", "deal currency code",
                 "amount currency", "currencyisocode"),
    "close_date": ("close date", "closedate", "expected close date", "closing date"),
    "owner": ("owner", "owner name", "opportunity owner", "deal owner", "sales rep",
              "salesperson", "sales person", "sales agent"),
    "lost_reason": ("lost reason", "closed lost reason", "loss reason", "reason lost"),
    "created": ("created", "created date", "create date", "created on", "createddate"),
    "product": ("product", "product name", "sku", "product code"),
}

CATALOG_ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "product code", "code", "item code", "part number", "productcode"),
    "name": ("name", "product", "product name", "item", "item name"),
    "price": ("price", "unit price", "list price", "sales price", "sale price",
              "unitprice", "listprice"),
    "unit": ("unit", "uom", "unit of measure", "quantity unit of measure"),
}

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T][0-9]{2}:[0-9]{2}"
                   r"(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?")
_OPP_ID = re.compile(r"[0-9a-z]{4,32}")
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def header_key(text: str) -> str:
    """A column name compared loosely: case, spaces, '_', '-' and punctuation ignored."""
    return " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())


loose_key = stages.loose_key  # one definition of "the same name, loosely"


# ---------------------------------------------------------------- reading a CSV file


@dataclass
class Table:
    """A CSV file read: its header and its data rows with the line each starts on."""

    header: list[str]
    rows: list[tuple[int, list[str]]]


# A cell a spreadsheet would run as a formula: it starts, after any apostrophes, with
# one of these (OWASP's list). Written out behind one more apostrophe, which Excel,
# LibreOffice and Google Sheets show as text; read back, that one apostrophe goes.
# Numbers ("-250.00" in a report) are left as they are. Excel in many European locales
# opens a .csv split at semicolons, so each piece after a ';' is guarded the same way.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_GUARDED = re.compile(r"'+[=+\-@\t\r]")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def _guard_piece(text: str) -> str:
    if _FORMULA.match(text) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _unguard_piece(text: str) -> str:
    return text[1:] if _GUARDED.match(text) else text


def guard_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula (``unguard_cell`` undoes it)."""
    if ";" in text:
        return ";".join(_guard_piece(piece) for piece in text.split(";"))
    return _guard_piece(text)


def unguard_cell(cell: str) -> str:
    """A cell as ``guard_cell`` was given it: one apostrophe before a formula sign goes."""
    if ";" in cell:
        return ";".join(_unguard_piece(piece) for piece in cell.split(";"))
    return _unguard_piece(cell)


def _sniff_delimiter(first_line: str) -> str:
    """',' unless the header holds none and does hold ';' or a tab (European exports)."""
    if "," in first_line:
        return ","
    for candidate in (";", "\t"):
        if candidate in first_line:
            return candidate
    return ","


def read_csv(data: bytes) -> Table:
    """Parse CSV bytes (UTF-8, a BOM allowed, first row a header); ``DataError`` with the
    line when the file cannot be read as CSV at all."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataError(f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8 "
                        "(in Excel: CSV UTF-8)", line=line) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError("the file holds NUL bytes; it is not a CSV text file",
                        line=text.count("\n", 0, nul) + 1)
    if not text.strip():
        raise DataError("the file is empty; its first row must be a header naming the columns")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue  # blank lines, before the header or between rows
            if header is None:
                header = [c.strip() for c in cells]
            else:
                rows.append((line, [unguard_cell(c) for c in cells]))
    except csv.Error as exc:
        raise DataError(f"not a readable CSV file: {exc}", line=start) from None
    if header is None:  # pragma: no cover - the emptiness check above catches it
        raise DataError("the file has no header row")
    return Table(header, rows)


# ---------------------------------------------------------------- columns to fields


@dataclass(frozen=True)
class ColumnMap:
    """Which column gives which field, and the defaults of blank cells."""

    header: tuple[str, ...]
    fields: dict[str, int]                  # field -> column index
    defaults: dict[str, str] = field(default_factory=dict)  # field -> template
    ignored: tuple[str, ...] = ()           # columns no field takes

    def column(self, name: str) -> str:
        """The header of the column giving field ``name`` (for messages)."""
        index = self.fields.get(name)
        return self.header[index] if index is not None else name


def split_pair(text: str, option: str, *, last: bool) -> tuple[str, str]:
    """'LEFT=RIGHT' split at the first (or ``last``) '='; ``UsageError`` without one."""
    left, sep, right = text.rpartition("=") if last else text.partition("=")
    if not sep:
        raise UsageError(f"{option} '{text}' needs the form {option_form(option)}")
    return left.strip(), right.strip()


def option_form(option: str) -> str:
    return {"--map": "COLUMN=FIELD", "--default": "FIELD=VALUE",
            "--stage-map": "TEXT=STAGE"}.get(option, "A=B")


def _field_name(text: str, fields: Sequence[str], option: str) -> str:
    name = header_key(text).replace(" ", "_")
    if name in fields:
        return name
    raise UsageError(f"{option}: unknown field '{text}'; fields are: {', '.join(fields)}"
                     f"{stages.near(name, fields)}")


def find_column(header: Sequence[str], name: str, option: str) -> int:
    """The index of the column called ``name``: exactly, else loosely (``header_key``)."""
    exact = [i for i, h in enumerate(header) if h == name]
    loose = exact or [i for i, h in enumerate(header) if header_key(h) == header_key(name)]
    if len(loose) == 1:
        return loose[0]
    shown = ", ".join(f"'{h}'" for h in header)
    if not loose:
        raise UsageError(f"{option}: the file has no column '{name}'; its columns are: {shown}")
    raise UsageError(f"{option}: {len(loose)} columns are called '{name}'; rename one in the "
                     "file")


def map_columns(header: Sequence[str], fields: Sequence[str] = OPPORTUNITY_FIELDS,
                aliases: dict[str, tuple[str, ...]] = ALIASES, maps: Iterable[str] = (),
                defaults: Iterable[str] = ()) -> ColumnMap:
    """Decide which column gives which field.

    ``maps`` are ``COLUMN=FIELD[,FIELD…]`` (``COLUMN=`` or ``COLUMN=-`` ignores the
    column); they win over the names recognised by ``aliases``. Two columns giving
    one field is a ``UsageError`` that says how to choose.
    """
    header = tuple(header)
    chosen: dict[str, int] = {}
    taken: set[int] = set()
    for item in maps:
        column, targets = split_pair(item, "--map", last=True)
        index = find_column(header, column, "--map")
        taken.add(index)
        for target in filter(None, (t.strip() for t in targets.split(","))):
            if target == "-":
                continue
            name = _field_name(target, fields, "--map")
            if name in chosen and chosen[name] != index:
                raise UsageError(f"--map gives field {name} two columns: "
                                 f"'{header[chosen[name]]}' and '{header[index]}'")
            chosen[name] = index
    by_key = {header_key(alias): name for name, names in aliases.items() for alias in names}
    auto: dict[str, list[int]] = {}
    for index, column in enumerate(header):
        found = by_key.get(header_key(column))
        if index in taken or found is None or found in chosen:
            continue
        auto.setdefault(found, []).append(index)
    for name, indexes in auto.items():
        if len(indexes) > 1:
            both = " and ".join(f"'{header[i]}'" for i in indexes)
            raise UsageError(f"columns {both} both give field {name}; keep one with "
                             f"--map '{header[indexes[0]]}={name}' --map '{header[indexes[1]]}='")
        chosen[name] = indexes[0]
    templates: dict[str, str] = {}
    for item in defaults:
        target, value = split_pair(item, "--default", last=False)
        name = _field_name(target, fields, "--default")
        for column in re.findall(r"\{([^{}]+)\}", value):
            find_column(header, column, f"--default {name}")
        templates[name] = value
    used = set(chosen.values())
    ignored = tuple(h or f"column {i + 1}" for i, h in enumerate(header)
                    if i not in used and i not in taken)
    if not chosen and not templates:  # another file than meant, or no header row
        shown = ", ".join(repr(h) for h in ignored[:5]) + (", …" if len(ignored) > 5 else "")
        raise DataError(f"no column of the first row ({shown}) is one opp reads; the first "
                        f"row names the columns ({', '.join(fields)}), or --map COLUMN=FIELD "
                        "says which gives what", line=1)
    return ColumnMap(header, dict(sorted(chosen.items(), key=lambda kv: fields.index(kv[0]))),
                     templates, ignored)


def parse_stage_map(items: Iterable[str], settings: Settings) -> dict[str, Stage]:
    """``--stage-map TEXT=STAGE``: the stage a value of the file stands for."""
    out: dict[str, Stage] = {}
    for item in items:
        text, stage = split_pair(item, "--stage-map", last=True)
        out[text.casefold()] = stages.resolve_stage(settings, stage)
    return out


# ---------------------------------------------------------------- cell values


def one_line(text: str, what: str, limit: int = 500) -> str:
    """A one-line text cell (name, customer, owner, ref…), as the models want it."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must fit on one line")
    if _CONTROL.search(text):
        raise ValueError(f"{what} holds control characters")
    if len(text) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return text


def parse_day(text: str, what: str) -> date:
    """YYYY-MM-DD; a time after it (as HubSpot writes) is allowed and dropped."""
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD, e.g. "
                         "2026-12-31")
    try:
        return date.fromisoformat(match.group(1))
    except ValueError as exc:
        raise ValueError(f"{what} '{text}' is not a real date ({exc})") from None


def derive_sku(name: str) -> str:
    """A SKU made from a product name, for catalogs without codes: 'GTX Pro' -> 'GTX-Pro'."""
    sku = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:64].rstrip("-._")
    if not sku:
        raise ValueError(f"cannot make a SKU from the name '{name}'; add a sku column")
    return sku


class Lookup:
    """Stages and catalog products by the words a file uses for them, cached."""

    def __init__(self, settings: Settings, catalog: Catalog,
                 stage_map: dict[str, Stage] | None = None):
        self.settings = settings
        self.stage_map = stage_map or {}
        self._stages: dict[str, Stage | str] = {}
        self._products: dict[str, list[CatalogItem]] = {}
        for item in catalog.products:
            for key in {item.sku.casefold(), item.name.casefold(), loose_key(item.sku),
                        loose_key(item.name)}:
                bucket = self._products.setdefault(key, [])
                if item not in bucket:
                    bucket.append(item)
        self._skus = {item.sku.casefold(): item for item in catalog.products}

    def stage(self, text: str, what: str) -> Stage:
        """By --stage-map, then id or label (``rules.resolve_stage``), then loosely."""
        key = text.casefold()
        found = self._stages.get(key)
        if found is None:
            found = self.stage_map.get(key)
            if found is None:
                try:  # by id or label, then loosely ('Closed Won' finds closed-won)
                    found = stages.resolve_stage(self.settings, text)
                except OppError as exc:
                    found = f"{what}: {exc.message}; or map it with --stage-map '{text}=STAGE'"
            self._stages[key] = found
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def product(self, text: str, what: str) -> CatalogItem:
        """By SKU, else by name, else loosely (letters and digits only)."""
        exact = self._skus.get(text.casefold())
        if exact is not None:
            return exact
        for key in (text.casefold(), loose_key(text)):
            found = self._products.get(key, [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                raise ValueError(f"{what} '{text}' could be {' or '.join(p.sku for p in found)}; "
                                 "write the SKU")
        raise ValueError(f"{what} '{text}' is not in the catalog; add it first (opp catalog "
                         "add, or opp catalog import)")


def parse_value(name: str, text: str, what: str, lookup: Lookup, today: date) -> Any:
    """The typed value of one non-blank cell of field ``name``; ``ValueError`` says why not."""
    if name == "id":
        value = text.casefold()
        if not _OPP_ID.fullmatch(value):
            raise ValueError(f"{what} '{text}' is not an opp id (4 to 32 lower-case letters "
                             "and digits); put other tools' ids in the ref column")
        return value
    if name in ("amount", "objective"):
        return parse_money(text, what)
    if name == "stage":
        return lookup.stage(text, what)
    if name in ("close_date", "created"):
        day = parse_day(text, what)
        if name == "created" and day > today:
            raise ValueError(f"{what} {day} is in the future (today is {today})")
        return day
    if name == "currency":
        code = text.upper()
        if not _CURRENCY.fullmatch(code):
            raise ValueError(f"{what} '{text}' is not a currency code; use three letters such "
                             "as EUR or USD")
        return code
    if name == "product":
        return lookup.product(text, what)
    return one_line(text, what)


# ---------------------------------------------------------------- planning an import


@dataclass(frozen=True)
class RowError:
    """What is wrong with the row that starts on ``line`` of the file."""

    line: int
    message: str


@dataclass
class Entry:
    """What a good row does: create, update, or leave an opportunity unchanged."""

    line: int
    action: str
    opportunity: Opportunity
    before: Opportunity | None = None
    changed: tuple[str, ...] = ()
    new_id: bool = False  # the id was made up for this run (a dry run shows none)


@dataclass
class ImportPlan:
    entries: list[Entry] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for e in self.entries if e.action == action)

    @property
    def writes(self) -> list[Opportunity]:
        """The opportunities to store: created and updated ones."""
        return [e.opportunity for e in self.entries if e.action != "unchanged"]


class _RowFailed(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages


def render_default(template: str, header: Sequence[str], cells: Sequence[str]) -> str:
    """A --default value with its {COLUMN} placeholders filled from the row."""
    def cell(match: re.Match) -> str:
        index = find_column(header, match.group(1), "--default")
        return cells[index].strip() if index < len(cells) else ""
    return re.sub(r"\{([^{}]+)\}", cell, template).strip()


def single_product(opp: Opportunity) -> str | None:
    """The SKU of the one line an import's ``product`` column stands for, if that is
    what the opportunity holds: one line, quantity 1, no discount, amount from it."""
    if opp.amount_source != "products" or len(opp.products) != 1:
        return None
    line = opp.products[0]
    return line.sku if line.quantity == 1 and line.discount == 0 else None


def _closed_differences(opp: Opportunity, values: dict) -> list[str]:
    """The fields a row would change on a closed opportunity that it leaves closed."""
    out = []
    for name, value in values.items():
        if name == "stage":
            current, wanted = opp.stage, value.id
        elif name == "product":
            current, wanted = (single_product(opp) or "").casefold(), value.sku.casefold()
        else:
            current, wanted = getattr(opp, name), value
        if current != wanted:
            out.append(name)
    return out


def _set_products(opp: Opportunity, settings: Settings, item: CatalogItem,
                  price: Decimal) -> Opportunity:
    """The ``product`` column: one line of ``item``, quantity 1, at ``price`` (R4, R6)."""
    if not opp.products:
        return products.add_product(opp, settings, item, unit_price=price)
    if single_product(opp) is None:
        raise RuleError(f"opportunity {opp.id} has {len(opp.products)} product line(s) that "
                        "are not one line of quantity 1; the product column stands for a "
                        "single line: leave it blank on this row, or change the products with "
                        f"opp update-product {opp.id}")
    line = opp.products[0]
    if line.sku.casefold() != item.sku.casefold():
        opp = products.remove_product(opp, settings, line.id)
        return products.add_product(opp, settings, item, unit_price=price, line_id=line.id)
    if line.unit_price != price:
        return products.update_product(opp, settings, line.id, unit_price=price)
    return opp


def update_opportunity(opp: Opportunity, values: dict, settings: Settings,
                       today: date) -> Opportunity:
    """A row applied to an existing opportunity: only the fields it gives (R5, R17)."""
    kind = stages.status(opp, settings)
    target: Stage | None = values.get("stage")
    reason = values.get("lost_reason")
    if kind != "open":
        if target is None or target.kind != "open":
            changes = _closed_differences(opp, values)
            if changes:
                raise RuleError(f"opportunity {opp.id} is closed ({kind}) and read-only (R17), "
                                f"but this row changes its {', '.join(changes)}; give an open "
                                "stage in the row to reopen it, or leave those cells as they "
                                "are")
            return opp
        opp = opportunity.reopen(opp, settings, target, values.get("close_date"))
    final = target or stages.stage_of(opp, settings)
    if reason is not None and final.kind != "lost":
        raise RuleError(f"lost_reason '{reason}' is for a lost stage; this row leaves the "
                        f"opportunity at '{final.id}'")
    for name in ("name", "customer", "owner", "currency", "ref"):
        if name in values and values[name] != getattr(opp, name):
            opp = opportunity.set_field(opp, settings, name, values[name])
    if "created" in values and values["created"] != opp.created:
        opp = opp.model_copy(update={"created": values["created"]})
    if "objective" in values and values["objective"] != opp.objective:
        opp = opportunity.set_objective(opp, settings, values["objective"])
    closing = final.kind != "open" and final.id != opp.stage
    if "close_date" in values and not closing and values["close_date"] != opp.close_date:
        opp = opportunity.set_field(opp, settings, "close_date", values["close_date"])
    amount = values.get("amount")
    if "product" in values:
        price = amount if amount is not None else opp.amount
        opp = _set_products(opp, settings, values["product"], price)
    elif amount is not None and amount != opp.amount:
        opp = opportunity.set_amount(opp, settings, amount)
    if target is not None and target.id != opp.stage:
        opp = opportunity.change_stage(opp, settings, target, today=today,
                                 close_date=values.get("close_date") if closing else None,
                                 reason=reason)
    return opp


def create_opportunity(opp_id: str, values: dict, settings: Settings, *, today: date,
                       owner: str) -> Opportunity:
    """A row that creates an opportunity, built as ``opp new`` and ``opp stage`` would."""
    stage: Stage = values.get("stage") or settings.stage(settings.default_stage)
    reason = values.get("lost_reason")
    if reason is not None and stage.kind != "lost":
        raise RuleError(f"lost_reason '{reason}' is for a lost stage, not '{stage.id}'")
    first = stage if stage.kind == "open" else settings.stage(settings.default_stage)
    product = values.get("product")
    amount = values.get("amount")
    opp = opportunity.new_opportunity(
        settings, opp_id=opp_id, name=values["name"], customer=values["customer"],
        owner=values.get("owner") or owner, today=today,
        amount=None if product else amount, objective=values.get("objective"), stage=first,
        close_date=values.get("close_date") if stage.kind == "open" else None,
        currency=values.get("currency"), ref=values.get("ref"))
    if "created" in values:
        opp = opp.model_copy(update={"created": values["created"]})
    if product is not None:
        opp = products.add_product(opp, settings, product, unit_price=amount or ZERO)
    if stage.kind != "open":
        opp = opportunity.change_stage(opp, settings, stage, today=today,
                                 close_date=values.get("close_date"), reason=reason)
    return opp


def plan_import(table: Table, columns: ColumnMap, settings: Settings, catalog: Catalog,
                existing: Sequence[Opportunity], *, today: date, owner: str,
                stage_map: dict[str, Stage] | None = None,
                progress: Callable[[int], None] | None = None) -> ImportPlan:
    """Every row checked against the rules and the repo's opportunities.

    The result has an entry per good row and every problem of every bad row; the
    caller stores the entries only when there is no error at all.
    """
    lookup = Lookup(settings, catalog, stage_map)
    by_id = {opp.id: opp for opp in existing}
    by_ref: dict[str, list[Opportunity]] = {}
    for opp in existing:
        if opp.ref is not None:
            by_ref.setdefault(opp.ref, []).append(opp)
    taken = set(by_id)
    width = len(table.header)
    seen_ids: dict[str, int] = {}
    seen_refs: dict[str, int] = {}
    plan = ImportPlan()
    items = list(columns.fields.items())
    for index, (line, cells) in enumerate(table.rows):
        if progress is not None and index % 100 == 0:
            progress(min(100, len(table.rows) - index))
        try:
            plan.entries.append(_plan_row(
                line, cells, width, items, columns, lookup, settings, by_id, by_ref, taken,
                seen_ids, seen_refs, today, owner))
        except _RowFailed as exc:
            plan.errors.extend(RowError(line, m) for m in exc.messages)
    return plan


def _plan_row(line: int, cells: list[str], width: int, items: list[tuple[str, int]],
              columns: ColumnMap, lookup: Lookup, settings: Settings,
              by_id: dict[str, Opportunity], by_ref: dict[str, list[Opportunity]],
              taken: set[str], seen_ids: dict[str, int], seen_refs: dict[str, int],
              today: date, owner: str) -> Entry:
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        raise _RowFailed([f"the row has {len(cells)} cells but the header names {width} "
                          "columns; quote cells that hold the delimiter"])
    messages: list[str] = []
    values: dict = {}
    for name, index in items:
        text = cells[index].strip() if index < len(cells) else ""
        if not text:
            continue
        try:
            values[name] = parse_value(name, text, columns.header[index], lookup, today)
        except ValueError as exc:
            messages.append(str(exc))
    if messages:
        raise _RowFailed(messages)

    opp_id, ref = values.get("id"), values.get("ref")
    for key, seen, what in ((opp_id, seen_ids, "id"), (ref, seen_refs, "ref")):
        if key is not None:
            if key in seen:
                raise _RowFailed([f"{what} '{key}' is also on line {seen[key]}; one row per "
                                  "opportunity"])
            seen[key] = line
    target = by_id.get(opp_id) if opp_id is not None else None
    if ref is not None:
        holders = [o for o in by_ref.get(ref, []) if target is None or o.id != target.id]
        if opp_id is not None and holders:
            raise _RowFailed([f"ref '{ref}' belongs to opportunity {holders[0].id}, not to "
                              f"{opp_id}"])
        if opp_id is None:
            if len(holders) > 1:
                raise _RowFailed([f"ref '{ref}' is on {len(holders)} opportunities ("
                                  f"{', '.join(o.id for o in holders)}); give the id column "
                                  "or fix the refs with opp set ID ref"])
            target = holders[0] if holders else None

    if target is not None:
        try:
            after = update_opportunity(target, values, settings, today)
        except OppError as exc:
            raise _RowFailed([f"{target.id}: {exc.message}"]) from None
        except ValueError as exc:  # a model refused a value the checks above let through
            raise _RowFailed([f"{target.id}: invalid row: {exc}"]) from None
        if after == target:
            return Entry(line, "unchanged", target, target)
        changed = tuple(n for n in Opportunity.model_fields
                        if getattr(after, n) != getattr(target, n))
        return Entry(line, "update", after, target, changed)

    for name, template in columns.defaults.items():
        if name not in values:
            text = render_default(template, columns.header, cells)
            if text:
                try:
                    values[name] = parse_value(name, text, f"default {name}", lookup, today)
                except ValueError as exc:
                    messages.append(str(exc))
    for name in REQUIRED_TO_CREATE:
        if name not in values and not messages:
            if name in columns.fields:
                messages.append(f"{columns.column(name)} is blank; a new opportunity needs "
                                f"its {name}: fill it in, or give --default {name}=VALUE")
            else:
                messages.append(f"no {name}: the file has no {name} column; name one with "
                                f"--map COLUMN={name}, or give --default {name}=VALUE")
    if messages:
        raise _RowFailed(messages)
    made_up = opp_id is None
    if opp_id is None:
        opp_id = ids.new_id(taken)
    taken.add(opp_id)
    try:
        opp = create_opportunity(opp_id, values, settings, today=today, owner=owner)
    except OppError as exc:
        raise _RowFailed([exc.message]) from None
    except ValueError as exc:  # a model refused a value the checks above let through
        raise _RowFailed([f"invalid row: {exc}"]) from None
    return Entry(line, "create", opp, new_id=made_up)


# ---------------------------------------------------------------- export


def export_row(opp: Opportunity) -> dict[str, str | None]:
    """An opportunity as a row of the CSV the import reads (same fields, same words)."""
    return {"id": opp.id, "ref": opp.ref, "name": opp.name, "customer": opp.customer,
            "stage": opp.stage, "amount": money_str(opp.amount),
            "objective": money_str(opp.objective) if opp.objective is not None else None,
            "currency": opp.currency,
            "close_date": opp.close_date.isoformat() if opp.close_date else None,
            "owner": opp.owner, "lost_reason": opp.lost_reason,
            "created": opp.created.isoformat(), "product": single_product(opp)}


def csv_text(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """Rows as CSV text, header first: None is a blank cell, a date ISO, text a cell no
    spreadsheet runs as a formula (``guard_cell``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return guard_cell(str(value))


# ---------------------------------------------------------------- catalog import


@dataclass
class CatalogPlan:
    catalog: Catalog
    created: list[CatalogItem] = field(default_factory=list)
    updated: list[tuple[CatalogItem, CatalogItem]] = field(default_factory=list)
    unchanged: list[CatalogItem] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def plan_catalog_import(table: Table, columns: ColumnMap, catalog: Catalog) -> CatalogPlan:
    """Products by SKU: new ones added, existing ones updated with the cells given, every
    bad row reported.

    A row without a SKU names its product: one of the catalog whose name matches
    (case, spaces and punctuation ignored) is updated; otherwise the SKU is made from
    the name. Two products never end up with one name (loosely compared): a row that
    would create or rename one so is refused, as ``opp import`` could no longer tell
    them apart by name.
    """
    if "sku" not in columns.fields and "name" not in columns.fields:
        raise UsageError("the file has neither a sku nor a name column; name them with "
                         "--map COLUMN=sku --map COLUMN=name")
    products = {p.sku.casefold(): p for p in catalog.products}
    by_name: dict[str, list[CatalogItem]] = {}
    for item in catalog.products:
        by_name.setdefault(loose_key(item.name), []).append(item)
    plan = CatalogPlan(catalog)
    seen: dict[str, int] = {}
    named: dict[str, int] = {}  # loose name -> line of the row creating or renaming to it
    width = len(table.header)
    for line, cells in table.rows:
        messages: list[str] = []
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            plan.errors.append(RowError(line, f"the row has {len(cells)} cells but the "
                                              f"header names {width} columns"))
            continue
        values: dict = {}
        for name, index in columns.fields.items():
            text = cells[index].strip() if index < len(cells) else ""
            if not text:
                continue
            what = columns.header[index]
            try:
                if name == "price":
                    values[name] = parse_money(text, what)
                elif name == "sku":
                    if not _SKU.fullmatch(text):
                        raise ValueError(f"{what} '{text}' is not a valid SKU; use letters, "
                                         "digits, '.', '_' and '-' (up to 64)")
                    values[name] = text
                else:
                    values[name] = one_line(text, what, 100 if name == "unit" else 500)
            except ValueError as exc:
                messages.append(str(exc))
        if not messages and "sku" not in values:
            if "name" not in values:
                messages.append("the row has neither a SKU nor a name")
            else:
                holders = by_name.get(loose_key(values["name"]), [])
                if len(holders) > 1:
                    messages.append(f"{columns.column('name')} '{values['name']}' could be "
                                    f"{' or '.join(p.sku for p in holders)}; add a sku column "
                                    "to say which")
                elif holders:
                    # the product of that name: update it (the name found it; it stays)
                    values["sku"], values["name"] = holders[0].sku, holders[0].name
                else:
                    try:
                        values["sku"] = derive_sku(values["name"])
                    except ValueError as exc:
                        messages.append(str(exc))
        if messages:
            plan.errors.extend(RowError(line, m) for m in messages)
            continue
        key = values["sku"].casefold()
        if key in seen:
            plan.errors.append(RowError(line, f"SKU '{values['sku']}' is also on line "
                                              f"{seen[key]}"))
            continue
        seen[key] = line
        current = products.get(key)
        if "name" in values and (current is None
                                 or loose_key(values["name"]) != loose_key(current.name)):
            clash = _name_clash(values["name"], key, by_name, named, line)
            if clash:
                plan.errors.append(RowError(line, clash))
                continue
        if current is None:
            missing = [n for n in ("name", "price") if n not in values]
            if missing:
                plan.errors.append(RowError(line, f"new product {values['sku']} needs its "
                                                  f"{' and '.join(missing)}"))
                continue
            try:
                item = CatalogItem(**values)
            except ValueError as exc:  # pragma: no cover - the checks above come first
                plan.errors.append(RowError(line, f"invalid row: {exc}"))
                continue
            products[key] = item
            plan.created.append(item)
            _rename(by_name, None, item)
            named[loose_key(item.name)] = line
            continue
        after = current.model_copy(update={k: v for k, v in values.items() if k != "sku"})
        if after == current:
            plan.unchanged.append(current)
        else:
            products[key] = after
            plan.updated.append((current, after))
            if loose_key(after.name) != loose_key(current.name):
                _rename(by_name, current, after)
                named[loose_key(after.name)] = line
    plan.catalog = Catalog(products=sorted(products.values(), key=lambda p: p.sku.casefold()))
    return plan


def _name_clash(name: str, sku_key: str, by_name: dict[str, list[CatalogItem]],
                named: dict[str, int], line: int) -> str | None:
    """Why a product (SKU ``sku_key``) cannot take ``name``: another product has it."""
    key = loose_key(name)
    others = [p for p in by_name.get(key, []) if p.sku.casefold() != sku_key]
    if not others:
        return None
    other = others[0]
    where = (f"line {named[key]} of this file gives it to {other.sku}" if key in named
             else f"catalog product {other.sku} is called '{other.name}'")
    return (f"name '{name}' is taken: {where}; two products with one name could not be "
            f"told apart by name (opp import's product column): update {other.sku} "
            "instead (its sku in the sku column), or choose another name")


def _rename(by_name: dict[str, list[CatalogItem]], before: CatalogItem | None,
            after: CatalogItem) -> None:
    if before is not None:
        bucket = by_name.get(loose_key(before.name), [])
        by_name[loose_key(before.name)] = [p for p in bucket
                                           if p.sku.casefold() != before.sku.casefold()]
    by_name.setdefault(loose_key(after.name), []).append(after)
