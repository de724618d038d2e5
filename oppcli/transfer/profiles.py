"""Import profiles: how a kind of file is read, saved once instead of retyped on every
import. ``.opp/import/NAME.yaml`` in the data repo, or one opp ships (``profiles/``:
``hubspot``, ``salesforce``); a repo profile of the same name wins.

A profile holds ``map`` (COLUMN: FIELD, or null to ignore the column; when a file has
two columns giving one field, the one listed first wins), ``stage_map`` (TEXT: STAGE),
``defaults`` (FIELD: VALUE), ``locale``, ``delimiter``, ``encoding``, ``date_format``,
``sheet``, ``footer`` (the text of the line that marks the footer a tool writes under
its data, as Salesforce's reports do), ``lists`` (COLUMN: SEPARATOR, a column whose
cells list several values, the first of which is read: HubSpot's "Associated
Company") and ``same_name`` (COLUMN: first or last, for a tool that writes two columns
under one name: the one read; Salesforce's 15- and 18-character "Opportunity ID") and
``blank`` (the text a tool writes in an empty cell: Salesforce's "-"). The command
line's options add to it and win over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..domain.l10n import check_locale
from ..errors import DataError, UsageError
from ..store.files import read_data_file
from .columns import find_headers, split_pair
from .reading import Reading, check_date_format
from .sheet import Cell, Table, check_delimiter, drop_footer, header_key

REPO_DIR = ".opp/import"
BUILT_IN_DIR = Path(__file__).resolve().parent / "profiles"
KEYS = ("map", "stage_map", "defaults", "lists", "same_name", "locale", "delimiter",
        "encoding", "date_format", "sheet", "footer", "blank")
SCALARS = KEYS[5:]
SAME_NAME = ("first", "last")
MAX_PROFILE_BYTES = 1 << 20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Profile:
    """A profile read and checked; ``source`` says where it comes from."""

    name: str
    source: str
    maps: dict[str, str | None] = field(default_factory=dict)
    stage_map: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    lists: dict[str, str] = field(default_factory=dict)
    same_name: dict[str, str] = field(default_factory=dict)
    locale: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    sheet: str | None = None
    footer: str | None = None
    blank: str | None = None

    def map_options(self, header: list[str]) -> list[str]:
        """The ``--map`` options of the columns this file has (a profile names every
        column its tool may export; one file holds some of them). Of two columns giving
        one field, the one the profile lists first is taken and the other ignored
        (HubSpot writes "Associated Company (Primary)" and "Associated Company")."""
        given: set[str] = set()
        options = []
        for column in find_headers(header, self.maps):
            target = self.maps[column]
            if target and header_key(target) in given:
                target = None
            given.add(header_key(target or ""))
            options.append(f"{column}={target or ''}")
        return options

    def stage_options(self) -> list[str]:
        return [f"{text}={stage}" for text, stage in self.stage_map.items()]

    def default_options(self) -> list[str]:
        return [f"{name}={value}" for name, value in self.defaults.items()]


def _texts(data: Any, key: str, where: str, blank: bool = False) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataError(f"{key} must be a mapping (TEXT: VALUE), not {type(data).__name__}",
                        where)
    out: dict[str, Any] = {}
    for k, v in data.items():
        if v is None and blank:
            out[str(k)] = None
        elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
            out[str(k)] = str(v)
        else:
            raise DataError(f"{key}: the value of '{k}' must be text", where)
    return out


def parse_profile(name: str, text: bytes, source: str) -> Profile:
    """A profile from its YAML text; ``DataError`` naming the file and what is wrong."""
    from ..store import yamlio

    data, _ = yamlio.load(text, source)
    data = data or {}
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise DataError(f"unknown key '{unknown[0]}'; a profile holds {', '.join(KEYS)}",
                        source)
    scalars: dict[str, str | None] = {}
    for key in SCALARS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise DataError(f"{key} must be text, not {value!r}", source)
        scalars[key] = value
    try:
        if scalars["locale"]:
            scalars["locale"] = check_locale(scalars["locale"])
        if scalars["delimiter"]:
            scalars["delimiter"] = check_delimiter(scalars["delimiter"])
        if scalars["date_format"]:
            scalars["date_format"] = check_date_format(scalars["date_format"])
    except (ValueError, UsageError) as exc:
        raise DataError(str(exc).replace("--", ""), source) from None
    lists = _texts(data.get("lists"), "lists", source)
    empty = [column for column, separator in lists.items() if not separator]
    if empty:
        raise DataError(f"lists: the separator of '{empty[0]}' is empty; give the text "
                        "between the values, e.g. ';'", source)
    same_name = _texts(data.get("same_name"), "same_name", source)
    odd = [column for column, which in same_name.items() if which not in SAME_NAME]
    if odd:
        raise DataError(f"same_name: '{odd[0]}' takes first or last, not "
                        f"'{same_name[odd[0]]}'", source)
    return Profile(name, source, _texts(data.get("map"), "map", source, blank=True),
                   _texts(data.get("stage_map"), "stage_map", source),
                   _texts(data.get("defaults"), "defaults", source), lists, same_name,
                   **scalars)


def _repo_file(root: Path, name: str) -> bytes | None:
    return read_data_file(root, f"{REPO_DIR}/{name}.yaml", MAX_PROFILE_BYTES)


def available(root: Path | None) -> list[tuple[str, str]]:
    """Every profile as (name, source): the repo's, then the built-in ones it does not
    shadow, by name."""
    found: dict[str, str] = {}
    for path in sorted(BUILT_IN_DIR.glob("*.yaml")):
        found[path.stem] = "built-in"
    if root is not None and (root / REPO_DIR).is_dir():
        for path in sorted((root / REPO_DIR).glob("*.yaml")):
            if _NAME.fullmatch(path.stem):
                found[path.stem] = f"{REPO_DIR}/{path.name}"
    return sorted(found.items())


def find_profile(name: str, root: Path | None) -> Profile:
    """The profile called ``name``: the repo's, else the built-in one; ``UsageError``
    naming those that exist when there is none."""
    if not _NAME.fullmatch(name):
        raise UsageError(f"--profile '{name}' is not a profile name (letters, digits, '.', "
                         "'_' and '-')")
    if root is not None:
        data = _repo_file(root, name)
        if data is not None:
            return parse_profile(name, data, f"{REPO_DIR}/{name}.yaml")
    path = BUILT_IN_DIR / f"{name}.yaml"
    if path.is_file():
        return parse_profile(name, path.read_bytes(), f"built-in profile {name}")
    names = ", ".join(n for n, _ in available(root))
    raise UsageError(f"--profile {name}: no such profile; profiles are: {names} (a new one is "
                     f"a file {REPO_DIR}/{name}.yaml)")


def with_options(profile: Profile | None, header: list[str], maps: tuple[str, ...],
                 defaults: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The --map and --default options of an import: the profile's, then the command
    line's, which win (a column or field the command line maps drops the profile's
    mapping of it; a later default replaces an earlier one)."""
    if profile is None:
        return list(maps), list(defaults)
    columns: set[str] = set()
    fields: set[str] = set()
    for item in maps:
        column, targets = split_pair(item, "--map", last=True)
        columns.add(header_key(column))
        fields.update(header_key(t) for t in targets.split(","))
    kept = []
    for item in profile.map_options(header):
        column, target = item.rsplit("=", 1)
        if header_key(column) not in columns and header_key(target) not in fields:
            kept.append(item)
    return kept + list(maps), profile.default_options() + list(defaults)


def profile_table(profile: Profile | None, table: Table) -> tuple[Table, list[int]]:
    """``table`` as ``profile`` reads it: without the footer it knows (and the lines
    that held it), the cells of its ``lists`` columns cut to their first value, and of
    its ``same_name`` columns the one it reads under the name, the others numbered
    ("Opportunity ID (2)": ignored, and named so), and its ``blank`` cells empty."""
    if profile is None:
        return table, []
    footer: list[int] = []
    if profile.footer:
        table, footer = drop_footer(table, profile.footer)
    if profile.same_name:
        table = replace(table, header=_one_of_each(table.header, profile.same_name))
    listed = {i: profile.lists[c] for c in find_headers(table.header, profile.lists)
              for i, h in enumerate(table.header) if header_key(h) == header_key(c)}
    blank = profile.blank

    def read(i: int, cell: Cell) -> Cell:
        if not isinstance(cell, str):
            return cell
        if blank is not None and cell.strip() == blank:
            return ""
        return cell.split(listed[i], 1)[0].strip() if i in listed else cell

    if listed or blank is not None:
        table = replace(table, rows=[(line, [read(i, c) for i, c in enumerate(cells)])
                                     for line, cells in table.rows])
    return table, footer


def _one_of_each(header: list[str], same_name: dict[str, str]) -> list[str]:
    """The header with, of each ``same_name`` column the file has more than once, one
    left under its name (the first or the last) and the others numbered in file order."""
    out = list(header)
    for name, which in same_name.items():
        places = [i for i, h in enumerate(header) if header_key(h) == header_key(name)]
        if len(places) < 2:
            continue
        kept = places[0] if which == "first" else places[-1]
        for n, i in enumerate(places, 1):
            if i != kept:
                out[i] = f"{header[i]} ({n})"
    return out


def reading_for(profile: Profile | None, locale: str | None, date_format: str | None,
                fallback: str | None) -> Reading:
    """How the file writes numbers and dates, the most specific first: the import's
    --locale and --date-format; then the profile, which describes its files whole (one
    without a locale reads plain numbers); without a profile, ``fallback`` (the global
    --locale, else opp.yaml's locale other than the default en). Nothing: plain numbers
    and ISO dates. A locale brings its date order unless a date format is named."""
    if profile is not None:
        fallback = profile.locale
    chosen = locale or fallback
    if date_format is None and locale is None and profile is not None:
        date_format = profile.date_format
    return Reading.of(chosen, date_format)
