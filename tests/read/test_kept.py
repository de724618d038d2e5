"""The working tree's records kept whole between reports (``opp-index.records``, #25):
a report after one change builds only that file's record again, and the answer is
always the one a full parse gives (``same`` compares every report with
``OPP_NO_INDEX=1``), whatever happened to the copy."""

from __future__ import annotations

import os
import pickle
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_index import (
    damage_copy,
    deals,
    edit_objective,
    hand_git,
    pause,
    run,
    same,
    trusting,
)

from conftest import needs_real_file_times
from oppcli.read.index import db, entry, kept, stats, worktree
from oppcli.store.repo import Repo

__all__ = ["deals", "trusting"]  # fixtures, shared with test_index


def copy_of(root: Path) -> Path:
    return root / ".git" / "opp-index.records"


def held(root: Path) -> kept.Kept | None:
    """The records the copy holds, whatever they were kept for."""
    start = stats.peek(str(copy_of(root)))
    assert start is not None
    head = start.head
    index = db.Index.open(Repo.find(str(root)))
    assert index is not None
    try:
        return kept.load(index, kept.Key(head[0], head[1], head[2]))
    finally:
        index.close()


def stats_of(records: kept.Kept) -> list[bytes]:
    size = kept.STAT.size
    return [records.stats[i:i + size] for i in range(0, len(records.stats), size)]


@pytest.fixture
def built_records(monkeypatch):
    """How many records each report builds from the index's entries."""
    calls = []
    real = entry.RecordBuilder.record

    def counted(self, *args):
        calls.append(args[2])
        return real(self, *args)
    monkeypatch.setattr(entry.RecordBuilder, "record", counted)
    return calls


def test_a_report_after_one_change_builds_that_record_only(deals, trusting, built_records):
    root, (a, b, _c, d) = deals.root, deals.ids
    reference = same(root)
    assert copy_of(root).is_file()
    records = held(root)
    assert records is not None and [r.id for r in records.records] == sorted(deals.ids)
    assert records.files == [f"{r.id}.yaml" for r in records.records]
    assert kept.UNTRUSTED not in stats_of(records)  # trusted at once here
    built_records.clear()
    assert run("pipeline", "--format", "json") == reference[0]
    assert built_records == []  # every record taken as it was kept
    pause()
    deals("note", b, "called back")
    built_records.clear()
    assert run("pipeline", "--format", "json") == reference[0]
    assert built_records == [b]
    pause()
    deals("add-product", a, "SRV-01")  # the amount moves
    new = deals.new("Hooli", "--customer", "Hooli", "--amount", "10")
    reference = run("forecast", "--format", "json", no_index=True)
    built_records.clear()
    assert run("forecast", "--format", "json") == reference
    assert sorted(built_records) == sorted([a, b, new])  # b: never kept again yet
    deals.file(d).unlink()
    built_records.clear()
    results = same(root)
    assert results[7][0] == 0 and d not in results[7][1] and new in results[7][1]


def test_many_changes_keep_the_records_whole_again(deals, trusting, built_records,
                                                   monkeypatch):
    """Past SNAPSHOT_SLACK changed files (1 % of them, at least 32), a report keeps the
    records whole again, with the stat data of each file as it read it."""
    monkeypatch.setattr(worktree, "SNAPSHOT_SLACK", 1)
    root, (a, b, _c, _d) = deals.root, deals.ids
    same(root)
    before = copy_of(root).stat().st_mtime_ns
    pause()
    deals("note", a, "one")
    run("pipeline")
    assert copy_of(root).stat().st_mtime_ns == before  # one file: looked up, not kept
    pause()
    deals("note", b, "two")
    run("pipeline")
    assert copy_of(root).stat().st_mtime_ns != before
    records = held(root)
    assert records is not None
    for r, stat in zip(records.records, stats_of(records), strict=True):
        info = os.stat(deals.file(r.id))
        assert kept.STAT.unpack(stat) == (info.st_mode, info.st_size, info.st_mtime_ns,
                                          info.st_ctime_ns, info.st_ino)
    built_records.clear()
    run("pipeline")
    assert built_records == []


@needs_real_file_times
def test_stat_data_too_recent_is_never_kept(deals, monkeypatch):
    """Files written within RACY_SECONDS of a report are built again at every report
    (a same-size rewrite in the same tick of the clock would leave the same stat data)."""
    monkeypatch.setattr(worktree, "SNAPSHOT_SLACK", 0)
    same(deals.root)
    records = held(deals.root)
    assert records is not None and set(stats_of(records)) == {kept.UNTRUSTED}
    monkeypatch.setattr(worktree, "RACY_SECONDS", -60)
    pause()
    deals("note", deals.ids[0], "again")
    same(deals.root)
    records = held(deals.root)
    assert records is not None and kept.UNTRUSTED not in stats_of(records)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "a folder",
                                    "another index", "an older copy", "settings",
                                    "an account renamed", "a bit flipped", "a foreign class",
                                    "another width", "no rows", "a fifo"])
def test_the_records_kept_whole_are_only_a_cache(deals, damage, trusting, monkeypatch):
    """Damaged, of another index, older than the files, or kept under other settings
    or other account names: it costs time, never a wrong answer."""
    monkeypatch.setattr(worktree, "SNAPSHOT_SLACK", 0)  # kept again after any change
    root, (a, b, c, d) = deals.root, deals.ids
    witness = root.parent / "ran"
    same(root)
    copy = copy_of(root)
    older = copy.read_bytes()
    assert older.startswith(stats.RECORDS_MAGIC)
    pause()
    edit_objective(deals.file(a), "4321.00")
    deals("note", b, "called")
    deals.file(d).unlink()
    same(root)
    if damage == "settings":
        settings = root / "opp.yaml"
        settings.write_text(settings.read_text().replace("probability: 50",
                                                         "probability: 55"))
    elif damage == "an account renamed":
        deals("account", "edit", "Globex", "--name", "Globex Corporation")
    elif damage in ("a foreign class", "another width", "no rows"):  # sound CRCs
        with open(copy, "rb") as fh:
            fh.read(len(stats.RECORDS_MAGIC))
            end = os.fstat(fh.fileno()).st_size
            parts = []
            while fh.tell() < end:
                parts.append(stats.read_raw(fh, end))
        rows = pickle.loads(parts[3])  # (the head, the names, the stat data, the rows)
        parts[3] = pickle.dumps({
            "a foreign class": [*rows[:-1], Ran(witness)],
            "another width": [*rows[:-1], rows[-1][:-1]],
            "no rows": dict(enumerate(rows))}[damage], protocol=5)
        with open(copy, "wb") as fh:
            fh.write(stats.RECORDS_MAGIC)
            for part in parts:
                stats.write_raw(fh, part)
    elif damage == "a fifo":
        copy.unlink()
        os.mkfifo(copy)
    elif damage == "a bit flipped":
        data = bytearray(copy.read_bytes())
        data[-5] ^= 1
        copy.write_bytes(bytes(data))
    else:
        assert damage_copy(root, copy, older, damage)
    pause()
    edit_objective(deals.file(c), "1111.00")
    results = same(root)
    if damage == "settings":
        assert '"probability": 55' in results[7][1]
    if damage == "an account renamed":
        assert "Globex Corporation" in results[7][1]
    deals.file(b).write_text(deals.file(b).read_text().replace("stage: ", "stage: nowhere-"))
    results = same(root)
    assert results[0][0] == 1 and f"opportunities/{b}.yaml" in results[0][2]
    hand_git(root, "checkout", "-q", "--", ".")
    same(root)
    assert copy.is_file() == (damage != "a folder")  # (a folder in its place stays)
    assert not witness.exists()  # a copy naming another class is refused unread


class Ran:
    """Unpickled, it would make a file: a kept copy never runs code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (str(self.path),)


def test_the_agenda_reads_the_kept_records(deals, trusting, built_records):
    """The agenda takes its deals from the kept records too: a closed deal with nothing
    to do is left out, one with an activity to do is in, as without the index."""
    root, (_a, _b, c, d) = deals.root, deals.ids
    same(root)
    soon = (date.today() + timedelta(days=3)).isoformat()
    deals("activity", "add", c, "--type", "call", "--subject", "Ask for a reference",
          "--date", soon)
    run("pipeline")  # keeps the records, the won deal's activity with them
    built_records.clear()
    with_index = run("agenda", "--format", "json")
    assert built_records in ([], [c])
    assert with_index == run("agenda", "--format", "json", no_index=True)
    assert c in with_index[1] and d not in with_index[1]


def test_the_agendas_dated_items_parsed_ahead_are_the_ones_read_later(deals, trusting,
                                                                      monkeypatch):
    """While the key's child walks, the agenda's parent parses the kept tails' dated
    items ahead, a chunk at a time, and stops once the child answers; the agenda takes
    those it finds by tail, and is the one the files give."""
    root, (a, _b, c, _d) = deals.root, deals.ids
    soon = (date.today() + timedelta(days=3)).isoformat()
    for deal in (a, c):  # an open deal and a won one, each with an activity to do
        deals("activity", "add", deal, "--type", "call", "--subject", "Call", "--date", soon)
    run("pipeline")
    run("pipeline")  # keeps the records
    found = kept._read(str(copy_of(root)), tails=True)
    assert found is not None and found.tails is not None
    reader = entry.DatedReader()
    dated = {(t, r.status != "open") for r, t in zip(found.records, found.tails, strict=True)
             if t}
    assert len(dated) == 2
    monkeypatch.setattr(kept, "AHEAD_CHUNK", 1)
    for looks, wanted in ((0, 0), (2, 2), (99, len(found.tails))):  # looks at the pipe
        monkeypatch.setattr(kept, "_ahead", ({}, {}))
        kept.preload(str(copy_of(root)), tails=True)
        seen: list[int] = []
        kept.parse_ahead(lambda: len(seen) >= looks or bool(seen.append(1)))  # noqa: B023  (called at once)
        opened, closed = kept.dated_ahead()
        assert {**opened, **closed} == {t: reader.dated(t, shut) for t, shut in dated
                                        if found.tails.index(t) < wanted}
    # a copy of another opp (its tails another form): parsed ahead, never a refusal
    odd = found._replace(tails=["\x1eq\x1fq9\x1f2026-01-01\x1fnot-a-number", 7, "\x1ep"])
    for tails in ([odd.tails[0]], [odd.tails[1]], [odd.tails[2]]):
        monkeypatch.setattr(kept, "_preloaded", (str(copy_of(root)), odd._replace(
            records=found.records[:1], tails=tails)))
        kept.parse_ahead(lambda: False)
    read_again = []  # the agenda takes the items parsed ahead by tail
    real = entry.DatedReader.dated
    monkeypatch.setattr(entry.DatedReader, "dated", lambda self, rec, shut=False:
                        read_again.append(rec) or real(self, rec, shut))
    kept.preload(str(copy_of(root)), tails=True)
    assert run("agenda", "--format", "json") == run("agenda", "--format", "json",
                                                    no_index=True)
    assert not set(read_again) & {t for t, _ in dated}
