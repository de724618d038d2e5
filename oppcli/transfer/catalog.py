"""``opp catalog import``: a sheet of products planned against the catalog, all or
nothing; a row finds its product by SKU, else by name, loosely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..domain.model import Catalog, CatalogItem
from ..domain.stages import loose_key
from ..errors import UsageError
from .columns import ColumnMap
from .plan import SKU_PATTERN, RowError, derive_sku, one_line
from .reading import PLAIN, Reading
from .sheet import Table, cell_text

CATALOG_CHANGES = ("name", "price", "unit")  # what a row may change of a product


@dataclass(frozen=True)
class CatalogEntry:
    """What a good row does: create, update or leave unchanged ``item`` (as it would be
    written), ``before`` the product it updates."""

    line: int
    action: str
    item: CatalogItem
    before: CatalogItem | None = None

    @property
    def changed(self) -> tuple[str, ...]:
        """The fields an update changes (``name``, ``price``, ``unit``)."""
        if self.before is None or self.action != "update":
            return ()
        return tuple(f for f in CATALOG_CHANGES
                     if getattr(self.before, f) != getattr(self.item, f))


@dataclass
class CatalogPlan:
    catalog: Catalog
    entries: list[CatalogEntry] = field(default_factory=list)  # in the file's order
    errors: list[RowError] = field(default_factory=list)

    @property
    def created(self) -> list[CatalogItem]:
        return [e.item for e in self.entries if e.action == "create"]

    @property
    def updated(self) -> list[tuple[CatalogItem, CatalogItem]]:
        return [(e.before, e.item) for e in self.entries
                if e.action == "update" and e.before is not None]

    @property
    def unchanged(self) -> list[CatalogItem]:
        return [e.item for e in self.entries if e.action == "unchanged"]


def _row_values(table: Table, columns: ColumnMap, reading: Reading, line: int,
                cells: list, texts: list[str], messages: list[str],
                currency: str | None = None) -> dict:
    """A row's non-blank cells as the catalog's fields (the price read as ``reading``
    says, in ``currency`` when its text names one, the SKU checked); each bad cell adds
    its message to ``messages``."""
    values: dict = {}
    for name, index in columns.fields.items():
        text = texts[index].strip() if index < len(texts) else ""
        if not text:
            continue
        what = columns.header[index]
        try:
            if name == "price":
                cell = cells[index]
                values[name] = reading.money(
                    text if isinstance(cell, str) else cell, what,
                    table.place(index, line) if isinstance(cell, Decimal) else None)
                named = reading.currency(text if isinstance(cell, str) else cell, what)
                if currency and named and named != currency:
                    raise ValueError(f"{what} '{text}' is in {named}, but the catalog's "
                                     f"prices are in {currency} (opp.yaml's currency)")
            elif name == "sku":
                if not SKU_PATTERN.fullmatch(text):
                    raise ValueError(f"{what} '{text}' is not a valid SKU; use letters, "
                                     "digits, '.', '_' and '-' (up to 64)")
                values[name] = text
            else:
                values[name] = one_line(text, what, 100 if name == "unit" else 500)
        except ValueError as exc:
            messages.append(str(exc))
    return values


def _sku_by_name(values: dict, by_name: dict[str, list[CatalogItem]],
                 columns: ColumnMap) -> list[str]:
    """A row without a SKU: the catalog's product of its name (loosely compared), else
    a SKU made from the name, set in ``values``; what is wrong, when something is."""
    if "name" not in values:
        return ["the row has neither a SKU nor a name"]
    holders = by_name.get(loose_key(values["name"]), [])
    if len(holders) > 1:
        return [f"{columns.column('name')} '{values['name']}' could be "
                f"{' or '.join(p.sku for p in holders)}; add a sku column to say which"]
    if holders:  # the product of that name: update it (the name found it; it stays)
        values["sku"], values["name"] = holders[0].sku, holders[0].name
        return []
    try:
        values["sku"] = derive_sku(values["name"])
    except ValueError as exc:
        return [str(exc)]
    return []


def plan_catalog_import(table: Table, columns: ColumnMap, catalog: Catalog,
                        reading: Reading = PLAIN, currency: str | None = None
                        ) -> CatalogPlan:
    """Products by SKU: new ones added, existing ones updated with the cells given, every
    bad row reported. Prices are read as ``reading`` says (``opp import``'s amounts
    are: ``1.234,50`` with locale it, ``1.234`` refused without one; typed cells as
    typed); a price whose text names a currency other than ``currency`` is refused.

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
        texts = [cell_text(c) for c in cells]
        if len(texts) > width and any(c.strip() for c in texts[width:]):
            plan.errors.append(RowError(line, f"the row has {len(cells)} cells but the "
                                              f"header names {width} columns"))
            continue
        values = _row_values(table, columns, reading, line, cells, texts, messages,
                             currency)
        if not messages and "sku" not in values:
            messages += _sku_by_name(values, by_name, columns)
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
        _store_row(plan, products, by_name, named, line, values, current)
    plan.catalog = Catalog(products=sorted(products.values(), key=lambda p: p.sku.casefold()))
    return plan


def _store_row(plan: CatalogPlan, products: dict[str, CatalogItem],
               by_name: dict[str, list[CatalogItem]], named: dict[str, int], line: int,
               values: dict, current: CatalogItem | None) -> None:
    """The row's product created, updated or found unchanged (``products``, ``by_name``
    and ``named`` kept up to date), or its error in ``plan``."""
    key = values["sku"].casefold()
    if current is None:
        missing = [n for n in ("name", "price") if n not in values]
        if missing:
            plan.errors.append(RowError(line, f"new product {values['sku']} needs its "
                                              f"{' and '.join(missing)}"))
            return
        try:
            item = CatalogItem(**values)
        except ValueError as exc:  # pragma: no cover - the checks above come first
            plan.errors.append(RowError(line, f"invalid row: {exc}"))
            return
        products[key] = item
        plan.entries.append(CatalogEntry(line, "create", item))
        _rename(by_name, None, item)
        named[loose_key(item.name)] = line
        return
    after = current.model_copy(update={k: v for k, v in values.items() if k != "sku"})
    if after == current:
        plan.entries.append(CatalogEntry(line, "unchanged", current))
    else:
        products[key] = after
        plan.entries.append(CatalogEntry(line, "update", after, current))
        if loose_key(after.name) != loose_key(current.name):
            _rename(by_name, current, after)
            named[loose_key(after.name)] = line


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
