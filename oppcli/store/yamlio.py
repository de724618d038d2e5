"""YAML the safe way: loading without tags, aliases or floats; writing in a stable order.

Loading uses PyYAML's safe loader (the C one when present), turns every YAML
float straight into a ``Decimal`` (money never passes through binary floating
point), and refuses what a data file has no business holding: aliases (and
so YAML bombs), duplicate keys, unknown tags, and a top level that is not a
mapping. Every refusal is a ``DataError`` naming the file and line. Cost is bounded
before parsing: at most ``MAX_FILE_BYTES`` of text, ``MAX_NODES`` values (a file of
millions of one-character values would otherwise take gigabytes), and nesting at most
``MAX_DEPTH`` deep (libyaml itself stops at 1000).

Writing keeps the key order given by the caller (the models' field order),
block style, no aliases, no line folding: small diffs and easy merges.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date as date_type
from datetime import datetime as datetime_type
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import DataError
from .files import MAX_FILE_BYTES

if TYPE_CHECKING:
    import yaml

MAX_DEPTH = 64
MAX_NODES = 300_000  # a catalog of 30,000 products; a few hundred MB of memory at most

# PyYAML itself (``pyyaml.py``: its loader and dumper as opp sets them up) is imported
# when a file is not one opp's fast paths below read or write: its import was ~10 % of
# the instructions of a change (#25), and files opp wrote never need it.


def _check_nodes(root: yaml.Node) -> None:
    """Refuse aliases, duplicate keys and absurd nesting, without recursion.

    An alias shares its anchor's node, so a node met twice is an alias; it is
    reported where it is used (the key it sits under, or its sequence).
    """
    import yaml

    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int, yaml.Node]] = [(root, 0, root)]
    while stack:
        node, depth, where = stack.pop()
        if id(node) in seen:
            raise _NodeError("anchors and aliases (&, *) are not allowed; write the value out",
                             where)
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise _NodeError(f"nesting deeper than {MAX_DEPTH} levels", node)
        children: list[tuple[yaml.Node, int, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value == "<<":
                        raise _NodeError("merge keys (<<) are not allowed", key)
                    if key.value in keys:
                        raise _NodeError(f"duplicate key '{key.value}'", key)
                    keys.add(key.value)
                children += [(key, depth + 1, key), (value, depth + 1, key)]
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, depth + 1, node) for item in node.value]
        stack.extend(reversed(children))  # document order, so the second use is the alias


class _NodeError(Exception):
    def __init__(self, message: str, node: yaml.Node):
        super().__init__(message)
        self.message = message
        self.node = node


def _estimate(text: str) -> int:
    """An upper bound of the number of YAML nodes in ``text``, counted at C speed: every
    node but the first needs one of these characters (an item's dash, a key's colon, a
    flow separator or bracket)."""
    return (1 + 2 * (text.count(":") + text.count(",") + text.count("?")) + text.count("-")
            + text.count("[") + text.count("{"))


def _check_size(text: str, path: str) -> None:
    """Refuse more than ``MAX_NODES`` values without building them: when the cheap bound
    is over, count the parser's events (constant memory) up to the limit."""
    if _estimate(text) <= MAX_NODES:
        return
    import yaml

    from .pyyaml import LoaderBase

    loader = LoaderBase(text)
    count = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent,
                                  yaml.CollectionStartEvent)):
                count += 1
                if count > MAX_NODES:
                    mark = event.start_mark
                    raise DataError(f"more than {MAX_NODES:,} values; opp files are far "
                                    "smaller (is it the right file?)", path,
                                    mark.line + 1 if mark else None)
    except yaml.YAMLError:
        return  # the parse below says what is wrong, at its line
    finally:
        loader.dispose()


def load(text: str | bytes, path: str, *, mapping: bool = True) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document safely; return the data and its node tree (for line numbers)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise DataError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", path)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"not valid UTF-8 (byte {exc.start})", path) from None
    elif len(text) > MAX_FILE_BYTES:
        raise DataError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB", path)
    if "\x00" in text:
        raise DataError("file holds NUL bytes; it is not a YAML text file", path)
    _check_size(text, path)
    import yaml

    from .pyyaml import Loader

    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            data = None
        else:
            _check_nodes(node)
            data = loader.construct_document(node)
    except _NodeError as exc:
        mark = exc.node.start_mark
        raise DataError(exc.message, path, mark.line + 1, mark.column + 1) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = "custom tags (!...) are not allowed" + problem[problem.find(" for the tag"):]
        raise DataError(problem, path, mark.line + 1 if mark else None,
                        mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise DataError(f"invalid YAML: {exc}", path) from None
    except (ValueError, ArithmeticError) as exc:
        raise DataError(f"invalid value: {exc}", path) from None
    finally:
        loader.dispose()
    if mapping and not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        line = node.start_mark.line + 1 if node is not None else None
        raise DataError(f"expected a mapping of fields at the top, found {kind}", path, line, 1)
    return data, node


class Deferred:
    """The node of a file read by ``fast_load``, parsed by PyYAML only when an error has
    to be placed at its line (``locate``): a valid file never pays for it."""

    def __init__(self, data: bytes, path: str):
        self.data, self.path = data, path

    @property
    def node(self) -> yaml.Node | None:
        return load(self.data, self.path)[1]


def quick_load(data: bytes, path: str) -> tuple[Any, Any]:
    """``load`` of a file's bytes, by the fast reader when opp wrote it (the node then
    comes on demand, see ``Deferred``)."""
    try:
        fast = fast_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        fast = None
    if fast is not None:
        return fast.data, Deferred(data, path)
    return load(data, path)


def locate(node: yaml.Node | Deferred | None, loc: Iterable[Any], *, key: bool = False
           ) -> tuple[int | None, int | None]:
    """The 1-based line and column of the value at ``loc`` (a pydantic error path), or of
    its key with ``key=True`` (for a key that should not be there).

    Falls back to the deepest node found, so that an error always points somewhere useful.
    """
    if isinstance(node, Deferred):
        node = node.node
    if node is None:
        return None, None
    import yaml

    loc = tuple(loc)
    last = loc[-1] if loc else None
    current = node
    for part in loc:
        found = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value in current.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                    found = key_node if key and part == last else value
                    break
        elif (isinstance(current, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(current.value)):
            found = current.value[part]
        if found is None:
            break
        current = found
    return current.start_mark.line + 1, current.start_mark.column + 1


def _values(data: Any, limit: int) -> int:
    """The number of YAML nodes ``data`` makes (keys count), counted up to ``limit`` + 1."""
    count, stack = 0, [data]
    while stack and count <= limit:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return count


def dump(data: Any, header: str | None = None) -> str:
    """Block-style YAML in the caller's key order; ``header`` becomes a first comment line.
    Never writes what ``load`` would refuse for its size."""
    if _values(data, MAX_NODES) > MAX_NODES:
        raise DataError(f"the file would hold more than {MAX_NODES:,} values, more than opp "
                        "reads back; split the data (a catalog this large belongs elsewhere)")
    text = fast_dump(data)
    if text is None:
        import yaml

        from .pyyaml import Dumper

        text = yaml.dump(data, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=10_000)
    return f"# {header}\n{text}" if header else text


# ---------------------------------------------------------------- the fast path of dump
#
# PyYAML's representer is pure Python and was the largest cost of an import. Files
# of opp are simple (mappings, lists, short one-line strings, decimals, dates), so
# ``fast_dump`` writes them directly, byte for byte what ``yaml.dump`` above writes
# (a property test holds it to that), and gives up (None) on anything else:
# multi-line or long strings, strings needing escapes, datetimes, nested lists.

_SIMPLE = re.compile(r"[\w(][\w .,()/&+'@-]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STR = "tag:yaml.org,2002:str"


def _implicit_resolvers(*table: tuple[str, re.Pattern, Iterable[str]]
                        ) -> dict[str, list[tuple[str, re.Pattern]]]:
    out: dict[str, list[tuple[str, re.Pattern]]] = {}
    for tag, regexp, firsts in table:
        for char in firsts:
            out.setdefault(char, []).append((f"tag:yaml.org,2002:{tag}", regexp))
    return out


# PyYAML's implicit resolvers (``yaml.resolver.Resolver``: what a plain scalar reads as,
# by its first character) without importing PyYAML; tests/store/test_yamlio_fast.py
# holds this table to PyYAML's own: tags, patterns, flags and order.
_IMPLICIT = _implicit_resolvers(
    ("bool", re.compile(r"""^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$""", re.X), "yYnNtTfFoO"),
    ("float", re.compile(r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""", re.X), "-+0123456789."),
    ("int", re.compile(r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""", re.X), "-+0123456789"),
    ("merge", re.compile(r"^(?:<<)$"), "<"),
    ("null", re.compile(r"""^(?: ~
                    |null|Null|NULL
                    | )$""", re.X), ("~", "n", "N", "")),
    ("timestamp", re.compile(r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""", re.X), "0123456789"),
    ("value", re.compile(r"^(?:=)$"), "="),
    ("yaml", re.compile(r"^(?:!|&|\*)$"), "!&*"),
)


class _Unsupported(Exception):
    pass


_KEYS: dict[str, str] = {}


_TAGS: dict[str, str] = {}  # a few thousand distinct values in a repo's files


def _implicit(text: str) -> str:
    """The tag a plain scalar reads as (``str`` unless it looks like a number, date…), as
    PyYAML's resolver says."""
    if text and text[0] not in _IMPLICIT:
        return _STR
    tag = _TAGS.get(text)
    if tag is None:
        tag = next((t for t, regexp in _IMPLICIT.get(text[:1], ()) if regexp.match(text)),
                   _STR)
        if len(_TAGS) < 100_000:
            _TAGS[text] = tag
    return tag


class _Memo(dict):
    """Values of a pure function, each computed once per key (up to 100,000 keys): the
    scalars the fast paths read and write, as names, authors, days and stages repeat
    across a repo's files."""

    def __init__(self, make: Callable[[Any], Any]):
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> Any:
        value = self.make(key)
        if len(self) < 100_000:
            self[key] = value
        return value


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _WRITTEN[value]
    if kind is datetime_type:  # two times of one instant in two offsets are equal
        return _WRITTEN[(value, value.utcoffset())]
    return _new_scalar(value)


def _new_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        if len(value) > 1000 or value.endswith(" ") or not _SIMPLE.fullmatch(value) or \
                (not value.isascii() and max(value) > "\uffff"):  # libyaml escapes those
            raise _Unsupported
        if _implicit(value) == _STR:
            return value
        if "'" in value:
            raise _Unsupported
        return f"'{value}'"  # looks like a number, date or bool: quoted as PyYAML does
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        tag = "tag:yaml.org,2002:float" if "." in text else "tag:yaml.org,2002:int"
        if _implicit(text) != tag:
            raise _Unsupported
        return text
    if type(value) is date_type:
        return value.isoformat()
    if type(value) is datetime_type and _DATETIME_TEXT.fullmatch(text := value.isoformat(" ")):
        return text  # as PyYAML writes it (notes' times: 30,000 notes dump quickly)
    raise _Unsupported


_WRITTEN = _Memo(lambda key: _new_scalar(key if type(key) is str else key[0]))


def _key(key: Any) -> str:
    if key in _KEYS:
        return key
    # 128 characters and more: PyYAML writes a complex key (`? key`), libyaml from 129
    if not isinstance(key, str) or not _KEY.fullmatch(key) or _implicit(key) != _STR or \
            len(key) >= 128:
        raise _Unsupported
    _KEYS[key] = key
    return key


def _mapping(data: dict, indent: str, out: list, first: str | None = None) -> None:
    for key, value in data.items():
        head = first if first is not None else indent
        first = None
        if isinstance(value, dict):
            if not value:
                out.append(f"{head}{_key(key)}: {{}}\n")
            else:
                out.append(f"{head}{_key(key)}:\n")
                _mapping(value, indent + "  ", out)
        elif isinstance(value, list):
            if not value:
                out.append(f"{head}{_key(key)}: []\n")
            else:
                out.append(f"{head}{_key(key)}:\n")
                _sequence(value, indent, out)
        else:
            out.append(f"{head}{_key(key)}: {_scalar(value)}\n")


def _sequence(items: list, indent: str, out: list) -> None:
    for item in items:
        if isinstance(item, dict):
            if not item:
                out.append(f"{indent}- {{}}\n")
            else:
                _mapping(item, indent + "  ", out, first=f"{indent}- ")
        elif isinstance(item, list):
            raise _Unsupported
        else:
            out.append(f"{indent}- {_scalar(item)}\n")


def fast_dump(data: Any) -> str | None:
    """``data`` as ``dump`` writes it, or None when it is not simple enough for this path."""
    if not isinstance(data, dict) or not data:
        return None
    out: list[str] = []
    try:
        _mapping(data, "", out)
    except _Unsupported:
        return None
    return "".join(out)


# ---------------------------------------------------------------- the fast path of load
#
# The inverse of ``fast_dump``: a line reader for the files it writes, the most of a
# data repo, more than twice as quick as PyYAML's constructor (pure Python, the largest
# cost of building the index from scratch). It accepts only what ``fast_dump`` would
# write: at the end, ``fast_dump`` of what it read must give back the text byte for
# byte. That text is what ``yaml.dump`` writes for that data (a property test holds
# ``fast_dump`` to that), and ``load`` of ``yaml.dump`` of such data (mappings, lists,
# one-line strings, ints, decimals, dates, booleans, nulls) is that data again: so
# whatever this returns is what ``load`` returns. Anything else returns None and
# takes ``load``.

_HEADER = re.compile(r"# [ -~]*")  # one comment line of printable ASCII (no line breaks
# of YAML's own, such as U+2028, which would end the comment early)
_ITEM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:(?: |$)")
_INT_TEXT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT_TEXT = re.compile(r"-?[0-9]+\.[0-9]+")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# a time as PyYAML writes a datetime: seconds, microseconds when any, an offset when any
_DATETIME_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"
                            r"(?:\.[0-9]{6})?(?:[+-][0-9]{2}:[0-9]{2})?")
_TAG = "tag:yaml.org,2002:"
_WORDS = {"null": None, "true": True, "false": False}  # as fast_dump writes them


class _NotFast(Exception):
    pass


class FastRead:
    """What ``fast_load`` read: the data, and where each top-level scalar value is."""

    def __init__(self, data: dict, places: dict[str, tuple[int, int]], first_line: int):
        self.data = data
        self.places = places  # top-level key -> (line, column) of its value, 1-based
        self.first_line = first_line  # the line of the first key

    def locate(self, key: str) -> tuple[int, int] | None:
        """``locate(node, (key,))`` for a top-level key whose value is a scalar, or the
        top mapping's place for a key the file lacks; None for anything else."""
        if key in self.places:
            return self.places[key]
        if key in self.data:
            return None  # a list or mapping: ask the node
        return self.first_line, 1


def _fast_scalar(text: str) -> Any:
    return _READ[text]


def _new_fast_scalar(text: str) -> Any:
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'") or "'" in text[1:-1]:
            raise _NotFast
        return text[1:-1]
    tag = _implicit(text)
    if tag == _STR:
        return text
    kind = tag[len(_TAG):]
    if kind == "int" and _INT_TEXT.fullmatch(text):
        return int(text)
    if kind == "float" and _FLOAT_TEXT.fullmatch(text):
        return Decimal(text)
    if kind == "timestamp" and _DATE_TEXT.fullmatch(text):
        try:
            return date_type.fromisoformat(text)
        except ValueError:  # 2026-02-30: load says what is wrong
            raise _NotFast from None
    if kind == "timestamp" and _DATETIME_TEXT.fullmatch(text):
        try:
            return datetime_type.fromisoformat(text)
        except ValueError:
            raise _NotFast from None
    if text in _WORDS:
        return _WORDS[text]
    raise _NotFast


_READ = _Memo(_new_fast_scalar)  # immutable values only: shared safely


class _LineReader:
    def __init__(self, lines: list[str], start: int):
        self.lines = lines
        self.pos = start
        self.places: dict[str, tuple[int, int]] = {}
        self.count = 0  # the nodes read, as ``_values`` counts them (keys count)

    def mapping(self, indent: str, depth: int, first: str | None = None) -> dict:
        """The keys at this indent (the first one after ``- `` when ``first`` is given),
        of a mapping ``depth`` levels down (as ``_check_nodes`` counts them)."""
        if depth >= MAX_DEPTH:  # its keys and values would be deeper than load allows
            raise _NotFast
        lines, width = self.lines, len(indent)
        out: dict[str, Any] = {}
        leaves = 0
        while self.pos < len(lines):
            if first is not None:
                body, first = first, None
            else:
                line = lines[self.pos]
                if not line.startswith(indent) or line[width:width + 1] in (" ", "-"):
                    break
                body = line[width:]
            key, colon, rest = body.partition(":")
            if not colon:  # keys fast_dump would not write plain fail its check at the end
                raise _NotFast
            number = self.pos + 1
            self.pos += 1
            if not rest:  # a block below: a list at this indent, or a mapping deeper
                following = lines[self.pos] if self.pos < len(lines) else ""
                if following.startswith(indent + "- "):
                    out[key] = self.sequence(indent, depth + 1)
                elif following.startswith(indent + "  "):
                    out[key] = self.mapping(indent + "  ", depth + 1)
                else:
                    raise _NotFast
            elif rest[0] != " ":
                raise _NotFast
            else:
                value = rest[1:]
                out[key] = [] if value == "[]" else {} if value == "{}" else _fast_scalar(value)
                leaves += 1
                if not indent and value not in ("[]", "{}"):
                    self.places[key] = (number, len(key) + 3)
        self.count += 1 + len(out) + leaves
        return out

    def sequence(self, indent: str, depth: int) -> list:
        if depth >= MAX_DEPTH:
            raise _NotFast
        lines, dash = self.lines, indent + "- "
        items: list[Any] = []
        leaves = 0
        while self.pos < len(lines) and lines[self.pos].startswith(dash):
            rest = lines[self.pos][len(dash):]
            if rest == "{}":
                self.pos += 1
                items.append({})
                leaves += 1
            elif _ITEM_KEY.match(rest):
                items.append(self.mapping(indent + "  ", depth + 1, first=rest))
            else:
                self.pos += 1
                items.append(_fast_scalar(rest))
                leaves += 1
        self.count += 1 + leaves
        return items


def fast_load(text: str) -> FastRead | None:
    """What ``load`` gives for a file ``dump`` wrote by its fast path (a header comment
    line allowed), or None for any other text, and for any ``load`` refuses (too big,
    too many values, too deep): then ask ``load``."""
    # a line holds one value at most: the file's size bounds the work, and the values
    # are counted once read (the estimate load uses counts every line as several)
    if len(text) > MAX_FILE_BYTES or "\x00" in text:
        return None
    lines = text.split("\n")
    if len(lines) < 2 or lines.pop() != "":
        return None
    start = 1 if lines[0].startswith("#") else 0
    if start and not _HEADER.fullmatch(lines[0]):
        return None
    reader = _LineReader(lines, start)
    try:
        data = reader.mapping("", 0)
        if reader.pos != len(lines) or not data or reader.count > MAX_NODES:
            return None
        if fast_dump(data) != "".join(f"{line}\n" for line in lines[start:]):
            return None
    except (_NotFast, ValueError, RecursionError):  # ValueError: an int of 5,000 digits
        return None
    return FastRead(data, reader.places, start + 1)
