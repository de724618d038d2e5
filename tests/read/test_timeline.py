"""``opp timeline`` (R20) and ``opp undo`` end to end, with commits placed in time."""

import subprocess
import time

import pytest

from oppcli.domain import versions
from oppcli.read import timeline as tl


@pytest.fixture
def rome(monkeypatch):
    """A fixed local time zone: activities sit at local midnight."""
    monkeypatch.setenv("TZ", "Europe/Rome")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def at(day: str, clock: str = "10:00:00", user: str = "Alice Martin") -> dict:
    """The environment of a command run on 2026-<day> at <clock> (+01:00) by <user>."""
    moment = f"2026-{day}T{clock}+01:00"
    return {"GIT_AUTHOR_DATE": moment, "GIT_COMMITTER_DATE": moment, "OPP_NOW": moment,
            "OPP_TODAY": f"2026-{day}", "OPP_USER": user}


def hand_commit(crm, message: str, *args: str) -> None:
    crm.git("-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-q",
            *args, "-m", message)


def sha(crm, rev: str = "HEAD") -> str:
    return crm.git("rev-parse", rev).strip()


def strip(entries):
    """Entries without the commit ids (checked separately)."""
    return [{k: v for k, v in e.items() if k != "commit"} for e in entries]


# ---------------------------------------------------------------- a scripted story


def test_timeline_tells_the_story_field_by_field(crm, rome):
    bob = dict(user="Bob Stone")
    opp_id = crm.new("Acme renewal", "--objective", "5000", "--close-date", "2026-06-30",
                     env=at("03-02"))
    crm("add-product", opp_id, "SRV-01", "--qty", "2", env=at("03-03"))
    line = crm.json("show", opp_id)["products"][0]["id"]
    crm("contact", "add", opp_id, "Jane Doe", "--role", "buyer", env=at("03-04", "09:00:00", **bob))
    call = crm("activity", "add", opp_id, "--type", "call", "--subject", "Discovery", "--done",
               env=at("03-05")).stdout.strip()
    call_commit = sha(crm)
    demo = crm("activity", "add", opp_id, "--type", "meeting", "--subject", "Demo",
               "--date", "2026-03-20", env=at("03-05", "10:30:00")).stdout.strip()
    demo_commit = sha(crm)
    crm("note", opp_id, "Asked for a discount", env=at("03-06", "12:00:00", **bob))
    note_commit = sha(crm)
    note = crm.json("note", "list", opp_id)[0]["id"]
    crm("update-product", opp_id, "SRV-01", "--qty", "3", env=at("03-09"))
    crm("set", opp_id, "objective", "6000", env=at("03-10"))
    crm("stage", opp_id, "proposal", env=at("03-11"))
    temp = crm("note", opp_id, "temp", env=at("03-12")).stdout.strip()
    crm("note", "remove", opp_id, temp, env=at("03-13"))
    crm("close", opp_id, "--lost", "--reason", "price", env=at("03-16"))
    close_commit = sha(crm)
    crm("undo", env=at("03-17"))
    crm("activity", "done", opp_id, demo, env=at("03-20"))

    entries = crm.json("timeline", opp_id)
    p = f"{opp_id} Acme renewal: "
    alice = "Alice Martin"
    assert strip(entries) == [
        {"at": "2026-03-02T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "new opportunity for Acme Corp", "action": "new", "changes": [
             {"field": "name", "old": None, "new": "Acme renewal"},
             {"field": "customer", "old": None, "new": "Acme Corp"},
             {"field": "stage", "old": None, "new": "prospecting"},
             {"field": "amount", "old": None, "new": "0.00"},
             {"field": "objective", "old": None, "new": "5000.00"},
             {"field": "currency", "old": None, "new": "EUR"},
             {"field": "close_date", "old": None, "new": "2026-06-30"},
             {"field": "owner", "old": None, "new": alice}]},
        {"at": "2026-03-03T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "add product SRV-01 x2", "action": "add-product", "changes": [
             {"field": "amount", "old": "0.00", "new": "2400.00"},
             {"field": "amount_source", "old": "manual", "new": "products"},
             {"field": "products", "old": None,
              "new": "SRV-01 Support plan x2 at 1200.00 = 2400.00", "item": line,
              "label": "SRV-01"}]},
        {"at": "2026-03-04T09:00:00+01:00", "author": "Bob Stone", "kind": "change",
         "summary": p + "add contact Jane Doe (buyer)", "action": "contact-add", "changes": [
             {"field": "contacts", "old": None, "new": "Jane Doe (buyer)",
              "item": crm.json("contact", "list", opp_id)[0]["id"], "label": "Jane Doe"}]},
        {"at": "2026-03-05T00:00:00+01:00", "author": alice, "kind": "activity",
         "summary": "call: Discovery (done)", "changes": [], "item": call, "type": "call",
         "subject": "Discovery", "date": "2026-03-05", "done": True, "notes": None},
        {"at": "2026-03-06T12:00:00+01:00", "author": "Bob Stone", "kind": "note",
         "summary": "Asked for a discount", "changes": [], "item": note,
         "text": "Asked for a discount"},
        {"at": "2026-03-09T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "update product SRV-01 x3", "action": "update-product", "changes": [
             {"field": "amount", "old": "2400.00", "new": "3600.00"},
             {"field": "products.quantity", "old": "2", "new": "3", "item": line,
              "label": "SRV-01"},
             {"field": "products.total", "old": "2400.00", "new": "3600.00", "item": line,
              "label": "SRV-01"}]},
        {"at": "2026-03-10T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "set objective 5000.00 -> 6000.00", "action": "set", "changes": [
             {"field": "objective", "old": "5000.00", "new": "6000.00"}]},
        {"at": "2026-03-11T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "stage prospecting -> proposal", "action": "stage", "changes": [
             {"field": "stage", "old": "prospecting", "new": "proposal"}]},
        {"at": "2026-03-12T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "note \"temp\"", "action": "note", "changes": [
             {"field": "notes", "old": None, "new": f"{alice}: \"temp\"", "item": temp,
              "label": "temp"}]},
        {"at": "2026-03-13T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "remove note \"temp\"", "action": "note-remove", "changes": [
             {"field": "notes", "old": f"{alice}: \"temp\"", "new": None, "item": temp,
              "label": "temp"}]},
        {"at": "2026-03-16T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "close lost: stage proposal -> closed-lost, closed 2026-03-16 (price)",
         "action": "close", "changes": [
             {"field": "stage", "old": "proposal", "new": "closed-lost"},
             {"field": "close_date", "old": "2026-06-30", "new": "2026-03-16"},
             {"field": "lost_reason", "old": None, "new": "price"}]},
        {"at": "2026-03-17T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "undo close lost: stage proposal -> closed-lost, closed 2026-03-16 "
                        "(price)",
         "action": "undo", "changes": [
             {"field": "stage", "old": "closed-lost", "new": "proposal"},
             {"field": "close_date", "old": "2026-03-16", "new": "2026-06-30"},
             {"field": "lost_reason", "old": "price", "new": None}]},
        {"at": "2026-03-20T00:00:00+01:00", "author": alice, "kind": "activity",
         "summary": "meeting: Demo (done)", "changes": [], "item": demo, "type": "meeting",
         "subject": "Demo", "date": "2026-03-20", "done": True, "notes": None},
        {"at": "2026-03-20T10:00:00+01:00", "author": alice, "kind": "change",
         "summary": p + "activity done: meeting \"Demo\" on 2026-03-20",
         "action": "activity-done", "changes": [
             {"field": "activities.done", "old": "false", "new": "true", "item": demo,
              "label": "Demo"}]},
    ]
    by_item = {e.get("item"): e for e in entries if e["kind"] != "change"}
    assert by_item[call]["commit"] == call_commit
    assert by_item[demo]["commit"] == demo_commit
    assert by_item[note]["commit"] == note_commit
    assert [e["commit"] for e in entries if e.get("action") == "close"] == [close_commit]

    text = crm("timeline", opp_id[:4]).stdout.splitlines()
    assert text[0] == "2026-03-02 10:00  Alice Martin: new opportunity for Acme Corp"
    assert "      objective: 5000.00" in text
    assert "      + product SRV-01 Support plan x2 at 1200.00 = 2400.00" in text
    assert "      product SRV-01: quantity 2 → 3" in text
    assert "2026-03-05        activity (Alice Martin): call: Discovery (done)" in text
    assert "2026-03-06 12:00  note by Bob Stone:" in text
    assert "      Asked for a discount" in text
    assert "      stage: prospecting → proposal" in text
    assert "      - note Alice Martin: \"temp\"" in text
    assert "      lost reason: - → price" in text
    assert "2026-03-17 10:00  Alice Martin: undo close lost: stage proposal -> closed-lost, " \
           "closed 2026-03-16 (price)" in text
    assert "      activity Demo: done false → true" in text


def test_a_note_removed_and_restored_keeps_its_story(crm):
    opp_id = crm.new("Deal", env=at("02-01"))
    note = crm("note", opp_id, "hello", env=at("02-02")).stdout.strip()
    crm("note", "remove", opp_id, note, env=at("02-03"))
    crm("undo", env=at("02-04"))
    entries = crm.json("timeline", opp_id)
    assert [(e["at"][:10], e["kind"], [(c["field"], c["old"] is None) for c in e["changes"]])
            for e in entries[1:]] == [
        ("2026-02-02", "change", [("notes", True)]),
        ("2026-02-02", "note", []),
        ("2026-02-03", "change", [("notes", False)]),
        ("2026-02-04", "change", [("notes", True)])]
    assert entries[2]["commit"] is None and entries[4]["action"] == "undo"


def test_timeline_follows_a_renamed_file(crm):
    old = crm.new("Acme renewal", env=at("01-05"))
    crm("stage", old, "qualification", env=at("01-06"))
    new = ("yy" if old.startswith("zz") else "zz") + old[2:]  # ids are random: zz… happens
    crm.git("mv", f"opportunities/{old}.yaml", f"opportunities/{new}.yaml")
    path = crm.file(new)
    path.write_text(path.read_text().replace(f"id: {old}", f"id: {new}"))
    crm.git("add", "-A")
    hand_commit(crm, f"rename {old} to {new}", "--date=2026-01-07T10:00:00+01:00")
    crm("stage", new, "proposal", env=at("01-08"))
    entries = crm.json("timeline", new)
    assert [e["summary"] for e in entries] == [
        f"{old} Acme renewal: new opportunity for Acme Corp",
        f"{old} Acme renewal: stage prospecting -> qualification",
        f"rename {old} to {new}",
        f"{new} Acme renewal: stage qualification -> proposal"]
    assert entries[2]["author"] == "Hand" and entries[2]["action"] is None
    assert entries[2]["changes"] == [{"field": "id", "old": old, "new": new}]
    assert entries[1]["changes"] == [{"field": "stage", "old": "prospecting",
                                      "new": "qualification"}]
    assert "stage: prospecting → qualification" in crm("timeline", new).stdout


def test_each_deal_s_story_starts_with_its_own_creation(crm):
    """git log --follow takes a new file for a copy of a similar one that stays (C078):
    a deal created after a similar deal still begins its timeline at its own creation,
    never with the other deal's story."""
    ids = [crm.new(name, "--amount", "2000", "--close-date", "2027-02-28", env=at(day))
           for name, day in (("Acme renewal", "01-05"), ("Globex pilot", "01-06"),
                             ("Initech", "01-07"))]
    crm("stage", ids[0], "qualification", env=at("01-08"))
    crm("stage", ids[2], "proposal", env=at("01-09"))
    for opp_id, name in zip(ids, ("Acme renewal", "Globex pilot", "Initech")):
        entries = crm.json("timeline", opp_id)
        assert entries[0]["summary"].endswith(f"{name}: new opportunity for Acme Corp")
        assert entries[0]["commit"] == crm.git("log", "--diff-filter=A", "--format=%H", "--",
                                               f"opportunities/{opp_id}.yaml").strip()
        assert all(c["old"] is None for c in entries[0]["changes"])
        assert len(entries) == (1 if opp_id == ids[1] else 2)
    assert "→" not in crm("timeline", ids[1]).stdout


def test_a_value_set_from_none_reads_as_a_change_not_a_creation(crm):
    opp_id = crm.new("Deal", env=at("01-05"))
    crm("set", opp_id, "objective", "500", env=at("01-06"))
    crm("set", opp_id, "objective", "none", env=at("01-07"))
    text = crm("timeline", opp_id).stdout
    assert "      name: Deal\n" in text  # the creation lists its values
    assert "objective: - → 500.00" in text and "objective: 500.00 → -" in text


def test_timeline_runs_a_fixed_number_of_git_processes(crm, monkeypatch):
    opp_id = crm.new("Deal")
    for qty in range(1, 13):
        crm("add-product", opp_id, "LIC-10", "--qty", qty)
        crm("note", opp_id, f"note {qty}")
    calls = []
    real_run = subprocess.run

    def counting(args, *a, **kw):
        calls.append(args)
        return real_run(args, *a, **kw)

    monkeypatch.setattr(subprocess, "run", counting)
    entries = crm.json("timeline", opp_id)
    assert len([e for e in entries if e["kind"] == "note"]) == 12
    assert len([e for e in entries if e["kind"] == "change"]) == 13
    assert len([c for c in calls if c[0] == "git"]) <= 3


def test_timeline_of_merged_branches_lists_each_side_once(crm):
    opp_id = crm.new("Deal", "--objective", "100", env=at("02-01"))
    crm.git("checkout", "-q", "-b", "side")
    crm("set", opp_id, "owner", "bob", env=at("02-02"))
    crm.git("checkout", "-q", "-")
    crm("stage", opp_id, "proposal", env=at("02-03"))
    crm.git("-c", "user.name=Hand", "-c", "user.email=h@example.com", "merge", "-q",
            "--no-edit", "side")
    entries = crm.json("timeline", opp_id)
    assert [(e["action"], e["changes"]) for e in entries[1:]] == [
        ("set", [{"field": "owner", "old": "Alice Martin", "new": "bob"}]),
        ("stage", [{"field": "stage", "old": "prospecting", "new": "proposal"}])]
    r = crm("undo", code=1)
    assert "is a merge" in r.stderr


def test_timeline_lists_what_a_merge_decided(crm):
    opp_id = crm.new("Deal", "--objective", "100", env=at("02-01"))
    crm.git("checkout", "-q", "-b", "side")
    crm("set", opp_id, "objective", "200", env=at("02-02"))
    crm.git("checkout", "-q", "-")
    crm("set", opp_id, "objective", "300", env=at("02-03"))
    merge = subprocess.run(["git", "-c", "user.name=H", "-c", "user.email=h@e.com", "merge",
                            "-q", "side"], cwd=crm.root, capture_output=True, text=True)
    assert merge.returncode != 0  # both changed the objective: a conflict
    text = crm.file(opp_id).read_text()
    assert "<<<<<<<" not in text  # the merge driver keeps ours, without markers
    crm.file(opp_id).write_text(text.replace("objective: 300.00", "objective: 250.00"))
    crm.git("add", "-A")
    hand_commit(crm, "merge side: objective agreed at 250")
    entries = crm.json("timeline", opp_id)
    assert entries[-1]["summary"] == "merge side: objective agreed at 250"
    assert entries[-1]["changes"] == [{"field": "objective", "old": "300.00", "new": "250.00"}]


def test_timeline_survives_a_broken_version(crm):
    opp_id = crm.new("Deal", env=at("02-01"))
    good = crm.file(opp_id).read_text()
    crm.file(opp_id).write_text("name: [unclosed\n")
    hand_commit(crm, "oops", "-a")
    crm.file(opp_id).write_text(good.replace("name: Deal", "name: Deal 2"))
    hand_commit(crm, "fixed", "-a")
    entries = crm.json("timeline", opp_id)
    assert entries[1]["changes"][0]["field"] == "file"
    assert entries[1]["changes"][0]["old"] == "readable"
    assert entries[1]["changes"][0]["new"].startswith("unreadable (")
    assert entries[2]["changes"][0]["new"] == "readable"


def test_timeline_of_a_file_invalid_now_is_its_history(crm):
    """Looking back is what one does when a file broke: the story is in git, with the
    activities and notes of the last valid version, and a note says so."""
    opp_id = crm.new("Deal", env=at("02-01"))
    crm("note", opp_id, "call back", env=at("02-02"))
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("amount: 0.00", "amount: 5.00") + "x: [\n")
    r = crm("timeline", opp_id)
    assert f"opportunities/{opp_id}.yaml:" in r.stderr and "activities and notes are shown " \
        "as its last valid commit has them" in r.stderr
    entries = crm.json("timeline", opp_id)
    assert [e["kind"] for e in entries] == ["change", "note"]
    assert entries[1]["text"] == "call back"
    path.write_text(path.read_text().replace("x: [\n", ""))  # parses, breaks no model rule
    hand_commit(crm, "hand", "-a")
    assert [e["kind"] for e in crm.json("timeline", opp_id)] == ["change", "note", "change"]


def test_timeline_refusals(crm, unchanged):
    with unchanged:
        r = crm("timeline", "nosuch", code=1)
    assert "no opportunity 'nosuch'" in r.stderr
    opp_id = crm.new("Deal")
    with unchanged:
        crm("timeline", opp_id, "--format", "yaml", code=2)


def test_diff_describes_panels_and_nested_quote_lines():
    old = {"id": "a", "quotes": [{"id": "q1", "status": "draft", "total": 10,
                                  "lines": [{"id": "l1", "sku": "X", "description": "X",
                                             "quantity": 1, "unit_price": 10, "total": 10}]}]}
    new = {"id": "a", "quotes": [{"id": "q1", "status": "sent", "total": 10,
                                  "lines": [{"id": "l2", "sku": None, "description": "Setup",
                                             "quantity": 1, "unit_price": 10, "total": 10}]}]}
    assert versions.diff(old, new) == [
        {"field": "quotes.status", "old": "draft", "new": "sent", "item": "q1",
         "label": "quote q1"},
        {"field": "quotes.lines", "old": "X x1 at 10 = 10", "new": None, "item": "l1",
         "label": "quote q1 X"},
        {"field": "quotes.lines", "old": None, "new": "Setup x1 at 10 = 10", "item": "l2",
         "label": "quote q1 Setup"}]
    assert versions.diff({"x": 1}, {"x": 2, "y": [1, 2]}) == [
        {"field": "x", "old": "1", "new": "2"}, {"field": "y", "old": None, "new": "[1, 2]"}]


# ---------------------------------------------------------------- undo


def test_undo_restores_the_previous_state_exactly(crm):
    opp_id = crm.new("Acme renewal", "--amount", "999")
    before_bytes = crm.file(opp_id).read_bytes()
    before_json = crm.json("show", opp_id)
    crm("add-product", opp_id, "SRV-01", "--qty", "2")
    added = sha(crm)
    after_bytes = crm.file(opp_id).read_bytes()
    commits = crm.commits()
    r = crm("undo")
    assert crm.commits() == commits + 1 and crm.status() == ""
    assert crm.file(opp_id).read_bytes() == before_bytes
    assert crm.json("show", opp_id) == before_json
    assert crm.git("log", "-1", "--format=%s").strip() == \
        f"{opp_id} Acme renewal: undo add product SRV-01 x2"
    body = crm.git("log", "-1", "--format=%b")
    assert "Opp-Action: undo" in body and f"Opp-Reverts: {added}" in body
    assert f"Opp-Id: {opp_id}" in body
    assert "undo add product SRV-01 x2" in r.stderr and added[:8] in r.stderr
    # redo re-applies the change
    crm("redo")
    assert crm.file(opp_id).read_bytes() == after_bytes
    assert crm.git("log", "-1", "--format=%s").strip() == \
        f"{opp_id} Acme renewal: redo add product SRV-01 x2"
    assert crm.json("show", opp_id)["amount"] == "2400.00"


def test_undo_of_new_and_of_a_document(crm, tmp_path):
    opp_id = crm.new("Deal")
    (tmp_path / "a.pdf").write_bytes(b"pdf")
    crm("doc", "attach", opp_id, tmp_path / "a.pdf")
    [doc] = crm.json("doc", "list", opp_id)
    crm("undo")
    assert not (crm.root / doc["path"]).exists()
    assert crm.json("doc", "list", opp_id) == [] and crm.status() == ""
    crm("redo")  # the file is back, byte for byte
    assert (crm.root / doc["path"]).read_bytes() == b"pdf"
    crm("undo")
    crm("redo")
    crm("doc", "remove", opp_id, doc["id"])
    crm("undo")
    assert (crm.root / doc["path"]).read_bytes() == b"pdf"

    other = crm.new("Gone soon")
    crm("undo")
    assert not crm.file(other).exists()
    crm("show", other, code=1)
    assert crm.git("log", "-1", "--format=%s").strip() == \
        f"{other} Gone soon: undo new opportunity for Acme Corp"


def test_undo_refuses_a_commit_not_made_by_opp(crm, unchanged):
    opp_id = crm.new("Deal")
    (crm.root / "README.txt").write_text("hello")
    crm.git("add", "README.txt")
    hand_commit(crm, "a hand commit")
    with unchanged:
        r = crm("undo", code=1)
    assert "was not made by opp" in r.stderr and "a hand commit" in r.stderr
    assert "git revert" in r.stderr
    assert crm.json("show", opp_id)["name"] == "Deal"


def test_undo_refuses_uncommitted_edits_of_the_files_involved(crm):
    opp_id = crm.new("Deal")
    crm("set", opp_id, "name", "Deal 2")
    head = sha(crm)
    crm.file(opp_id).write_text(crm.file(opp_id).read_text() + "# hand edit\n")
    r = crm("undo", code=1)
    assert f"opportunities/{opp_id}.yaml has uncommitted changes" in r.stderr
    assert sha(crm) == head and crm.file(opp_id).read_text().endswith("# hand edit\n")


def test_undo_refuses_when_only_the_repo_was_created(tmp_path, monkeypatch):
    from conftest import Opp

    monkeypatch.chdir(tmp_path)
    opp = Opp(tmp_path / "fresh")
    opp("init", "fresh")
    monkeypatch.chdir(tmp_path / "fresh")
    r = opp("undo", code=1)
    assert "nothing to undo" in r.stderr
    assert opp.commits() == 1


def test_undo_of_a_catalog_change(crm):
    crm("catalog", "add", "NEW-1", "--name", "New", "--price", "1")
    crm("undo")
    assert "NEW-1" not in crm("catalog", "list").stdout
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert subject.startswith("undo: catalog: add NEW-1")


def test_parse_log_reads_renames_and_merges():
    z = "\0"
    text = ("\x1ec2\x1fA\x1fa@x\x1f2026-01-02T10:00:00+01:00\x1fmerge\x1f" + z + z
            + "::100644 100644 100644 " + " ".join(["b1" * 20, "b2" * 20, "b3" * 20])
            + " MM" + z + "f.yaml" + z
            + "\x1ec1\x1fA\x1fa@x\x1f2026-01-01T10:00:00+01:00\x1fmv\x1fnew" + z + "\n"
            + ":100644 100644 " + "b0" * 20 + " " + "b1" * 20 + " R090" + z + "a.yaml" + z
            + "f.yaml" + z
            + "\x1ec0\x1fA\x1fa@x\x1f2026-01-01T09:00:00+01:00\x1fnew\x1fnew" + z + "\n"
            + ":000000 100644 " + "0" * 40 + " " + "b0" * 20 + " A" + z + "a.yaml" + z)
    records = tl.parse_log(text)
    assert [(r["commit"], r["before"], r["after"], r["action"]) for r in records] == [
        ("c2", ["b1" * 20, "b2" * 20], "b3" * 20, None),
        ("c1", ["b0" * 20], "b1" * 20, "new"),
        ("c0", [None], "b0" * 20, "new")]
