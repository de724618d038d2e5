"""opp agenda and opp calendar end to end: a book of deals whose every commit is dated,
so that each section's boundaries fall on known days; the calendar read back with
icalendar."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import date, datetime
from pathlib import Path

import pytest

TODAY = "2026-11-26"  # a Thursday


def on(monkeypatch, day: str) -> None:
    """Make the next changes on ``day``: opp's today and git's dates."""
    stamp = f"{day}T12:00:00+00:00"
    monkeypatch.setenv("OPP_TODAY", day)
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)


def make_book(crm, monkeypatch) -> dict[str, str]:
    """Deals and items on dated commits; today is 2026-11-26.

    S30   alice  created 2026-10-27 (30 days ago)               stale, exactly
    S29   bob    created 2026-10-28 (29 days ago)               not stale
    LATE  bob    closes 2026-11-25 (yesterday)                  past its close date
    DUE   alice  closes 2026-11-26 (today)                      not late
    ACT   alice  activities 11-25, 11-26, 12-03, 12-04; one done on 11-24
    Q     bob    quotes sent 11-12 (14 days ago) and 11-13 (13)  one waiting
    WON   alice  won in September; a planned call on 11-20 and a sent quote
    TOUCH bob    committed 2026-09-01; planned calls on 11-10 and 12-20
    OLD   carol  committed 2026-08-01, no close date; a call planned for 12-20
    """
    ids: dict[str, str] = {}
    items: dict[str, str] = {}

    def new(key, day, name, owner, *args):
        on(monkeypatch, day)
        ids[key] = crm.new(name, "--owner", owner, "--amount", "1000", *args)

    def activity(key, item, day, on_day, *args):
        on(monkeypatch, day)
        items[item] = crm("activity", "add", ids[key], "--type", "call", "--subject",
                          f"Call {item}", "--date", on_day, *args).stdout.strip()

    new("S30", "2026-10-27", "Stale exactly", "alice", "--close-date", "2026-12-31")
    new("S29", "2026-10-28", "Fresh enough", "bob", "--close-date", "2026-12-31")
    new("LATE", "2026-11-24", "Late deal", "bob", "--close-date", "2026-11-25")
    new("DUE", "2026-11-25", "Closes today", "alice", "--close-date", "2026-11-26")
    new("ACT", "2026-11-25", "Busy deal", "alice", "--close-date", "2027-01-15")
    activity("ACT", "overdue", "2026-11-25", "2026-11-25")
    activity("ACT", "today", "2026-11-25", "2026-11-26")
    activity("ACT", "in7", "2026-11-25", "2026-12-03")
    activity("ACT", "in8", "2026-11-25", "2026-12-04")
    activity("ACT", "done", "2026-11-25", "2026-11-24", "--done")
    new("Q", "2026-11-01", "Quoted deal", "bob", "--close-date", "2027-02-01")
    crm("add-product", ids["Q"], "SRV-01")
    items["q14"] = crm("quote", "new", ids["Q"]).stdout.strip()
    items["q13"] = crm("quote", "new", ids["Q"]).stdout.strip()
    on(monkeypatch, "2026-11-12")
    crm("quote", "send", ids["Q"], items["q14"])
    on(monkeypatch, "2026-11-13")
    crm("quote", "send", ids["Q"], items["q13"])
    new("WON", "2026-09-01", "Won deal", "alice", "--stage", "negotiation")
    crm("add-product", ids["WON"], "CONS")
    items["won-quote"] = crm("quote", "new", ids["WON"]).stdout.strip()
    crm("quote", "send", ids["WON"], items["won-quote"])
    on(monkeypatch, "2026-09-02")
    crm("close", ids["WON"], "--won")
    activity("WON", "won-call", "2026-09-02", "2026-11-20")
    new("TOUCH", "2026-09-01", "Touched by a call", "bob", "--close-date", "2027-03-01")
    activity("TOUCH", "past-call", "2026-09-01", "2026-11-10")
    activity("TOUCH", "later-call", "2026-09-01", "2026-12-20")
    new("OLD", "2026-08-01", "Forgotten", "carol")
    activity("OLD", "old-call", "2026-08-01", "2026-12-20")
    return {**ids, **{f"item:{k}": v for k, v in items.items()}}


@pytest.fixture
def book(crm, monkeypatch, built):
    keys = built("agenda-book", crm.root, lambda: make_book(crm, monkeypatch))
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPP_TODAY", TODAY)
    monkeypatch.setenv("OPP_NOW", f"{TODAY}T08:30:00+01:00")
    monkeypatch.setenv("COLUMNS", "80")
    crm.ids = {k: v for k, v in keys.items() if not k.startswith("item:")}
    crm.items = {k[5:]: v for k, v in keys.items() if k.startswith("item:")}
    return crm


def names(entries) -> list[str]:
    return [e["name"] for e in entries]


def subjects(entries) -> list[str]:
    return [e["subject"] for e in entries]


# ---------------------------------------------------------------- the sections


def test_every_section_and_its_boundaries(book):
    data = book.json("agenda")
    assert data["today"] == TODAY
    assert (data["days"], data["stale_days"], data["quote_days"]) == (7, 30, 14)
    # before today, oldest first: a closed deal's activities count too (R17)
    assert subjects(data["overdue"]) == ["Call past-call", "Call won-call", "Call overdue"]
    assert subjects(data["due_today"]) == ["Call today"]  # due exactly today
    assert subjects(data["upcoming"]) == ["Call in7"]  # today + 7 in, today + 8 out
    assert names(data["past_close"]) == ["Late deal"]  # yesterday; today is not late
    late = data["past_close"][0]
    assert (late["close_date"], late["days_late"], late["last_touch"], late["days"]) == \
        ("2026-11-25", 1, "2026-11-24", 2)
    # exactly 30 days untouched is stale, 29 is not; most neglected first
    assert names(data["stale"]) == ["Forgotten", "Stale exactly"]
    old, s30 = data["stale"]
    assert (s30["last_touch"], s30["days"]) == ("2026-10-27", 30)
    assert (old["last_touch"], old["days"]) == ("2026-08-01", 117)  # a later call: not yet
    assert old["close_date"] is None and old["owner"] == "carol"
    # sent exactly 14 days ago: waiting; 13 days ago: not yet; a closed deal's: never
    (quote,) = data["quotes_waiting"]
    assert (quote["quote"], quote["sent"], quote["days"], quote["total"], quote["currency"]) \
        == (book.items["q14"], "2026-11-12", 14, "1200.00", "EUR")


def test_the_json_shape_is_the_contracts(book):
    data = book.json("agenda")
    assert {"today", "overdue", "due_today", "upcoming", "past_close", "stale",
            "quotes_waiting"} <= set(data)
    activity = {"id", "name", "customer", "owner", "item", "type", "subject", "date"}
    deal = {"id", "name", "customer", "owner", "stage", "amount", "currency", "close_date",
            "last_touch", "days"}
    quote = {"id", "name", "customer", "owner", "quote", "sent", "total", "currency", "days"}
    for section, keys in (("overdue", activity), ("due_today", activity),
                          ("upcoming", activity), ("past_close", deal), ("stale", deal),
                          ("quotes_waiting", quote)):
        assert data[section], section
        for entry in data[section]:
            assert keys <= set(entry), (section, keys - set(entry))
    entry = data["due_today"][0]
    assert entry == {"id": book.ids["ACT"], "name": "Busy deal", "customer": "Acme Corp",
                     "owner": "alice", "item": book.items["today"], "type": "call",
                     "subject": "Call today", "date": TODAY}
    assert data["stale"][1]["amount"] == "1000.00"


def test_the_last_touch_is_the_latest_commit_or_activity_up_to_today(book):
    data = book.json("agenda", "--stale-days", "1")
    touched = {e["name"]: e["last_touch"] for e in data["stale"]}
    assert touched["Touched by a call"] == "2026-11-10"  # its call, after its last commit
    assert touched["Closes today"] == "2026-11-25"  # its commit
    assert touched["Forgotten"] == "2026-08-01"  # a call planned for later: not yet
    assert "Won deal" not in touched  # closed deals are never stale
    assert "Busy deal" not in touched  # a call dated today touches it today
    data = book.json("agenda", "--stale-days", "0")
    busy = {e["name"]: e for e in data["stale"]}["Busy deal"]
    assert (busy["last_touch"], busy["days"]) == (TODAY, 0)


def test_windows_move_with_their_options(book):
    data = book.json("agenda", "--days", "8", "--stale-days", "29", "--quote-days", "13")
    assert subjects(data["upcoming"]) == ["Call in7", "Call in8"]
    assert names(data["stale"]) == ["Forgotten", "Stale exactly", "Fresh enough"]
    assert [q["quote"] for q in data["quotes_waiting"]] == [book.items["q14"],
                                                            book.items["q13"]]
    data = book.json("agenda", "--days", "0")
    assert data["upcoming"] == [] and subjects(data["due_today"]) == ["Call today"]


def test_another_day(book, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-27")
    data = book.json("agenda")
    assert subjects(data["overdue"])[-1] == "Call today"
    assert names(data["past_close"]) == ["Late deal", "Closes today"]
    assert names(data["stale"]) == ["Forgotten", "Stale exactly", "Fresh enough"]


# ---------------------------------------------------------------- owners


def test_owner_filters_case_insensitively(book):
    data = book.json("agenda", "--owner", "ALICE")
    every = [e for s in ("overdue", "due_today", "upcoming", "past_close", "stale",
                         "quotes_waiting") for e in data[s]]
    assert every and {e["owner"] for e in every} == {"alice"}
    assert data["owner"] == "ALICE"


def test_owner_me_is_the_identity_opp_commits_as(book, monkeypatch):
    monkeypatch.setenv("OPP_USER", "carol")  # no git identity here: OPP_USER names you
    data = book.json("agenda", "--owner", "me")
    assert data["owner"] == "carol"
    assert names(data["stale"]) == ["Forgotten"] and data["overdue"] == []
    book.git("config", "user.name", "bob")  # git's identity comes first, as for commits
    book.git("config", "user.email", "bob@example.com")
    data = book.json("agenda", "--owner", "me")
    assert data["owner"] == "bob"
    assert names(data["past_close"]) == ["Late deal"]
    assert {e["owner"] for e in data["overdue"]} == {"bob"}


def test_an_owner_nobody_has_says_so(book):
    r = book("agenda", "--owner", "zoe")
    assert "Nothing to do" in r.stdout
    assert "no deal has the owner 'zoe'" in r.stderr and "alice" in r.stderr


def test_an_owner_of_closed_deals_only_is_an_owner(book, monkeypatch):
    """The agenda reads no record of a closed deal with nothing to do; an owner whose
    deals are all such is still an owner, not a typo."""
    monkeypatch.setenv("OPP_USER", "dora")
    lost = book.new("Lost long ago", "--owner", "dora")
    book("close", lost, "--lost", "--reason", "price")
    for no_index in ("", "1"):
        monkeypatch.setenv("OPP_NO_INDEX", no_index)
        r = book("agenda", "--owner", "dora")
        assert "Nothing to do" in r.stdout and "no deal has the owner" not in r.stderr


def test_the_agenda_reads_open_deals_and_closed_ones_with_work(book, monkeypatch):
    """``Source.dated``: every open deal and every closed one with an activity to do,
    the same with the index and without; a closed deal with nothing to do is left out,
    and its file is still checked."""
    from oppcli.read.source import of
    from oppcli.store.repo import Repo

    lost = book.new("Lost long ago")
    book("close", lost, "--lost", "--reason", "price")
    seen = []
    for no_index in ("", "1"):
        monkeypatch.setenv("OPP_NO_INDEX", no_index)
        items = of(Repo(book.root)).dated()
        seen.append(items)
        ids = {r.id for r, _ in items}
        assert book.ids["WON"] in ids and lost not in ids  # won, with a call to make
        assert all(r.status == "open" or d.planned for r, d in items)
        assert {r.id for r in of(Repo(book.root)).records() if r.status == "open"} < ids
    assert seen[0] == seen[1]
    path = book.root / "opportunities" / f"{lost}.yaml"
    text = path.read_text()
    assert "\nclose_date: " in text
    path.write_text("\n".join(line for line in text.split("\n")
                              if not line.startswith("close_date: ")))  # a closed deal needs it
    for no_index in ("", "1"):
        monkeypatch.setenv("OPP_NO_INDEX", no_index)
        r = book("agenda", code=1)
        assert f"opportunities/{lost}.yaml" in r.stderr and "no agenda" in r.stderr
    path.write_text(text)
    # a rule broken by the last key whose place a rec keeps, in a deal with dated items:
    # the same line and column either way
    won = book.root / "opportunities" / f"{book.ids['WON']}.yaml"
    won.write_text(won.read_text() + "lost_reason: price\n")
    refusals = []
    for no_index in ("", "1"):
        monkeypatch.setenv("OPP_NO_INDEX", no_index)
        refusals.append(book("agenda", code=1).stderr)
    assert refusals[0] == refusals[1] and f"{book.ids['WON']}.yaml:" in refusals[0]
    assert "lost" in refusals[0], refusals[0]


# ---------------------------------------------------------------- for people


def test_the_table_is_grouped_overdue_first_and_fits_80_columns(book):
    book("set", book.ids["ACT"], "name",
         "A very long deal name that goes on well past any column it could get")
    book("activity", "add", book.ids["ACT"], "--type", "meeting", "--subject",
         "A subject long enough to be cut in a table of eighty columns", "--date", TODAY)
    out = book("agenda").stdout
    lines = out.splitlines()
    assert lines[0] == f"Agenda for {TODAY}"
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    titles = [line for line in lines if line and not line.startswith(" ")][1:]
    assert titles == ["Overdue (3)", "Due today (2)", "Upcoming, next 7 days (1)",
                      "Past the expected close date (1)",
                      "Stale: untouched for 30 days or more (2)",
                      "Quotes sent 14 days ago or more, unanswered (1)"]
    assert "…" in out  # the long name and subject were cut
    assert f"{book.ids['ACT']} {book.items['today']}" in out  # what 'activity done' takes
    wide = book("agenda", env={"COLUMNS": "200"}).stdout
    assert "A very long deal name that goes on well past any column it could get" in wide


def test_the_table_without_anything_to_do(book):
    out = book("agenda", "--owner", "nobody").stdout
    assert "Nothing to do" in out


def test_limit_lists_the_first_entries_and_counts_the_rest(book):
    out = book("agenda", "--limit", "1").stdout
    assert "Overdue (3)" in out and "… 2 more not listed (--limit 1" in out
    assert "Call overdue" not in out and "Call past-call" in out
    full = book("agenda", "--limit", "0").stdout
    assert "Call overdue" in full and "more not listed" not in full
    assert len(book.json("agenda", "--limit", "1")["overdue"]) == 3  # JSON holds them all


def test_markdown_for_a_ci_job_summary(book):
    out = book("agenda", "--format", "markdown").stdout
    assert out.startswith(f"### Agenda for {TODAY}\n")
    assert "#### Overdue (3)" in out and "#### Quotes sent 14 days ago or more" in out
    assert "| Busy deal (Acme Corp) " in out  # the customer and stage too
    assert "| Negotiation " not in out and "| Prospecting " in out


def test_csv_and_tsv_hold_every_entry_with_its_section(book):
    rows = list(csv.DictReader(io.StringIO(book("agenda", "--format", "csv").stdout)))
    assert [r["section"] for r in rows] == ["overdue"] * 3 + ["due_today", "upcoming",
                                                              "past_close", "stale", "stale",
                                                              "quotes_waiting"]
    assert rows[3]["item"] == book.items["today"] and rows[3]["date"] == TODAY
    assert rows[-1]["total"] == "1200.00" and rows[-1]["days"] == "14"
    tsv = list(csv.DictReader(io.StringIO(book("agenda", "--format", "tsv").stdout),
                              delimiter="\t"))
    assert tsv == rows


# ---------------------------------------------------------------- scripts and CI


def test_exit_code_only_when_asked_and_something_is_late(book):
    assert book("agenda", "--format", "json").exit_code == 0  # work to do is not a failure
    r = book("agenda", "--format", "json", "--exit-code", code=1)
    assert json.loads(r.stdout)["overdue"]  # the data is still printed
    assert "3 overdue activities" in r.stderr
    assert "1 deal past the expected close date" in r.stderr
    # carol's deal is stale and has a call to come: nothing late
    assert book("agenda", "--owner", "carol", "--exit-code").exit_code == 0
    # bob: past close date only (his overdue call is on TOUCH: also late)
    r = book("agenda", "--owner", "bob", "--exit-code", "--format", "csv", code=1)
    assert "past_close" in r.stdout


@pytest.mark.parametrize("args", [
    ["--days", "-1"], ["--days", "seven"], ["--stale-days", "-30"], ["--quote-days", "x"],
    ["--days", "99999999"], ["--owner", ""], ["--format", "pdf"], ["--limit", "-1"],
])
def test_refusals_exit_2_and_change_nothing(book, unchanged, args):
    with unchanged:
        r = book("agenda", *args, code=2)
    assert args[0] in r.stderr


def test_calendar_refusals_change_nothing(book, unchanged, tmp_path):
    with unchanged:
        book("calendar", "-o", str(tmp_path / "missing" / "cal.ics"), code=1)
        book("calendar", "-o", str(tmp_path), code=2)
        book("calendar", "--owner", "", code=2)
    assert not (tmp_path / "missing").exists()


def test_an_invalid_file_refuses_the_agenda(book):
    path = book.file(book.ids["S30"])
    path.write_text(path.read_text().replace("stage: prospecting", "stage: nowhere"))
    r = book("agenda", code=1)
    assert f"opportunities/{book.ids['S30']}.yaml" in r.stderr and "no agenda" in r.stderr


# ---------------------------------------------------------------- the calendar


def read_ics(data: bytes):
    from icalendar import Calendar

    cal = Calendar.from_ical(data)
    assert not getattr(cal, "errors", None)
    for component in cal.walk():
        assert not getattr(component, "errors", None), component.errors
    return cal


def is_day(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def test_calendar_has_every_planned_activity_and_open_close_date(book, tmp_path):
    out = tmp_path / "sales.ics"
    r = book("calendar", "-o", str(out))
    assert "wrote" in r.stderr and r.stdout == ""
    data = out.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and b"VERSION:2.0" in data
    cal = read_ics(data)
    todos = {str(t["UID"]): t for t in cal.walk("VTODO")}
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    ids, items = book.ids, book.items
    planned = {"overdue": "ACT", "today": "ACT", "in7": "ACT", "in8": "ACT",
               "won-call": "WON", "past-call": "TOUCH", "later-call": "TOUCH",
               "old-call": "OLD"}  # whatever their day; not the done one
    assert set(todos) == {f"{ids[deal]}-{items[item]}@opp" for item, deal in planned.items()}
    # every open deal with an expected close date; not the won one, not the undated one
    assert set(events) == {f"{ids[k]}-close@opp"
                           for k in ("S30", "S29", "LATE", "DUE", "ACT", "Q", "TOUCH")}
    for todo in todos.values():
        assert is_day(todo["DUE"].dt)
        assert "DTSTART" not in todo and todo["STATUS"] == "NEEDS-ACTION"
    todo = todos[f"{ids['ACT']}-{items['in8']}@opp"]
    assert todo["DUE"].dt == date(2026, 12, 4)
    assert str(todo["SUMMARY"]) == "Call: Call in8 (Busy deal)"
    assert f"opp activity done {ids['ACT']} {items['in8']}" in str(todo["DESCRIPTION"])
    for event in events.values():
        assert str(event["SUMMARY"]).startswith("Close: ")
        assert is_day(event["DTSTART"].dt) and is_day(event["DTEND"].dt)
        assert (event["DTEND"].dt - event["DTSTART"].dt).days == 1  # all day
    late = events[f"{ids['LATE']}-close@opp"]
    assert late["DTSTART"].dt == date(2026, 11, 25)
    assert str(late["SUMMARY"]) == "Close: Late deal (Acme Corp), 1,000.00 EUR"
    assert b"DUE;VALUE=DATE:20261204" in data and b"DTSTART;VALUE=DATE:20261125" in data
    assert b"DTSTAMP:20261126T073000Z" in data  # OPP_NOW, in UTC


def test_running_again_gives_the_same_uids(book, monkeypatch):
    first = book("calendar").stdout_bytes
    monkeypatch.setenv("OPP_NOW", "2026-11-27T09:00:00+00:00")
    book("activity", "add", book.ids["S29"], "--type", "visit", "--subject", "Visit")
    second = book("calendar").stdout_bytes

    def uids(data):
        return sorted(str(c["UID"]) for c in read_ics(data).walk()
                      if c.name in ("VTODO", "VEVENT"))

    assert set(uids(first)) < set(uids(second))
    assert len(uids(second)) == len(uids(first)) + 1
    assert book("calendar").stdout_bytes == second  # nothing changed: the same bytes
    assert uids(book("agenda", "--format", "ics").stdout_bytes) == \
        uids(book("agenda", "--format", "ics").stdout_bytes)


def test_calendar_of_one_owner(book):
    cal = read_ics(book("calendar", "--owner", "carol").stdout_bytes)
    assert [str(c["UID"]) for c in cal.walk("VTODO")] == \
        [f"{book.ids['OLD']}-{book.items['old-call']}@opp"]
    assert cal.walk("VEVENT") == [] and str(cal["X-WR-CALNAME"]) == "opp: carol"


def test_agenda_as_ics(book):
    cal = read_ics(book("agenda", "--format", "ics").stdout_bytes)
    uids = {str(c["UID"]): c for c in cal.walk() if c.name in ("VTODO", "VEVENT")}
    ids, items = book.ids, book.items
    assert set(uids) == {
        *(f"{ids['ACT']}-{items[i]}@opp" for i in ("overdue", "today", "in7")),
        f"{ids['WON']}-{items['won-call']}@opp", f"{ids['TOUCH']}-{items['past-call']}@opp",
        f"{ids['LATE']}-close@opp",  # past its close date
        f"{ids['S30']}-stale@opp", f"{ids['OLD']}-stale@opp",  # to follow up
        f"{ids['Q']}-quote-{items['q14']}@opp"}  # a quote to chase
    stale = uids[f"{ids['S30']}-stale@opp"]
    assert stale["DUE"].dt == date(2026, 11, 26)  # the day it went stale: it stays put
    chase = uids[f"{ids['Q']}-quote-{items['q14']}@opp"]
    assert chase.name == "VTODO" and chase["DUE"].dt == date(2026, 11, 26)
    assert str(uids[f"{ids['LATE']}-close@opp"]["SUMMARY"]).startswith("Close: ")


# ---------------------------------------------------------------- where the days come from


def test_the_index_and_the_files_agree(book, monkeypatch):
    indexed = book.json("agenda", "--stale-days", "1")
    monkeypatch.setenv("OPP_NO_INDEX", "1")
    assert book.json("agenda", "--stale-days", "1") == indexed


def test_one_git_log_reads_every_last_commit(book, monkeypatch):
    """Never one git per deal: the history is read once, then only what is new."""
    from oppcli.store import git as store_git

    for suffix in ("", "-wal", "-shm"):
        (book.root / ".git" / f"opp-index.sqlite3{suffix}").unlink(missing_ok=True)
    calls: list[list[str]] = []
    real = store_git.subprocess.run

    def spy(argv, *args, **kwargs):
        calls.append(list(argv))
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(store_git.subprocess, "run", spy)
    book.json("agenda")
    logs = [c for c in calls if "log" in c]
    assert len(logs) == 1 and len(calls) <= 4, calls
    calls.clear()
    book.json("agenda")  # warm: the index has the days as of HEAD
    assert not [c for c in calls if "log" in c], calls
    book("note", book.ids["OLD"], "Called them back")
    calls.clear()
    book.json("agenda")  # the change's commit: its parent read from its file, one log
    assert [c for c in calls if "log" in c or "merge-base" in c] == \
        [c for c in calls if "log" in c] and len(calls) == 1, calls


def test_new_commits_and_a_rewritten_history_are_read(book, monkeypatch):
    assert "Forgotten" in names(book.json("agenda")["stale"])
    on(monkeypatch, TODAY)
    book("note", book.ids["OLD"], "Called them back")
    assert "Forgotten" not in names(book.json("agenda")["stale"])  # only the new commit read
    subprocess.run(["git", "reset", "-q", "--hard", "HEAD~1"], cwd=book.root, check=True)
    assert "Forgotten" in names(book.json("agenda")["stale"])  # the history read again
    subprocess.run(["git", "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q",
                    "--allow-empty", "-m", "elsewhere"], cwd=book.root, check=True)
    assert "Forgotten" in names(book.json("agenda")["stale"])



def test_each_run_adds_a_row_of_the_days_read_since_then_all_again(book, monkeypatch):
    """A change's days go in as a row of their own, not 100,000 days again; past
    ``ROWS`` rows the days are written whole. Whatever the rows, they give the days one
    read of the whole history gives, and the agenda is the one the files give."""
    from oppcli.read import touches
    from oppcli.read.index import db
    from oppcli.store.repo import Repo

    monkeypatch.setattr(touches, "ROWS", 2)
    on(monkeypatch, TODAY)
    repo = Repo(book.root)
    book.json("agenda")
    seen = []
    for i, key in enumerate(["OLD", "S30", "TOUCH", "OLD"]):
        book("note", book.ids[key], f"Called them back {i}")
        indexed = book.json("agenda", "--stale-days", "1")
        index = db.for_repo(repo)
        assert index is not None
        head, days, rows = index.touches()
        seen.append(rows)
        assert head == book.git("rev-parse", "HEAD").strip()
        assert days == touches._days(repo, head)  # the whole history, read again
        monkeypatch.setenv("OPP_NO_INDEX", "1")
        assert book.json("agenda", "--stale-days", "1") == indexed
        monkeypatch.delenv("OPP_NO_INDEX")
    assert seen == [1, 2, 0, 1]


def test_head_is_read_from_gits_own_files_or_left_to_git(tmp_path):
    from oppcli.store.git import head_commit

    def git(*args, cwd=tmp_path / "r"):
        return subprocess.run(["git", "-c", "user.name=x", "-c", "user.email=x@x", *args],
                              cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()

    (tmp_path / "r").mkdir()
    git("init", "-q")
    dot_git = tmp_path / "r" / ".git"
    assert head_commit(dot_git) is None  # no commit yet: git says so
    git("commit", "-q", "--allow-empty", "-m", "one")
    assert head_commit(dot_git) == git("rev-parse", "HEAD")  # a loose ref
    git("pack-refs", "--all")
    assert not any((dot_git / "refs" / "heads").iterdir())
    assert head_commit(dot_git) == git("rev-parse", "HEAD")  # packed
    git("commit", "-q", "--allow-empty", "-m", "two")
    git("checkout", "-q", "--detach", "HEAD~1")
    assert head_commit(dot_git) == git("rev-parse", "HEAD")  # detached
    git("worktree", "add", "-q", str(tmp_path / "w"), "HEAD")
    linked = git("rev-parse", "--absolute-git-dir", cwd=tmp_path / "w")
    assert head_commit(Path(linked)) is None  # its refs live elsewhere: ask git


def test_a_row_of_days_goes_only_onto_the_row_it_was_read_from(book, monkeypatch):
    """Two agendas at once, on two histories: the one that ends last leaves its row out
    when the other's came in between, so the rows always hold one history's days."""
    from oppcli.read import touches
    from oppcli.read.index import db
    from oppcli.store.repo import Repo

    on(monkeypatch, TODAY)
    repo = Repo(book.root)
    book.json("agenda")
    base = book.git("rev-parse", "HEAD").strip()
    book.git("checkout", "-q", "-b", "y")
    book("note", book.ids["S30"], "On y")
    slow = touches.start(repo)  # reads the days up to base, then the commits since
    book.git("checkout", "-q", "-b", "x", base)
    book("note", book.ids["OLD"], "On x")
    book.json("agenda")  # meanwhile: a row up to x
    slow.result()  # its row (base..y) would fold y's days into x's: left out
    index = db.for_repo(repo)
    assert index is not None
    head, days, _ = index.touches()
    assert head == book.git("rev-parse", "x").strip()
    assert days == touches._days(repo, head)
    book.git("checkout", "-q", "y")
    indexed = book.json("agenda", "--stale-days", "1")
    monkeypatch.setenv("OPP_NO_INDEX", "1")
    assert book.json("agenda", "--stale-days", "1") == indexed


def test_days_read_under_one_view_of_the_history_are_not_taken_for_another(book, tmp_path,
                                                                          monkeypatch):
    """The days are of a commit as git shows its history: a shallow clone deepened, or
    a graft added, at the same HEAD, reads the history again."""
    import sys

    on(monkeypatch, TODAY)

    def agenda(root: Path, **env: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "oppcli", "--repo", str(root), "agenda", "--format", "json",
             "--stale-days", "1"], capture_output=True, text=True, check=True,
            env={**os.environ, **env}).stdout

    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth=1", f"file://{book.root}", str(shallow)],
                   check=True)
    agenda(shallow)  # the days as the shallow clone shows them: every file at its one commit
    subprocess.run(["git", "-C", str(shallow), "fetch", "-q", "--unshallow"], check=True)
    assert agenda(shallow) == agenda(shallow, OPP_NO_INDEX="1")
    agenda(book.root)
    book.git("-c", "user.name=x", "-c", "user.email=x@x", "replace", "--graft", "HEAD")
    assert agenda(book.root) == agenda(book.root, OPP_NO_INDEX="1")  # HEAD a root now
    book.git("replace", "-d", book.git("rev-parse", "HEAD").strip())
    assert agenda(book.root) == agenda(book.root, OPP_NO_INDEX="1")


def test_a_loose_commits_parents_are_read_from_its_file_or_left_to_git(tmp_path):
    from oppcli.store.git import history_view, loose_parents

    def git(*args):
        return subprocess.run(["git", "-c", "user.name=x", "-c", "user.email=x@x", *args],
                              cwd=tmp_path, capture_output=True, text=True,
                              check=True).stdout.strip()

    def parents(commit):
        return git("rev-parse", f"{commit}^@").split()

    git("init", "-q")
    dot_git = tmp_path / ".git"
    git("commit", "-q", "--allow-empty", "-m", "root")
    assert loose_parents(dot_git, git("rev-parse", "HEAD")) == []
    git("commit", "-q", "--allow-empty", "-m", "one")
    one = git("rev-parse", "HEAD")
    assert loose_parents(dot_git, one) == parents(one) != []
    git("checkout", "-q", "-b", "side", "HEAD~1")
    git("commit", "-q", "--allow-empty", "-m", "side")
    git("merge", "-q", "--no-ff", "-m", "merge", one)
    merge = git("rev-parse", "HEAD")
    assert loose_parents(dot_git, merge) == parents(merge) and len(parents(merge)) == 2
    tree = git("rev-parse", "HEAD^{tree}")
    assert loose_parents(dot_git, tree) is None  # not a commit
    assert loose_parents(dot_git, "0" * 40) is None  # no such object
    loose = dot_git / "objects" / merge[:2] / merge[2:]
    data = loose.read_bytes()
    loose.chmod(0o644)
    loose.write_bytes(data[:len(data) // 2])
    assert loose_parents(dot_git, merge) is None  # damaged: only the whole object vouches
    loose.write_bytes(data)
    # where git sees other parents than the object holds: git is asked, and the view
    # of the history (what the days are of, besides HEAD) tells them apart
    assert history_view(dot_git) == ""
    views = set()
    for rewritten in ("shallow", "info/grafts"):
        (dot_git / rewritten).write_text(f"{merge}\n")
        assert loose_parents(dot_git, merge) is None
        views.add(history_view(dot_git))
        assert history_view(dot_git) in views  # the same view, the same value
        (dot_git / rewritten).unlink()
    git("replace", "--graft", merge, one)
    assert loose_parents(dot_git, merge) is None  # a replace ref
    views.add(history_view(dot_git))
    git("pack-refs", "--all")
    assert loose_parents(dot_git, merge) is None  # a packed replace ref
    views.add(history_view(dot_git))
    assert len(views) == 4 and "" not in views
    git("replace", "-d", merge)
    assert loose_parents(dot_git, merge) == parents(merge)
    assert history_view(dot_git) == ""
    (dot_git / "reftable").mkdir()  # replace refs this cannot read: never the same view
    assert history_view(dot_git) != history_view(dot_git)
    (dot_git / "reftable").rmdir()
    git("gc", "-q")
    assert loose_parents(dot_git, merge) is None  # packed: git is asked


def test_agenda_and_calendar_are_reports_in_the_help(book):
    out = book("--help").stdout
    reports = out.split("Reports:")[1].split("Data and team:")[0]
    assert "agenda" in reports and "calendar" in reports
    assert book("agenda", "--format", "text").stdout == book("agenda").stdout


def test_the_collector_is_off_while_the_agenda_is_made(monkeypatch):
    """On again afterwards inside another program (the tests); left off in the console
    script, which leaves at once: its first pass would only cost time."""
    import gc

    from oppcli.cli import agenda, app

    assert gc.isenabled()
    with agenda.no_collection():
        assert not gc.isenabled()
    assert gc.isenabled()
    monkeypatch.setattr(app, "leaves_at_once", True)
    try:
        with agenda.no_collection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
