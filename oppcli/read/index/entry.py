"""The index's entries: one opportunity file parsed once (by git blob id) into the
fields reports need, its problems, and its ``show`` JSON; and the plain ``Record``
built from an entry under the settings in force.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

from ...domain.categories import deal_category, stage_category
from ...domain.records import (
    NOTHING_DATED,
    Dated,
    PlannedActivity,
    Record,
    SentQuote,
    dated,
)
from ...domain.settings import Settings
from ...domain.stages import stage_problems
from ...errors import DataError
from ...store.repo import Repo

if TYPE_CHECKING:
    from ...domain.model import Opportunity

SEP = "\x1f"  # between record fields: validated fields never hold control characters


@dataclass(frozen=True, slots=True)  # slots: 100,000 of them held 10 MB less
class Entry:
    """A file content parsed and checked, minus what depends on its name and the settings.

    ``rec``: the record fields and the places of some keys, joined by SEP, or None when
    the file is not a valid opportunity; ``err``: ``message SEP line SEP column`` of the
    first error (the YAML or schema error when ``rec`` is None, else the first rule the
    file breaks whatever the settings), or None.
    """

    rec: str | None
    err: str | None
    detail: str | None = None  # when just parsed and valid: ``views.detail`` as JSON


# rec fields, in order
_FIELDS = ("id", "name", "customer", "owner", "stage", "amount", "objective", "currency",
           "close_date", "created", "amount_source", "ref", "lost_reason", "category")
REC_FIELDS = _FIELDS  # what a rec holds, in order (history reads some of them)


_LOCS = ("id", "stage", "close_date", "lost_reason")  # (line, column) of each, after the fields

# after the places, when the deal has any, MARK then what of it is dated, for the agenda
# (``records.Dated``), as tagged groups: "p" id type subject day (an activity to do), "d"
# day (a day an activity was done), "q" id sent total (a quote sent and not answered).
# Most deals have none: one search for MARK tells them, and only the items are split.
MARK = "\x1e"
_PLANNED, _FIRST_PLANNED = f"{SEP}p{SEP}", f"{MARK}p{SEP}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, Decimal)):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return str(value)


def _error_text(exc: DataError) -> str:
    return f"{exc.message}{SEP}{exc.line or ''}{SEP}{exc.column or ''}"


def _fast_load(data: bytes):
    """(data, node) of a plain file, None for anything else, which then takes
    ``yamlio.load``. A file opp wrote by its fast path is read by ``yamlio.fast_load``
    (the node is then its ``FastRead``); another plain one (no anchors, aliases, merge
    keys or duplicate keys) by the same loader as ``yamlio.load`` minus its node walk.
    A file this accepts and the schema validates is one ``yamlio.load`` accepts with
    the same data: what the walk refuses needs ``&``, ``*`` or ``<<`` (absent here), a
    duplicate key (a smaller mapping here) or nesting deeper than any valid
    opportunity."""
    from ...store import yamlio

    if len(data) > yamlio.MAX_FILE_BYTES or b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    read = yamlio.fast_load(text)  # a file opp wrote by its fast path: no PyYAML at all
    if read is not None:
        return read.data, read
    if yamlio._estimate(text) > yamlio.MAX_NODES:
        return None  # the careful path counts the values and refuses, memory bounded
    if b"&" in data or b"*" in data or b"<<" in data:
        return None
    loader = _fast_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return loader.construct_document(node), node
    except Exception:  # anything odd: the careful path says what
        return None
    finally:
        loader.dispose()


_FastLoader: Any = None


def _fast_loader():
    global _FastLoader
    if _FastLoader is None:
        from ...store.pyyaml import Loader

        class FastLoader(Loader):
            def construct_mapping(self, node, deep=False):
                mapping = super().construct_mapping(node, deep=deep)
                if len(mapping) != len(node.value):
                    raise ValueError("duplicate key")
                return mapping

        _FastLoader = FastLoader
    return _FastLoader


def parse(data: bytes) -> Entry:
    """The entry of an opportunity file's bytes: what ``Repo.load_errors`` finds, less the
    checks that need the file's name or the settings (made by ``make_record``)."""
    from ...domain.checks import form_problems
    from ...domain.model import Opportunity
    from ...store import yamlio

    opp, node = None, None
    fast = _fast_load(data)
    if fast is not None:
        try:
            opp = Opportunity.model_validate(fast[0])
            node = fast[1]
        except Exception:
            opp = None
    if opp is None:
        try:
            loaded, node = yamlio.load(data, "")
        except DataError as exc:
            return Entry(None, _error_text(exc))
        result = Repo.model_errors(Opportunity, "", loaded, node)
        if isinstance(result, list):
            return Entry(None, _error_text(result[0]))
        opp = result
    fields = [_text(getattr(opp, name)) for name in _FIELDS]
    for key in _LOCS:
        place = node.locate(key) if isinstance(node, yamlio.FastRead) else None
        line, column = place or yamlio.locate(_node(node, data), (key,))
        fields += [str(line), str(column)]
    rec = SEP.join(fields)
    tail = _dated_fields(opp)
    if tail:
        rec += MARK + SEP.join(tail)
    err = None
    found = form_problems(opp)
    if found:
        line, column = yamlio.locate(_node(node, data), found[0].loc)
        err = _error_text(DataError(found[0].message, None, line, column))
    return Entry(rec, err, None if err else _detail(opp))


def _dated_fields(opp: Opportunity) -> list[str]:
    """The tail of a rec: the deal's dated items (``records.dated``) as tagged fields."""
    return dated_fields(dated(opp))


def dated_fields(items: Dated) -> list[str]:
    """Dated items as the tagged fields ``DatedReader`` reads."""
    out: list[str] = []
    for a in items.planned:
        out += ["p", a.id, a.type, a.subject, a.date.isoformat()]
    for day in items.done_days:
        out += ["d", day.isoformat()]
    for q in items.sent:
        out += ["q", q.id, q.sent.isoformat(), str(q.total)]
    return out


class _Days(dict):
    """ISO day -> date, each distinct day made once (the agenda reads tens of thousands
    of a few hundred days): looked up in C, made only when missing."""

    def __missing__(self, text: str) -> date:
        self[text] = found = date.fromisoformat(text)
        return found


class DatedReader:
    """The dated items of recs (``records.Dated``), equal days shared between them."""

    def __init__(self) -> None:
        self.days = _Days()

    def day(self, text: str) -> date:
        return self.days[text]

    def dated(self, rec: str, closed: bool = False) -> Dated:
        """The deal's dated items (of a closed one, only its activities to do, as
        ``records.dated``); the shared empty value for most deals, which have none."""
        at = rec.find(MARK)
        if at < 0 or (closed and not plans(rec, at)):
            return NOTHING_DATED
        f = rec[at + 1:].split(SEP)
        day = self.days.__getitem__
        if not closed and len(f) == 2 * f.count("d"):  # only days done: most deals
            return _new(Dated, ((), tuple(map(day, f[1::2])), ()))
        planned: list[PlannedActivity] = []
        done: list[date] = []
        sent: list[SentQuote] = []
        # days shared through the cache, looked up in C; the tuples made with
        # tuple.__new__ (thousands of deals at 10,000: their own __new__ is a Python call)
        i, end = 0, len(f)
        while i < end:
            tag = f[i]
            if tag == "p":
                planned.append(_new(PlannedActivity, (f[i + 1], f[i + 2], f[i + 3],
                                                      day(f[i + 4]))))
                i += 5
            elif tag == "d":
                if not closed:
                    done.append(day(f[i + 1]))
                i += 2
            elif tag == "q":
                if not closed:
                    sent.append(_new(SentQuote, (f[i + 1], day(f[i + 2]), Decimal(f[i + 3]))))
                i += 4
            else:
                raise ValueError(f"unknown dated item {tag!r}")
        if not (planned or done or sent):
            return NOTHING_DATED
        return _new(Dated, (tuple(planned), tuple(done), tuple(sent)))


def plans(rec: str, at: int) -> bool:
    """Whether a rec whose dated items begin at ``at`` (its MARK; -1: it has none) may
    hold an activity to do: never false when it does (a subject that reads "p" only
    costs the full look)."""
    return at >= 0 and (rec.startswith(_FIRST_PLANNED, at) or _PLANNED in rec[at:])


def _node(node: Any, data: bytes) -> Any:
    """The YAML node of a file (parsed again when only the fast reader read it)."""
    from ...store import yamlio

    return yamlio.load(data, "")[1] if isinstance(node, yamlio.FastRead) else node


_NEUTRAL = Settings()  # every module on


def _detail(opp) -> str:
    """``views.detail`` of a valid opportunity as JSON, read with settings that have every
    module on; ``working_detail`` puts in the stage's label, status and probability."""

    from ...domain.views import detail

    return json.dumps(detail(opp, _NEUTRAL), ensure_ascii=False, separators=(",", ":"))


PARALLEL_MIN = 2000  # parse in worker processes from this many files on


def _parse_many(items: list[tuple[str, bytes]]) -> list[tuple[str, Entry]]:
    return [(blob, parse(data)) for blob, data in items]


def parse_all(items: dict[str, bytes]) -> dict[str, Entry]:
    """Entries of many blobs; with many, in worker processes (one per CPU, fork)."""
    todo = list(items.items())
    workers = workers_for(len(todo))
    if workers <= 1:
        return dict(_parse_many(todo))
    import multiprocessing

    from ...domain import model, views  # noqa: F401  (imported once, before the fork)

    size = max(200, len(todo) // (workers * 8))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    out: dict[str, Entry] = {}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for part in pool.imap_unordered(_parse_many, chunks):
            out.update(part)
    return out


def workers_for(count: int) -> int:
    if count < PARALLEL_MIN or os.name != "posix" or not hasattr(os, "fork"):
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    if os.uname().sysname == "Darwin":  # fork without exec is not safe there
        return 1
    return max(1, min(cpus, 8))


def _error(err: str, relpath: str) -> DataError:
    message, line, column = err.rsplit(SEP, 2)
    return DataError(message, relpath, int(line) if line else None,
                     int(column) if column else None)


def make_record(entry: Entry, opp_id: str, relpath: str, settings: Settings) -> Record:
    """The record of an entry found at ``relpath``, read with ``settings``; the first
    error ``Repo.load`` would raise for that file otherwise, in the same words and place."""
    return RecordBuilder(settings).record(entry.rec, entry.err, opp_id, relpath)


class RecordBuilder:
    """Records from entries under one set of settings; equal small values (dates, owners,
    customers, stages) are shared between records, which saves time and memory."""

    def __init__(self, settings: Settings, names: dict[str, str] | None = None,
                 agenda: bool = False):
        self.settings = settings
        self.names = names or {}  # account id -> name: a customer shows its account's
        self.agenda = agenda  # no record (None) of a closed deal with nothing to do
        self.ranks = stage_ranks(settings)
        self.dates: dict[str, date] = {}
        self.words: dict[str, str] = {}

    def day(self, text: str) -> date:
        found = self.dates.get(text)
        if found is None:
            found = self.dates[text] = date.fromisoformat(text)
        return found

    def date(self, text: str) -> date | None:
        return self.day(text) if text else None

    def record(self, rec: str | None, err: str | None, opp_id: str,
               relpath: str) -> Record:
        if rec is None:
            raise _error(err or f"unreadable{SEP}{SEP}", relpath)
        f = rec.split(SEP)
        stage = self.ranks.get(f[4])
        # the usual case first: the stage exists and the rules that read it hold
        if f[0] != opp_id or stage is None or err is not None or \
                (stage[2] != "open" and not f[8]) or (f[12] and stage[2] != "lost"):
            _refuse(f, Entry(rec, err), opp_id, relpath, self.settings)
        if self.agenda and stage[2] != "open" and (MARK not in rec
                                                   or not plans(rec, rec.find(MARK))):
            # checked above as any record is, then left out (the agenda's builder)
            return None  # type: ignore[return-value]  # Record | None would burden every report
        share, dates = self.words.setdefault, self.dates
        customer, closed, created = f[2], f[8], f[9]
        name = self.names.get(customer)
        # tuple.__new__ straight: Record's own __new__ is a Python call of 18 arguments
        return _new(Record, (f[0], f[1], name or share(customer, customer),
                             share(f[3], f[3]), stage[4], stage[1], stage[0], stage[2],
                             stage[3], Decimal(f[5]), Decimal(f[6]) if f[6] else None,
                             share(f[7], f[7]),
                             (dates.get(closed) or self.date(closed)) if closed else None,
                             dates.get(created) or self.day(created), share(f[10], f[10]),
                             f[11] or None,
                             # an open deal's own category, else its stage's (deal_category)
                             (f[13] or stage[5]) if stage[6] else stage[5],
                             customer if name is not None else None))


def _refuse(f: list[str], entry: Entry, opp_id: str, relpath: str,
            settings: Settings) -> NoReturn:
    """Raise what ``Repo.load_errors`` finds first: the id, then the stage rules, then
    the rules that hold whatever the settings."""
    locs = (entry.rec or "").partition(MARK)[0].split(SEP)[len(_FIELDS):]

    def at(key: str) -> tuple[int | None, int | None]:
        i = 2 * _LOCS.index(key)
        return (None if locs[i] == "None" else int(locs[i]),
                None if locs[i + 1] == "None" else int(locs[i + 1]))

    if f[0] != opp_id:
        raise DataError(f"id '{f[0]}' does not match the file name {opp_id}.yaml", relpath,
                        *at("id"))
    close_date = date.fromisoformat(f[8]) if f[8] else None
    found = stage_problems(f[4], close_date, f[12] or None, settings)
    if found:
        loc, message = found[0]
        raise DataError(message, relpath, *at(loc[0]))
    if entry.err is not None:
        raise _error(entry.err, relpath)
    # the index's fields said the file breaks a rule; the checks above find which
    raise DataError("breaks a rule of its stage; run: opp validate", relpath)


def stage_ranks(settings: Settings) -> dict[str, tuple]:
    """stage id -> (rank, label, kind, probability, id, category, open): the category of
    a deal at that stage with none of its own (``deal_category``), and whether its own
    counts (an open stage)."""
    out = {}
    for i, s in enumerate(settings.stages):
        category = stage_category(s.id, s.kind, s.category)
        out[s.id] = (i, s.label, s.kind, s.probability, s.id,
                     deal_category(s.kind, category, None)[0],
                     deal_category(s.kind, category, "own")[0] == "own")
    return out


_new = tuple.__new__
