"""Columns of a sheet mapped onto opportunity and catalog fields: by name (case and
punctuation ignored), by the usual headers of other CRMs (``ALIASES``), and by the
user's ``--map``, ``--stage-map`` and ``--default`` options.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from shlex import quote

from ..domain import stages
from ..domain.settings import Settings, Stage
from ..errors import DataError, OppError, UsageError
from .sheet import Cell, Table, cell_text, header_key, header_of

OPPORTUNITY_FIELDS = ("id", "ref", "name", "customer", "customer_id", "stage", "amount",
                      "objective", "currency", "close_date", "owner", "lost_reason", "created",
                      "product")


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
    "customer_id": ("customer id",),  # opp's account id, as opp export writes it
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
    "sku": ("sku", "product code", "code", "item code", "part number", "productcode",
            # an Italian listino
            "codice", "codice articolo", "cod articolo", "codice prodotto"),
    "name": ("name", "product", "product name", "item", "item name",
             "nome", "nome prodotto", "prodotto", "nome articolo"),
    "price": ("price", "unit price", "list price", "sales price", "sale price",
              "unitprice", "listprice",
              "prezzo", "prezzo unitario", "prezzo di listino", "prezzo listino"),
    "unit": ("unit", "uom", "unit of measure", "quantity unit of measure",
             "unità", "unita", "um", "u m", "unità di misura", "unita di misura"),
}


# Headers that give a field only when no column of ``CATALOG_ALIASES`` gives it: a price
# list's "Descrizione" is its products' names, unless a "Nome" column is there too.
CATALOG_FALLBACKS: dict[str, tuple[str, ...]] = {
    "name": ("description", "descrizione", "descrizione articolo", "item description",
             "product description"),
}


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


def find_headers(header: Sequence[str], names: Iterable[str]) -> list[str]:
    """Those of ``names`` that are columns of ``header``, exactly or loosely."""
    keys = {header_key(h) for h in header}
    return [n for n in names if n in header or header_key(n) in keys]


def map_columns(header: Sequence[str], fields: Sequence[str] = OPPORTUNITY_FIELDS,
                aliases: dict[str, tuple[str, ...]] = ALIASES, maps: Iterable[str] = (),
                defaults: Iterable[str] = (),
                fallbacks: dict[str, tuple[str, ...]] | None = None) -> ColumnMap:
    """Decide which column gives which field.

    ``maps`` are ``COLUMN=FIELD[,FIELD…]`` (``COLUMN=`` or ``COLUMN=-`` ignores the
    column); they win over the names recognised by ``aliases``, which win over those of
    ``fallbacks`` (a field no other column gives). Two columns giving one field is a
    ``UsageError`` that says how to choose.
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
    for name, names in (fallbacks or {}).items():
        keys = {header_key(n) for n in names}
        found_at = [i for i, column in enumerate(header) if header_key(column) in keys
                    and i not in taken and i not in chosen.values()]
        if name not in chosen and len(found_at) == 1:
            chosen[name] = found_at[0]
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
        raise DataError(f"no column of the header ({shown}) is one opp reads; the header, "
                        "the first row that is not blank, names the columns "
                        f"({', '.join(fields)}), or --map COLUMN=FIELD says which gives what",
                        line=1)
    return ColumnMap(header, dict(sorted(chosen.items(), key=lambda kv: fields.index(kv[0]))),
                     templates, ignored)


TITLE_ROWS = 10  # a header below a sheet's title is looked for in its first rows


def _known(aliases: dict[str, tuple[str, ...]],
           fallbacks: dict[str, tuple[str, ...]] | None) -> set[str]:
    """The column names ``map_columns`` recognises, as ``header_key`` compares them."""
    return {header_key(n) for names in (*aliases.values(), *(fallbacks or {}).values())
            for n in names}


def _names_a_column(cells: Sequence[Cell], keys: set[str]) -> bool:
    """Whether a row names a column of ``keys`` (as ``header_key`` compares them)."""
    return any(header_key(cell_text(c)) in keys for c in cells)


def below_title(table: Table, aliases: dict[str, tuple[str, ...]] = ALIASES,
                fallbacks: dict[str, tuple[str, ...]] | None = None,
                maps: Iterable[str] = (), columns: Iterable[str] = ()) -> Table:
    """``table`` read from its header when a title stands above it on an xlsx sheet (a
    listino: "Listino prezzi 2027", an empty row, then "Codice, Descrizione, Prezzo"):
    the first row among the sheet's first ``TITLE_ROWS`` that names a column opp reads
    (by ``aliases``, ``fallbacks``, a ``--map`` or one of ``columns``), every row above
    it a title (at most two cells filled). Rows keep the sheet's numbers. A CSV file, a
    sheet whose first row is its header, or one with no such row is returned as it is."""
    keys = _known(aliases, fallbacks) | {header_key(c) for c in columns}
    for item in maps:
        try:
            column, targets = split_pair(item, "--map", last=True)
        except UsageError:
            continue  # map_columns refuses it, naming the option's form
        if column and any(t.strip() not in ("", "-") for t in targets.split(",")):
            keys.add(header_key(column))

    def filled(cells: Sequence[Cell]) -> int:
        return sum(1 for c in cells if cell_text(c).strip())

    if (table.sheet is None or _names_a_column(table.header, keys)
            or filled(table.header) > 2):
        return table
    for index, (line, cells) in enumerate(table.rows):
        if line > TITLE_ROWS:
            break
        if _names_a_column(cells, keys):
            header = header_of(cells)
            sheets = tuple((n, tuple(header) if n == table.sheet else first)
                           for n, first in table.sheets)
            return replace(table, header=header, rows=table.rows[index + 1:], sheets=sheets,
                           header_line=line)
        if filled(cells) > 2:
            break
    return table


def map_sheet(table: Table, fields: Sequence[str] = OPPORTUNITY_FIELDS,
              aliases: dict[str, tuple[str, ...]] = ALIASES, maps: Iterable[str] = (),
              defaults: Iterable[str] = (),
              fallbacks: dict[str, tuple[str, ...]] | None = None,
              path: str | None = None) -> ColumnMap:
    """``map_columns`` of ``table``'s header. When no column of it is one opp reads and
    the table is one sheet of an xlsx of several (a cover sheet first, a title and no
    header), the refusal names the file's sheets, those whose first row opp reads, and
    --sheet. A refusal of the file names it (``path``)."""
    try:
        return map_columns(table.header, fields, aliases, maps, defaults, fallbacks)
    except (DataError, UsageError) as exc:
        keys = _known(aliases, fallbacks)
        if isinstance(exc, DataError) and exc.path is None:
            exc.path, exc.line = path, table.header_line
        if len(table.sheets) < 2 or _names_a_column(table.header, keys):
            raise
        others = [f"'{name}'" for name, first in table.sheets
                  if name != table.sheet and _names_a_column(first, keys)]
        if len(others) == 1:
            advice = (f"sheet {others[0]} has one: import it with --sheet "
                      f"{quote(others[0][1:-1])}")
        elif others:
            advice = f"sheets {', '.join(others)} have one: name one with --sheet NAME"
        else:
            advice = ("name the sheet to read with --sheet NAME, or its columns with --map "
                      "COLUMN=FIELD")
        first = [h for h in table.header if h]
        where = (f"sheet '{table.sheet}' has no header opp reads (its first row: "
                 f"{', '.join(repr(h) for h in first[:5])}{', …' if len(first) > 5 else ''}"
                 f"); {advice} (the file's sheets: "
                 f"{', '.join(name for name, _ in table.sheets)})")
        if isinstance(exc, DataError):  # no column at all: the sheet is the problem
            raise DataError(where, path, exc.line) from None
        raise UsageError(f"{exc.message}; {where}") from None


def parse_stage_map(items: Iterable[str], settings: Settings,
                    lenient: Iterable[str] = ()) -> dict[str, Stage]:
    """``--stage-map TEXT=STAGE``: the stage a value of the file stands for. The
    ``lenient`` items (a profile's) are skipped when this repo has no such stage: a row
    holding that text is then refused as any unknown stage is."""
    out: dict[str, Stage] = {}
    for item, strict in [*((i, False) for i in lenient), *((i, True) for i in items)]:
        text, stage = split_pair(item, "--stage-map", last=True)
        try:
            out[text.casefold()] = stages.resolve_stage(settings, stage)
        except OppError:
            if strict:
                raise
    return out


def render_default(template: str, header: Sequence[str], cells: Sequence[Cell]) -> str:
    """A --default value with its {COLUMN} placeholders filled from the row."""
    def cell(match: re.Match) -> str:
        index = find_column(header, match.group(1), "--default")
        return cell_text(cells[index]).strip() if index < len(cells) else ""
    return re.sub(r"\{([^{}]+)\}", cell, template).strip()
