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
- ``customer_id`` (what ``opp export`` writes beside ``customer``) names the account
  by its opp id: an account of the repo (the ``customer`` cell, when given, must name
  it too), else the id the account the row's customer creates gets, so that an
  export imported into another repo keeps its account ids. A ``customer`` naming an
  account of the repo takes that one, whatever id another repo gave it.
- ``product`` names one catalog product (SKU or name, ignoring case, spaces and
  punctuation): the row then holds one product line, quantity 1, priced at the
  row's amount (0.00 when blank), and the amount is that line's total (R4, R6).
"""


from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain import ids, opportunity, products, stages
from ..domain.accounts import ACCOUNT_ID, Directory, normalise
from ..domain.l10n import check_currency
from ..domain.model import Catalog, CatalogItem, Opportunity
from ..domain.money import ZERO, money_str
from ..domain.settings import Settings, Stage
from ..errors import OppError, RuleError
from .columns import REQUIRED_TO_CREATE, ColumnMap, render_default
from .reading import PLAIN, Reading
from .sheet import Cell, Table, cell_text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


_OPP_ID = re.compile(r"[0-9a-z]{4,32}")


SKU_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


loose_key = stages.loose_key  # one definition of "the same name, loosely"


def one_line(text: str, what: str, limit: int = 500) -> str:
    """A one-line text cell (name, customer, owner, ref…), as the models want it."""
    if "\n" in text or "\r" in text:
        raise ValueError(f"{what} must fit on one line")
    if _CONTROL.search(text):
        raise ValueError(f"{what} holds control characters")
    if len(text) > limit:
        raise ValueError(f"{what} is longer than {limit} characters")
    return text


def derive_sku(name: str) -> str:
    """A SKU made from a product name, for catalogs without codes: 'GTX Pro' -> 'GTX-Pro'."""
    sku = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._")[:64].rstrip("-._")
    if not sku:
        raise ValueError(f"cannot make a SKU from the name '{name}'; add a sku column")
    return sku


class Lookup:
    """Stages and catalog products by the words a file uses for them, cached; customers
    by the account they name."""

    def __init__(self, settings: Settings, catalog: Catalog,
                 stage_map: dict[str, Stage] | None = None, accounts: Directory | None = None):
        self.settings = settings
        self.stage_map = stage_map or {}
        self.accounts = accounts or Directory([])
        self.new_ids: dict[str, tuple[str, int]] = {}  # new customer -> (id, line)
        self.id_of: dict[str, tuple[str, int, str]] = {}  # id -> (customer, line, name)
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

    def customer(self, text: str) -> str:
        """The name of the account a customer cell names (its id, a name or an alias:
        ``ACME srl`` is ``ACME S.r.l.``), as the deals being updated show it; the text
        itself when it names none (the import creates the account)."""
        found = self.accounts.named(text)
        return found.name if found is not None else text

    def account(self, values: dict, line: int) -> None:
        """The row's ``customer_id`` and ``customer`` cells settled into one customer
        (``values['customer']``, the account's name): the account of the repo with that
        id, or the id to give the account the customer's name creates. ``ValueError``
        when the two cells disagree."""
        account_id = values.pop("customer_id", None)
        if account_id is None:
            return
        name = values.get("customer")
        entry = self.accounts.by_id.get(account_id)
        if entry is not None:
            if name is not None and normalise(name) not in {
                    normalise(n) for n in (entry.name, *entry.aliases)}:
                raise ValueError(f"customer_id {account_id} is account {entry.words()}, but "
                                 f"customer is '{name}'; clear one of the two cells")
            values["customer"] = entry.name
            return
        if name is None:
            raise ValueError(f"customer_id {account_id} is no account of this repo; give "
                             "the customer's name in the customer column too")
        if self.accounts.named(name) is not None:
            return  # an account of this repo has the name: an id of another repo
        key = normalise(name)
        given = self.new_ids.get(key)
        holder = self.id_of.get(account_id)
        if given is not None and given[0] != account_id:
            raise ValueError(f"customer '{name}' has customer_id {given[0]} on line "
                             f"{given[1]}, and {account_id} here; one account has one id")
        if holder is not None and holder[0] != key:
            raise ValueError(f"customer_id {account_id} is customer '{holder[2]}' on line "
                             f"{holder[1]}, and '{name}' here; one id names one account")
        self.new_ids.setdefault(key, (account_id, line))
        self.id_of.setdefault(account_id, (key, line, name))

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


def parse_value(name: str, cell: Cell, what: str, lookup: Lookup, today: date,
                reading: Reading = PLAIN, where: str | None = None) -> Any:
    """The typed value of one non-blank cell of field ``name``; ``ValueError`` says why not.
    Numbers and dates are read as ``reading`` says (typed cells as typed); ``where`` is
    the cell's place in a spreadsheet, for messages."""
    if name in ("amount", "objective"):
        return reading.money(cell, what, where)
    if name in ("close_date", "created"):
        day = reading.day(cell, what)
        if name == "created" and day > today:
            raise ValueError(f"{what} {day} is in the future (today is {today})")
        return day
    text = cell_text(cell)
    if name == "id":
        value = text.casefold()
        if not _OPP_ID.fullmatch(value):
            raise ValueError(f"{what} '{text}' is not an opp id (4 to 32 lower-case letters "
                             "and digits); put other tools' ids in the ref column")
        return value
    if name == "stage":
        return lookup.stage(text, what)
    if name == "currency":
        try:
            return check_currency(text)
        except ValueError:
            raise ValueError(f"{what} '{text}' is not an ISO 4217 currency code; write its "
                             "three letters, such as EUR, USD, GBP or CHF") from None
    if name == "product":
        return lookup.product(text, what)
    if name == "customer":
        return lookup.customer(one_line(text, what))
    if name == "customer_id":
        if not ACCOUNT_ID.fullmatch(text.casefold()):
            raise ValueError(f"{what} '{text}' is not an opp account id (8 letters and "
                             "digits, as opp export writes it); leave it blank to find the "
                             "account by the customer's name")
        return text.casefold()
    return one_line(text, what)


def _one_currency(values: dict, said: dict[str, tuple[str, str]], column: str | None
                  ) -> list[str]:
    """The currency the amounts' cells name (``USD 485,000.00``, ``$12,500.00`` in
    en_US) is the deal's: set when no column gives it, else the same as that column's;
    never dropped for the repo's currency."""
    problems = []
    source = column
    for what, (cell, code) in said.items():
        given = values.get("currency")
        if given is None:
            values["currency"], source = code, what
        elif given != code:
            problems.append(f"{what} '{cell}' is in {code}, but {source} says {given}; a "
                            "deal has one currency")
    return problems


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
    account_ids: dict[str, str] = field(default_factory=dict)
    """The ids the accounts to create take (normalised customer name -> customer_id)."""

    def count(self, action: str) -> int:
        return sum(1 for e in self.entries if e.action == action)

    @property
    def writes(self) -> list[Opportunity]:
        """The opportunities to store: created and updated ones."""
        return [e.opportunity for e in self.entries if e.action != "unchanged"]

    def look_alikes(self, existing: Sequence[Opportunity]) -> list[tuple[Entry, str]]:
        """The rows it creates whose name and customer are a deal's already here, with
        that deal's id: most likely a sheet without an id or ref column imported again."""
        def name(opp: Opportunity) -> str:
            return " ".join(opp.name.casefold().split())

        created = [e for e in self.entries if e.action == "create"]
        names = {name(e.opportunity) for e in created}
        known: dict[tuple[str, str], str] = {}
        for opp in existing:  # customers normalised only where a name is shared
            if name(opp) in names:
                known.setdefault((name(opp), normalise(opp.customer)), opp.id)
        shared = {n for n, _ in known}
        twins = ((e, known.get((name(e.opportunity), normalise(e.opportunity.customer))))
                 for e in created if name(e.opportunity) in shared)
        return [(e, twin) for e, twin in twins if twin is not None]


class _RowFailed(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages


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
                progress: Callable[[int], None] | None = None,
                reading: Reading = PLAIN, accounts: Directory | None = None) -> ImportPlan:
    """Every row checked against the rules and the repo's opportunities (whose customer
    shows its account's name); numbers and dates read as ``reading`` says; a customer
    cell compared by the account of ``accounts`` it names, not as text.

    The result has an entry per good row and every problem of every bad row; the
    caller stores the entries only when there is no error at all.
    """
    by_ref: dict[str, list[Opportunity]] = {}
    for opp in existing:
        if opp.ref is not None:
            by_ref.setdefault(opp.ref, []).append(opp)
    rows = _Rows(table, columns, Lookup(settings, catalog, stage_map, accounts), settings,
                 {opp.id: opp for opp in existing}, by_ref, today, owner, reading)
    plan = ImportPlan()
    for index, (line, cells) in enumerate(table.rows):
        if progress is not None and index % 100 == 0:
            progress(min(100, len(table.rows) - index))
        try:
            plan.entries.append(rows.plan(line, cells))
        except _RowFailed as exc:
            plan.errors.extend(RowError(line, m) for m in exc.messages)
    plan.account_ids = {key: account_id
                        for key, (account_id, _) in rows.lookup.new_ids.items()}
    return plan


@dataclass
class _Rows:
    """What planning a row needs from the file and the repo, and what the rows before it
    took (ids, refs): one row at a time, in file order."""

    table: Table
    columns: ColumnMap
    lookup: Lookup
    settings: Settings
    by_id: dict[str, Opportunity]
    by_ref: dict[str, list[Opportunity]]
    today: date
    owner: str
    reading: Reading
    taken: set[str] = field(default_factory=set)  # ids in the repo and given to new rows
    seen_ids: dict[str, int] = field(default_factory=dict)  # id -> the line that gave it
    seen_refs: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.taken |= set(self.by_id)

    def plan(self, line: int, cells: list[Cell]) -> Entry:
        """The row's entry (create, update or unchanged), or ``_RowFailed`` with every
        problem found."""
        values = self.values(line, cells)
        target = self.target(line, values)
        if target is not None:
            return self.update(line, target, values)
        return self.create(line, cells, values)

    def values(self, line: int, cells: list[Cell]) -> dict:
        """The row's cells read as field values, its customer resolved."""
        width = len(self.table.header)
        if len(cells) > width and any(cell_text(c).strip() for c in cells[width:]):
            raise _RowFailed([f"the row has {len(cells)} cells but the header names {width} "
                              "columns; quote cells that hold the delimiter"])
        messages: list[str] = []
        values: dict = {}
        said: dict[str, tuple[str, str]] = {}  # field: (its cell, the currency it names)
        for name, index in self.columns.fields.items():
            cell = cells[index] if index < len(cells) else ""
            cell = cell.strip() if isinstance(cell, str) else cell
            if cell == "":
                continue
            what = self.columns.header[index]
            try:
                values[name] = parse_value(name, cell, what, self.lookup, self.today,
                                           self.reading, self.table.place(index, line)
                                           if isinstance(cell, Decimal) else None)
                code = self.reading.currency(cell, what) if name in ("amount",
                                                                     "objective") else None
                if code is not None:
                    said[what] = (str(cell), code)
            except ValueError as exc:
                messages.append(str(exc))
        messages += _one_currency(values, said, self.columns.header[
            self.columns.fields["currency"]] if "currency" in self.columns.fields else None)
        if not messages:
            try:
                self.lookup.account(values, line)
            except ValueError as exc:
                messages.append(str(exc))
        if messages:
            raise _RowFailed(messages)
        return values

    def target(self, line: int, values: dict) -> Opportunity | None:
        """The opportunity the row updates (by id, else by ref), or None for a new one."""
        opp_id, ref = values.get("id"), values.get("ref")
        for key, seen, what in ((opp_id, self.seen_ids, "id"), (ref, self.seen_refs, "ref")):
            if key is not None:
                if key in seen:
                    raise _RowFailed([f"{what} '{key}' is also on line {seen[key]}; one row "
                                      "per opportunity"])
                seen[key] = line
        target = self.by_id.get(opp_id) if opp_id is not None else None
        if ref is not None:
            holders = [o for o in self.by_ref.get(ref, [])
                       if target is None or o.id != target.id]
            if opp_id is not None and holders:
                raise _RowFailed([f"ref '{ref}' belongs to opportunity {holders[0].id}, not "
                                  f"to {opp_id}"])
            if opp_id is None:
                if len(holders) > 1:
                    raise _RowFailed([f"ref '{ref}' is on {len(holders)} opportunities ("
                                      f"{', '.join(o.id for o in holders)}); give the id "
                                      "column or fix the refs with opp set ID ref"])
                target = holders[0] if holders else None
        return target

    def update(self, line: int, target: Opportunity, values: dict) -> Entry:
        try:
            after = update_opportunity(target, values, self.settings, self.today)
        except OppError as exc:
            raise _RowFailed([f"{target.id}: {exc.message}"]) from None
        except ValueError as exc:  # a model refused a value the checks above let through
            raise _RowFailed([f"{target.id}: invalid row: {exc}"]) from None
        if after == target:
            return Entry(line, "unchanged", target, target)
        changed = tuple(n for n in Opportunity.model_fields
                        if getattr(after, n) != getattr(target, n))
        return Entry(line, "update", after, target, changed)

    def create(self, line: int, cells: list[Cell], values: dict) -> Entry:
        """A new opportunity from the row, the defaults filling its blanks."""
        messages: list[str] = []
        columns = self.columns
        for name, template in columns.defaults.items():
            if name not in values:
                text = render_default(template, columns.header, cells)
                if text:
                    try:
                        values[name] = parse_value(name, text, f"default {name}", self.lookup,
                                                   self.today, self.reading)
                    except ValueError as exc:
                        messages.append(str(exc))
        for name in REQUIRED_TO_CREATE:
            if name not in values and not messages:
                if name in columns.fields:
                    messages.append(f"{columns.column(name)} is blank; a new opportunity "
                                    f"needs its {name}: fill it in, or give --default "
                                    f"{name}=VALUE")
                else:
                    messages.append(f"no {name}: the file has no {name} column; name one "
                                    f"with --map COLUMN={name}, or give --default "
                                    f"{name}=VALUE")
        if messages:
            raise _RowFailed(messages)
        opp_id = values.get("id")
        made_up = opp_id is None
        if opp_id is None:
            opp_id = ids.new_id(self.taken)
        self.taken.add(opp_id)
        try:
            opp = create_opportunity(opp_id, values, self.settings, today=self.today,
                                     owner=self.owner)
        except OppError as exc:
            raise _RowFailed([exc.message]) from None
        except ValueError as exc:  # a model refused a value the checks above let through
            raise _RowFailed([f"invalid row: {exc}"]) from None
        return Entry(line, "create", opp, new_id=made_up)


def export_row(opp: Opportunity, accounts: Directory | None = None) -> dict[str, str | None]:
    """An opportunity as a row of the CSV the import reads (same fields, same words): the
    customer by its account's name, and its id in ``customer_id`` (blank for a customer
    still text)."""
    entry = accounts.by_id.get(opp.customer) if accounts is not None else None
    return {"id": opp.id, "ref": opp.ref, "name": opp.name,
            "customer": entry.name if entry is not None else opp.customer,
            "customer_id": entry.id if entry is not None else None,
            "stage": opp.stage, "amount": money_str(opp.amount),
            "objective": money_str(opp.objective) if opp.objective is not None else None,
            "currency": opp.currency,
            "close_date": opp.close_date.isoformat() if opp.close_date else None,
            "owner": opp.owner, "lost_reason": opp.lost_reason,
            "created": opp.created.isoformat(), "product": single_product(opp)}
