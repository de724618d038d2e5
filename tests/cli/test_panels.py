"""The panels end to end: contacts, partners, competitors, activities, documents, notes.

Each change is one commit; each refusal changes nothing (the ``unchanged`` guard).
"""

import hashlib
import json
import os
import re
from datetime import datetime

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from oppcli.domain import panels
from oppcli.domain.ids import ALPHABET
from oppcli.domain.model import Document, Opportunity
from oppcli.domain.settings import Settings
from oppcli.errors import NotFound, RuleError, UsageError

# an item reference no item id can start with: item ids are random, and 'u' is not in
# their alphabet ("zz" was the first two letters of one id in 1,024)
NO_ITEM = "uu"
assert "u" not in ALPHABET


@pytest.fixture
def deal(crm):
    """An open opportunity."""
    return crm.new("Acme renewal", "--close-date", "2026-12-31")


def subject(crm) -> str:
    return crm.git("log", "-1", "--format=%s").strip()


def trailer(crm, key: str) -> str:
    return crm.git("log", "-1", f"--format=%(trailers:key={key},valueonly)").strip()


def item_id(result) -> str:
    out = result.stdout.strip()
    assert result.stdout == out + "\n" and len(out) == 6 and set(out) <= set(ALPHABET)
    return out


def hand_commit(crm, message: str) -> None:
    """A commit made with git, not opp (tests have no git identity)."""
    crm.git("-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-qam",
            message)


def close(crm, opp_id):
    crm("close", opp_id, "--lost", "--reason", "price", env={"OPP_TODAY": "2026-11-02"})


# ---------------------------------------------------------------- contacts


def test_contact_add_list_edit_remove(crm, deal):
    before = crm.commits()
    jane = item_id(crm("contact", "add", deal, "Jane Doe", "--role", "Decision-Maker",
                       "--email", "jane@acme.example", "--phone", "+39 02 1234"))
    assert crm.commits() == before + 1 and crm.status() == ""
    assert subject(crm) == f"{deal} Acme renewal: add contact Jane Doe (decision-maker)"
    assert trailer(crm, "Opp-Action") == "contact-add" and trailer(crm, "Opp-Id") == deal
    [person] = crm.json("account", "show", "acme corp")["people"]  # the customer's (#20)
    assert crm.json("contact", "list", deal) == [
        {"id": jane, "name": "Jane Doe", "role": "decision-maker", "email": "jane@acme.example",
         "phone": "+39 02 1234", "person_id": person["id"]}]
    assert crm.json("show", deal)["contacts"] == crm.json("contact", "list", deal)
    table = crm("contact", "list", deal).stdout
    assert "Jane Doe" in table and "decision-maker" in table and jane in table
    csv = crm("contact", "list", deal, "--format", "csv").stdout
    assert csv.splitlines()[0] == "id,name,role,email,phone"

    crm("contact", "edit", deal, jane[:3], "--role", "buyer", "--phone", "none")
    assert crm.commits() == before + 2
    assert subject(crm) == (f"{deal} Acme renewal: edit contact Jane Doe (decision-maker): "
                            "role decision-maker -> buyer, phone +39 02 1234 -> none")
    [contact] = crm.json("contact", "list", deal)
    assert contact["role"] == "buyer" and contact["phone"] is None and contact["id"] == jane

    crm("contact", "remove", deal, jane)
    assert crm.commits() == before + 3 and crm.status() == ""
    assert subject(crm) == f"{deal} Acme renewal: remove contact Jane Doe (buyer)"
    assert crm.json("contact", "list", deal) == []
    assert "has no contacts" in crm("contact", "list", deal).stderr


def test_item_ids_are_unique_and_stable(crm, deal):
    ids = [item_id(crm("contact", "add", deal, f"Person {i}", "--role", "user"))
           for i in range(5)]
    assert len(set(ids)) == 5
    crm("contact", "remove", deal, ids[2])
    assert [c["id"] for c in crm.json("contact", "list", deal)] == ids[:2] + ids[3:]


def test_unknown_role_is_refused_with_the_valid_list(crm, deal, unchanged):
    with unchanged:
        r = crm("contact", "add", deal, "Jane", "--role", "decison-maker", code=1)
    assert "unknown contact role 'decison-maker' (did you mean 'decision-maker'?)" in r.stderr
    assert "decision-maker, influencer, user, technical, buyer, other" in r.stderr
    assert "roles.contacts" in r.stderr
    with unchanged:
        r = crm("partner", "add", deal, "Globex", "--role", "friend", code=1)
    assert "reseller, supplier, integrator, consultant, other" in r.stderr
    with unchanged:
        r = crm("competitor", "add", deal, "Initech", "--role", "enemy", code=1)
    assert "incumbent, challenger, other" in r.stderr


def test_roles_come_from_opp_yaml(crm, deal):
    settings = yaml.safe_load((crm.root / "opp.yaml").read_text())
    settings["roles"]["contacts"] = ["sponsor", "champion"]
    (crm.root / "opp.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    hand_commit(crm, "custom roles")
    crm("contact", "add", deal, "Jane", "--role", "Champion")
    assert crm.json("contact", "list", deal)[0]["role"] == "champion"
    r = crm("contact", "add", deal, "Joe", "--role", "buyer", code=1)
    assert "valid ones: sponsor, champion" in r.stderr


def test_contact_refusals(crm, deal, unchanged):
    jane = item_id(crm("contact", "add", deal, "Jane Doe", "--role", "buyer"))
    with unchanged:
        r = crm("contact", "add", deal, "jane doe", "--role", "buyer", code=1)
    assert f"already has contact Jane Doe (buyer) [{jane}]" in r.stderr
    with unchanged:
        r = crm("contact", "add", deal, "Joe", "--role", "buyer", "--email", "joe", code=2)
    assert "'joe' is not an e-mail address" in r.stderr
    with unchanged:
        crm("contact", "add", deal, "Joe", code=2)  # --role is required
    with unchanged:
        crm("contact", "add", deal, "  ", "--role", "buyer", code=2)
    with unchanged:
        r = crm("contact", "edit", deal, jane, code=2)
    assert "nothing to change" in r.stderr
    with unchanged:
        r = crm("contact", "edit", deal, jane, "--name", "none", code=2)
    assert "contact name" in r.stderr
    with unchanged:
        r = crm("contact", "remove", deal, "zzzzzz", code=1)
    assert f"no contact 'zzzzzz' on {deal}; it has: {jane} Jane Doe (buyer)" in r.stderr
    with unchanged:
        r = crm("contact", "remove", "nosuchid", jane, code=1)
    assert "no opportunity 'nosuchid'" in r.stderr


def test_an_ambiguous_item_prefix_is_refused(crm, deal, unchanged):
    data = yaml.safe_load(crm.file(deal).read_text())
    data["contacts"] = [{"id": "ab1234", "name": "A", "role": "user"},
                        {"id": "ab5678", "name": "B", "role": "user"}]
    crm.file(deal).write_text(yaml.safe_dump(data, sort_keys=False))
    hand_commit(crm, "two contacts by hand")
    with unchanged:
        r = crm("contact", "remove", deal, "ab", code=2)
    assert "'ab' matches 2 contacts" in r.stderr and "ab1234" in r.stderr
    crm("contact", "remove", deal, "ab5")
    assert [c["id"] for c in crm.json("contact", "list", deal)] == ["ab1234"]


# ---------------------------------------------------------------- partners and competitors


def test_partners_and_competitors(crm, deal):
    globex = item_id(crm("partner", "add", deal, "Globex", "--role", "reseller"))
    assert subject(crm) == f"{deal} Acme renewal: add partner Globex (reseller)"
    crm("partner", "edit", deal, globex, "--role", "integrator", "--account", "Globex Ltd")
    [p] = crm.json("partner", "list", deal)  # Globex Ltd is Globex (#20)
    assert p == {"id": globex, "account": "Globex", "role": "integrator",
                 "account_id": p["account_id"]}
    crm("partner", "edit", deal, globex, "--account", "Globex Europe")
    [p] = crm.json("partner", "list", deal)
    assert p["account"] == "Globex Europe" and p["role"] == "integrator"
    assert subject(crm) == (f"{deal} Acme renewal: edit partner Globex (integrator): account "
                            "Globex -> Globex Europe")

    initech = item_id(crm("competitor", "add", deal, "Initech", "--products", "CRM Suite",
                          "--notes", "cheap\nbut slow"))
    [c] = crm.json("competitor", "list", deal)
    assert c == {"id": initech, "account": "Initech", "role": None, "products": "CRM Suite",
                 "notes": "cheap\nbut slow", "account_id": c["account_id"]}
    crm("competitor", "edit", deal, initech, "--role", "incumbent")
    crm("competitor", "edit", deal, initech, "--role", "none", "--notes", "none")
    [c] = crm.json("competitor", "list", deal)
    assert c["role"] is None and c["notes"] is None and c["products"] == "CRM Suite"
    crm("partner", "remove", deal, globex)
    crm("competitor", "remove", deal, initech)
    data = crm.json("show", deal)
    assert data["partners"] == [] and data["competitors"] == []
    crm("partner", "add", deal, "Globex", code=2)  # --role is required for partners


# ---------------------------------------------------------------- R17: closed opportunities


def test_relations_of_a_closed_opportunity_are_read_only(crm, deal, unchanged):
    jane = item_id(crm("contact", "add", deal, "Jane", "--role", "buyer"))
    globex = item_id(crm("partner", "add", deal, "Globex", "--role", "reseller"))
    close(crm, deal)
    for args in (("contact", "add", deal, "Joe", "--role", "user"),
                 ("contact", "edit", deal, jane, "--role", "user"),
                 ("contact", "remove", deal, jane),
                 ("partner", "add", deal, "Hooli", "--role", "supplier"),
                 ("partner", "remove", deal, globex),
                 ("competitor", "add", deal, "Initech")):
        with unchanged:
            r = crm(*args, code=1)
        assert f"opportunity {deal} is closed (lost on 2026-11-02)" in r.stderr
        assert f"opp reopen {deal}" in r.stderr


def test_activities_notes_documents_stay_open_on_a_closed_opportunity(crm, deal, tmp_path):
    close(crm, deal)
    before = crm.commits()
    a = item_id(crm("activity", "add", deal, "--type", "call", "--subject", "Debrief",
                    "--done", env={"OPP_TODAY": "2026-11-03"}))
    n = item_id(crm("note", deal, "Lost on price; retry next year"))
    (tmp_path / "post-mortem.txt").write_text("lessons")
    d = item_id(crm("doc", "attach", deal, tmp_path / "post-mortem.txt"))
    crm("activity", "edit", deal, a, "--subject", "Debrief call")
    crm("note", "edit", deal, n, "Lost on price")
    crm("doc", "edit", deal, d, "--title", "Post-mortem")
    crm("activity", "remove", deal, a)
    crm("note", "remove", deal, n)
    crm("doc", "remove", deal, d)
    assert crm.commits() == before + 9 and crm.status() == ""


# ---------------------------------------------------------------- activities


def test_activity_add_list_done_edit_remove(crm, deal):
    env = {"OPP_TODAY": "2026-11-02", "OPP_USER": "Dana Scully"}
    call = item_id(crm("activity", "add", deal, "--type", "CALL", "--subject", "Discovery call",
                       "--done", "--notes", "went well", env=env))
    assert subject(crm) == (f"{deal} Acme renewal: add activity call \"Discovery call\" "
                            "on 2026-11-02 (done)")
    assert trailer(crm, "Opp-Action") == "activity-add"
    demo = item_id(crm("activity", "add", deal, "--type", "meeting", "--subject", "Demo",
                       "--date", "2026-12-03", env=env))
    past = item_id(crm("activity", "add", deal, "--type", "task", "--subject", "Send offer",
                       "--date", "2026-10-30", env=env))
    listed = crm.json("activity", "list", deal)
    assert [a["id"] for a in listed] == [past, call, demo]  # by date
    assert listed[1] == {"id": call, "type": "call", "subject": "Discovery call",
                         "date": "2026-11-02", "done": True, "notes": "went well",
                         "author": "Dana Scully"}
    open_ = json.loads(crm("activity", "list", deal, "--open", "--format", "json").stdout)
    assert [a["id"] for a in open_] == [past, demo]
    text = crm("activity", "list", deal).stdout
    assert "to do" in text and "done" in text

    crm("activity", "done", deal, past, env=env)
    assert subject(crm) == (f"{deal} Acme renewal: activity done: task \"Send offer\" "
                            "on 2026-10-30")
    # a planned activity done early becomes done today
    crm("activity", "done", deal, demo, env=env)
    assert "(was planned 2026-12-03)" in subject(crm)
    done = {a["id"]: a for a in crm.json("activity", "list", deal)}
    assert done[demo]["done"] is True and done[demo]["date"] == "2026-11-02"
    assert "no activity to do" in crm("activity", "list", deal, "--open").stderr
    before = crm.commits()
    r = crm("activity", "done", deal, demo, env=env)  # already done: nothing to commit
    assert crm.commits() == before and "nothing to change" in r.stderr

    crm("activity", "edit", deal, demo, "--not-done", "--date", "2026-12-10",
        "--type", "visit", env=env)
    edited = {a["id"]: a for a in crm.json("activity", "list", deal)}[demo]
    assert (edited["type"], edited["date"], edited["done"]) == ("visit", "2026-12-10", False)
    crm("activity", "remove", deal, call)
    assert call not in {a["id"] for a in crm.json("activity", "list", deal)}


def test_activity_refusals(crm, deal, unchanged):
    env = {"OPP_TODAY": "2026-11-02"}
    with unchanged:
        r = crm("activity", "add", deal, "--type", "cal", "--subject", "x", code=1)
    assert "unknown activity type 'cal' (did you mean 'call'?)" in r.stderr
    assert "call, visit, meeting, email, task" in r.stderr
    for bad in ("2026-02-30", "31/12/2026", "next tuesday"):
        with unchanged:
            crm("activity", "add", deal, "--type", "call", "--subject", "x", "--date", bad,
                code=2)
    with unchanged:
        r = crm("activity", "add", deal, "--type", "call", "--subject", "x", "--date",
                "2026-11-03", "--done", code=2, env=env)
    assert "in the future and cannot be done yet" in r.stderr
    with unchanged:
        crm("activity", "add", deal, "--subject", "x", code=2)  # --type is required
    a = item_id(crm("activity", "add", deal, "--type", "call", "--subject", "x",
                    "--date", "2026-12-01", env=env))
    with unchanged:
        r = crm("activity", "done", deal, a, "--date", "2026-11-05", code=2, env=env)
    assert "in the future" in r.stderr
    with unchanged:
        r = crm("activity", "edit", deal, a, "--done", code=2, env=env)
    assert "in the future" in r.stderr
    with unchanged:
        r = crm("activity", "done", deal, NO_ITEM, code=1)
    assert f"no activity '{NO_ITEM}' on {deal}; it has: {a} call" in r.stderr


# ---------------------------------------------------------------- notes


def test_note_records_author_and_time(crm, deal):
    before = crm.commits()
    n = item_id(crm("note", deal, "Customer asked for a 10 % discount",
                    env={"OPP_USER": "Fox Mulder", "OPP_NOW": "2026-11-02T09:15:42.123+01:00"}))
    assert crm.commits() == before + 1
    assert subject(crm) == f"{deal} Acme renewal: note \"Customer asked for a 10 % discount\""
    assert trailer(crm, "Opp-Action") == "note"
    assert crm.json("note", "list", deal) == [
        {"id": n, "author": "Fox Mulder", "date": "2026-11-02T09:15:42+01:00",
         "text": "Customer asked for a 10 % discount"}]
    assert "date: 2026-11-02 09:15:42+01:00" in crm.file(deal).read_text()


def test_note_time_is_now_with_the_time_zone(crm, deal):
    crm("note", deal, "hello")
    [n] = crm.json("note", "list", deal)
    when = datetime.fromisoformat(n["date"])
    assert when.tzinfo is not None and when.microsecond == 0
    assert abs((datetime.now().astimezone() - when).total_seconds()) < 120


def test_note_commands(crm, deal, unchanged):
    a = item_id(crm("note", "add", deal, "first"))
    b = item_id(crm("note", deal, "-", input="line one\r\nline two\n"))
    notes = crm.json("note", "list", deal)
    assert [x["text"] for x in notes] == ["first", "line one\nline two"]
    assert "  line two" in crm("note", "list", deal).stdout
    crm("note", "edit", deal, a, "first, corrected")
    assert crm.json("note", "list", deal)[0]["text"] == "first, corrected"
    assert crm.json("note", "list", deal)[0]["date"] == notes[0]["date"]
    crm("note", "remove", deal, b)
    assert [x["id"] for x in crm.json("note", "list", deal)] == [a]
    with unchanged:
        crm("note", deal, "   ", code=2)
    with unchanged:
        crm("note", deal, "bell \x07", code=2)
    with unchanged:
        crm("note", "remove", deal, NO_ITEM, code=1)
    assert "note" in crm("note", "--help").stdout


# ---------------------------------------------------------------- documents


def test_doc_attach_copies_the_file_in_one_commit(crm, deal, tmp_path):
    src = tmp_path / "Offer v2 (final).PDF"
    payload = b"%PDF-1.4\n\x00\xff binary"
    src.write_bytes(payload)
    before = crm.commits()
    d = item_id(crm("doc", "attach", deal, src, "--title", "Offer v2"))
    assert crm.commits() == before + 1 and crm.status() == ""
    path = f"documents/{deal}/{d}.pdf"
    assert (crm.root / path).read_bytes() == payload
    assert sorted(crm.git("show", "--name-only", "--format=", "HEAD").split()) == sorted(
        [path, f"opportunities/{deal}.yaml"])
    assert subject(crm) == f"{deal} Acme renewal: attach document \"Offer v2\" ({d}.pdf, 18 bytes)"
    assert trailer(crm, "Opp-Action") == "doc-attach"
    [doc] = crm.json("doc", "list", deal)
    assert doc == {"id": d, "path": path, "title": "Offer v2",
                   "sha256": hashlib.sha256(payload).hexdigest(), "size": len(payload),
                   "added": doc["added"]}
    assert crm.json("show", deal)["documents"] == [doc]
    assert "Offer v2" in crm("doc", "list", deal).stdout


def test_doc_names_are_generated_and_never_collide(crm, deal, tmp_path):
    weird = tmp_path / "a;b $(rm -rf ~).tar.gz"
    weird.write_text("x")
    noext = tmp_path / "README"
    noext.write_text("y")
    odd = tmp_path / "x.p d f"
    odd.write_text("z")
    first = item_id(crm("doc", "attach", deal, weird))
    second = item_id(crm("doc", "attach", deal, weird))
    third = item_id(crm("doc", "attach", deal, noext))
    fourth = item_id(crm("doc", "attach", deal, odd))
    docs = {d["id"]: d for d in crm.json("doc", "list", deal)}
    assert docs[first]["path"] == f"documents/{deal}/{first}.gz"
    assert docs[second]["path"] == f"documents/{deal}/{second}.gz" and first != second
    assert docs[third]["path"] == f"documents/{deal}/{third}"
    assert docs[fourth]["path"] == f"documents/{deal}/{fourth}"
    assert docs[first]["title"] == "a;b $(rm -rf ~).tar.gz"
    assert sorted(os.listdir(crm.root / "documents" / deal)) == sorted(
        os.path.basename(d["path"]) for d in docs.values())


def test_doc_path_helpers():
    assert panels.safe_extension("x.PDF") == ".pdf"
    assert panels.safe_extension("../../etc/passwd") == ""
    assert panels.safe_extension("a.verylongextension") == ""
    assert panels.safe_extension("a.tar.gz") == ".gz"
    assert panels.title_from("dir/sub\\evil\nname.txt") == "evil name.txt"


def test_doc_refuses_what_is_not_a_regular_file(crm, deal, tmp_path, unchanged):
    folder = tmp_path / "folder"
    folder.mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    cases = [(folder, "is a folder"), (str(folder) + "/", "is a folder"),
             (tmp_path / "missing.pdf", "no such file"), (fifo, "is a FIFO (named pipe)"),
             ("/dev/null", "is a character device"), (dangling, "a symlink to a missing file")]
    for path, message in cases:
        with unchanged:
            r = crm("doc", "attach", deal, path, code=1)
        assert message in r.stderr, r.stderr
        assert str(path) in r.stderr
    assert not (crm.root / "documents").exists()


def test_doc_symlink_is_copied_as_its_content(crm, deal, tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("the content")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    d = item_id(crm("doc", "attach", deal, link))
    [doc] = crm.json("doc", "list", deal)
    stored = crm.root / doc["path"]
    assert not stored.is_symlink() and stored.read_text() == "the content"
    mode = crm.git("ls-files", "-s", doc["path"]).split()[0]
    assert mode == "100644"
    assert doc["title"] == "link.txt" and doc["id"] == d


def test_doc_large_file_needs_large(crm, deal, tmp_path, unchanged):
    big = tmp_path / "video.mp4"
    with open(big, "wb") as fh:
        fh.truncate(panels.LARGE_DOCUMENT + 1)
    with unchanged:
        r = crm("doc", "attach", deal, big, code=1)
    assert "10.0 MB" in r.stderr and "--large" in r.stderr and "git LFS" in r.stderr
    crm("doc", "attach", deal, big, "--large")
    [doc] = crm.json("doc", "list", deal)
    assert doc["size"] == panels.LARGE_DOCUMENT + 1


def test_doc_remove_deletes_the_file_in_one_commit(crm, deal, tmp_path, unchanged):
    (tmp_path / "a.txt").write_text("a")
    d = item_id(crm("doc", "attach", deal, tmp_path / "a.txt"))
    path = crm.json("doc", "list", deal)[0]["path"]
    with unchanged:
        r = crm("doc", "remove", deal, NO_ITEM, code=1)
    assert f"no document '{NO_ITEM}' on {deal}; it has: {d} \"a.txt\"" in r.stderr
    before = crm.commits()
    crm("doc", "remove", deal, d)
    assert crm.commits() == before + 1 and crm.status() == ""
    assert not (crm.root / path).exists()
    assert sorted(crm.git("show", "--name-only", "--format=", "HEAD").split()) == sorted(
        [path, f"opportunities/{deal}.yaml"])
    assert crm.json("doc", "list", deal) == []


def test_doc_remove_refuses_a_hand_edited_stored_file(crm, deal, tmp_path, unchanged):
    (tmp_path / "a.txt").write_text("a")
    d = item_id(crm("doc", "attach", deal, tmp_path / "a.txt"))
    path = crm.root / crm.json("doc", "list", deal)[0]["path"]
    path.write_text("changed by hand")
    head = crm.head()
    r = crm("doc", "remove", deal, d, code=1)
    assert "has uncommitted changes" in r.stderr
    assert crm.head() == head and path.read_text() == "changed by hand"


def test_doc_remove_never_deletes_a_path_opp_did_not_make(crm, deal):
    data = yaml.safe_load(crm.file(deal).read_text())
    data["documents"] = [{"id": "dd0001", "path": "opp.yaml", "title": "evil",
                          "sha256": "0" * 64, "size": 1, "added": "2026-01-01"}]
    crm.file(deal).write_text(yaml.safe_dump(data, sort_keys=False))
    hand_commit(crm, "hand edit")
    r = crm("doc", "remove", deal, "dd0001", code=1)
    assert "document path 'opp.yaml' is not under documents/" in r.stderr
    assert (crm.root / "opp.yaml").exists() and crm.status() == ""
    assert "is not under documents/" in crm("validate", code=1).stdout + \
        crm("validate", code=1).stderr
    opp = Opportunity.model_validate({**data, "documents": []})
    doc = Document.model_validate(data["documents"][0])
    for bad in ("opp.yaml", "documents/../opp.yaml", "documents/x", "/etc/passwd",
                "documents//x/y", f"documents/{deal}/../x", "documents/other123/a.pdf",
                f"documents/{deal}x/a.pdf"):
        with pytest.raises(RuleError, match="not under documents/"):
            panels.removable_path(opp, doc.model_copy(update={"path": bad}))
    assert panels.removable_path(opp, doc.model_copy(
        update={"path": f"documents/{deal}/ab.pdf"})) == f"documents/{deal}/ab.pdf"


# ---------------------------------------------------------------- the pure rules


def _opp(**extra) -> Opportunity:
    return Opportunity(id="abcd1234", name="Deal", customer="Acme", stage="prospecting",
                       currency="EUR", owner="me", created="2026-01-01", **extra)


def test_panel_rules_are_pure_functions():
    settings = Settings()
    opp = _opp()
    after, contact = panels.add(opp, settings, "contacts", {"name": "Jane", "role": "BUYER"})
    assert opp.contacts == [] and after.contacts == [contact] and contact.role == "buyer"
    with pytest.raises(NotFound):  # a prefix of no item (ids are random)
        panels.find_item(after, "contacts", "zz" if not contact.id.startswith("zz") else "yy")
    assert panels.find_item(after, "contacts", contact.id[:2].upper()) == contact
    with pytest.raises(UsageError):
        panels.find_item(after, "contacts", " ")
    closed = after.model_copy(update={"stage": "closed-won", "close_date": "2026-02-01"})
    with pytest.raises(RuleError, match="reopen"):
        panels.remove(closed, settings, "contacts", contact.id)
    later, note = panels.add_note(closed, author="me", text="ok",
                                  at=datetime.fromisoformat("2026-02-02T10:00:00.5+01:00"))
    assert note.date.isoformat() == "2026-02-02T10:00:00+01:00"
    with pytest.raises(ValueError):
        panels.add_note(opp, author="me", text="x", at=datetime(2026, 1, 1))


def test_git_log_reads_as_the_deals_history(crm, deal, tmp_path):
    crm("contact", "add", deal, "Jane Doe", "--role", "buyer")
    crm("activity", "add", deal, "--type", "call", "--subject", "Kick-off", "--done",
        env={"OPP_TODAY": "2026-11-02"})
    crm("add-product", deal, "SRV-01", "--qty", "2")
    crm("note", deal, "Asked for a discount")
    (tmp_path / "offer.pdf").write_bytes(b"pdf")
    crm("doc", "attach", deal, tmp_path / "offer.pdf", "--title", "Offer")
    crm("stage", deal, "proposal")
    log = crm.git("log", "--oneline", "--reverse", "--", f"opportunities/{deal}.yaml")
    actions = [re.sub(r"^[0-9a-f]+ ", "", line) for line in log.splitlines()]
    prefix = f"{deal} Acme renewal: "
    assert all(a.startswith(prefix) for a in actions)
    assert [a[len(prefix):] for a in actions] == [
        "new opportunity for Acme Corp",
        "add contact Jane Doe (buyer)",
        "add activity call \"Kick-off\" on 2026-11-02 (done)",
        "add product SRV-01 x2",
        "note \"Asked for a discount\"",
        "attach document \"Offer\" (" + actions[5].split("(")[1],
        "stage prospecting -> proposal",
    ]


def test_every_new_command_has_help_with_an_example(crm):
    from oppcli.cli import cli

    for group in ("contact", "partner", "competitor", "activity", "doc", "note"):
        for name in cli.commands[group].commands:
            text = crm(group, name, "--help").stdout
            assert "Example:" in text, f"opp {group} {name}"
    for name in ("timeline", "undo"):
        assert "Example:" in crm(name, "--help").stdout


@given(st.lists(st.one_of(st.tuples(st.just("add"), st.text("abcdefgh ", min_size=1,
                                                                max_size=8)),
                          st.tuples(st.just("remove"), st.integers(0, 30))), max_size=40))
def test_item_ids_stay_unique_and_name_one_item(steps):
    settings = Settings()
    opp = _opp()
    names: dict[str, str] = {}
    for verb, arg in steps:
        if verb == "add":
            if not arg.strip():
                continue
            opp, item = panels.add(opp, settings, "competitors", {"account": arg + str(len(
                names))})
            names[item.id] = item.account
        elif opp.competitors:
            victim = opp.competitors[arg % len(opp.competitors)]
            # the shortest unique prefix names it
            prefix = next(victim.id[:n] for n in range(1, 7)
                          if sum(c.id.startswith(victim.id[:n]) for c in opp.competitors) == 1)
            opp, gone = panels.remove(opp, settings, "competitors", prefix)
            assert gone == victim
        ids_ = [c.id for c in opp.competitors]
        assert len(ids_) == len(set(ids_))
        assert all(names[c.id] == c.account for c in opp.competitors)


# ---------------------------------------------------------------- flags and free text

def test_activity_edit_refuses_done_and_not_done_together(crm, deal, unchanged):
    item = crm("activity", "add", deal, "--type", "call", "--subject", "Call").stdout.strip()
    with unchanged:
        r = crm("activity", "edit", deal, item, "--done", "--not-done", code=2)
    assert "--done and --not-done contradict each other" in r.stderr
    with unchanged:
        crm("activity", "edit", deal, item, "--not-done", "--done", code=2)
    crm("activity", "edit", deal, item, "--done")
    assert crm.json("activity", "list", deal)[0]["done"] is True
    crm("activity", "edit", deal, item, "--not-done")
    assert crm.json("activity", "list", deal)[0]["done"] is False
    head = crm.head()
    assert "nothing to change" in crm("activity", "edit", deal, item, "--not-done").stderr
    assert crm.head() == head


def test_note_list_takes_table_like_the_other_panel_lists(crm, deal):
    crm("note", deal, "Call Jane")
    table = crm("note", "list", deal, "--format", "table").stdout
    assert table == crm("note", "list", deal).stdout  # the default
    assert table == crm("note", "list", deal, "--format", "text").stdout  # the old name
    assert "Call Jane" in table
    assert crm("note", "list", deal, "--format", "csv").stdout.startswith("id,date,author,text")
    r = crm("note", "list", deal, "--format", "yaml", code=2)
    assert "'table'" in r.stderr


def test_free_text_may_start_with_a_dash(crm, deal):
    first = crm("note", deal, "-5% discount agreed, check with Bob").stdout.strip()
    second = crm("note", "add", deal, "-", input="from stdin\n").stdout.strip()  # as before
    helped = crm("note", "add", deal, "- a bullet", "--help")
    assert "Usage: opp note add" in helped.stdout  # known options still work
    texts = {n["id"]: n["text"] for n in crm.json("note", "list", deal)}
    assert texts[first] == "-5% discount agreed, check with Bob"
    assert texts[second].strip() == "from stdin" and len(texts) == 2
    crm("note", "edit", deal, first, "-10% now")
    assert {n["id"]: n["text"] for n in crm.json("note", "list", deal)}[first] == "-10% now"
    jane = crm("contact", "add", deal, "-Jane-", "--role", "buyer").stdout.strip()
    joe = crm("contact", "add", deal, "--role", "buyer", "-Joe -h").stdout.strip()
    names = {c["id"]: c["name"] for c in crm.json("contact", "list", deal)}
    assert (names[jane], names[joe]) == ("-Jane-", "-Joe -h")
    crm("partner", "add", deal, "-Globex", "--role", "reseller")
    crm("competitor", "add", deal, "-Initech")
    assert crm.json("partner", "list", deal)[0]["account"] == "-Globex"
    assert crm.json("competitor", "list", deal)[0]["account"] == "-Initech"


def test_free_text_commands_still_refuse_bad_options_and_extra_text(crm, deal, unchanged):
    with unchanged:
        r = crm("contact", "add", deal, "Jane", "--rol", "buyer", code=2)
    assert "No such option '--rol'" in r.stderr
    with unchanged:
        r = crm("contact", "add", deal, "Jane", "Doe", "--role", "buyer", code=2)
    assert "unexpected extra argument" in r.stderr
    with unchanged:
        crm("note", deal, "-", code=2, input="")  # an empty note from stdin
    with unchanged:
        crm("note", "add", deal, code=2)
