"""The index's directory of accounts (#20): taken whole while no account file changed,
read again as soon as one did (a hand edit, a file added or removed)."""

from __future__ import annotations

import os

import yaml

from oppcli.read.index import accounts as index_accounts
from oppcli.read.index import db
from oppcli.store.repo import Repo


def fresh(root) -> Repo:
    repo = Repo.find(str(root))
    repo.accounts_reader = index_accounts.read_directory
    return repo


def names(root) -> dict[str, str]:
    found = index_accounts.read_directory(fresh(root))
    return {e.id: e.name for e in found.by_id.values()}


def test_the_directory_is_kept_whole_and_read_again_after_any_change(crm, monkeypatch):
    monkeypatch.setattr(index_accounts, "RACY_SECONDS", -60)  # trust even fresh stat data
    acme = crm("account", "add", "ACME S.r.l.", "--alias", "Acme Italia").stdout.strip()
    globex = crm("account", "add", "Globex").stdout.strip()
    assert names(crm.root) == {acme: "ACME S.r.l.", globex: "Globex"}
    index = db.for_repo(fresh(crm.root))
    assert index_accounts.SNAPSHOT in index.accounts()  # kept, and never taken for an id
    found = index_accounts.read_directory(fresh(crm.root))
    assert found.resolve("acme italia spa").id == acme and len(found) == 2

    path = crm.root / "accounts" / f"{globex}.yaml"  # a hand edit: the new name is seen
    data = yaml.safe_load(path.read_text())
    data["name"] = "Globex Corporation"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert names(crm.root)[globex] == "Globex Corporation"
    assert index_accounts.read_directory(
        fresh(crm.root)).resolve("globex corporation").id == globex

    copy = crm.root / "accounts" / "zzzzzzzz.yaml"  # a file added, then removed
    data["id"], data["name"], data["aliases"] = "zzzzzzzz", "Initech", []
    copy.write_text(yaml.safe_dump(data, sort_keys=False))
    assert names(crm.root)["zzzzzzzz"] == "Initech"
    copy.unlink()
    assert set(names(crm.root)) == {acme, globex}


def test_a_file_rewritten_with_its_size_and_times_is_read_again(crm, monkeypatch):
    monkeypatch.setattr(index_accounts, "RACY_SECONDS", -60)
    acme = crm("account", "add", "Acme").stdout.strip()
    assert names(crm.root) == {acme: "Acme"}
    path = crm.root / "accounts" / f"{acme}.yaml"
    stat = path.stat()
    text = path.read_text().replace("name: Acme", "name: Acne")  # same size, same times
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert names(crm.root) == {acme: "Acne"}  # its ctime (and inode) are new: read again


def test_opp_new_resolves_through_the_kept_directory(crm, monkeypatch):
    crm("account", "add", "Acme")
    crm("account", "list")  # the index learns the accounts
    first = crm.new("One", "--customer", "acme srl")
    second = crm.new("Two", "--customer", "ACME")
    assert crm.json("show", first)["customer_id"] == crm.json("show", second)["customer_id"]
    assert len(crm.json("account", "list")) == 1


def test_a_kept_directory_resolves_names_without_reading_any_accounts_data(crm, monkeypatch):
    monkeypatch.setattr(index_accounts, "RACY_SECONDS", -60)
    acme = crm("account", "add", "ACME S.r.l.", "--vat", "IT12345670017", "--city",
               "Milano").stdout.strip()
    crm("person", "add", "acme", "Jane Doe")
    whole = crm.json("account", "show", "acme")
    names(crm.root)  # kept: the names, and every account's data beside them
    read = []
    real = index_accounts._items
    monkeypatch.setattr(index_accounts, "_items", lambda *a: read.append(a) or real(*a))
    found = index_accounts.read_directory(fresh(crm.root))
    entry = found.resolve("acme spa")
    assert (entry.id, entry.name, entry.vat) == (acme, "ACME S.r.l.", "IT12345670017")
    assert read == []  # a name resolved: no account's data read
    assert entry.data["city"] == "Milano" and dict(entry.data)["people"][0]["name"] == \
        "Jane Doe"
    assert len(read) == 1  # read when asked for, once
    assert crm.json("account", "show", "acme") == whole


def test_a_report_s_replay_key_lends_the_accounts_stat_data(crm, monkeypatch):
    """A report's replay key walks ``accounts/`` already: the directory's signature is
    taken from that walk (no second ``stat`` of each file), and it is the signature
    the files' own stat calls give, so reports and changes share the kept directory.
    A folder in ``accounts/`` makes the signature come from the files again."""
    from oppcli.read import outputs

    monkeypatch.setattr(index_accounts, "RACY_SECONDS", -60)
    monkeypatch.setattr(outputs, "RACY_SECONDS", -60)
    monkeypatch.setattr(os, "isatty", lambda fd: False)
    crm("account", "add", "ACME S.r.l.")
    crm("account", "add", "Globex")
    repo = fresh(crm.root)
    own = index_accounts._signature(repo)
    folder = os.path.join(repo.root, "accounts")
    monkeypatch.chdir(crm.root)
    assert outputs.key_of(["pipeline"]) is not None
    assert outputs._seen.get(folder) and len(outputs._seen[folder]) == 2
    calls = []
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda *a: calls.append(a) or real(*a))
    assert index_accounts._signature(repo) == own and not calls  # lent, and taken once
    assert folder not in outputs._seen
    assert index_accounts._signature(repo) == own and calls  # the files' own stat data

    (crm.root / "accounts" / "stray").mkdir()
    calls.clear()
    assert outputs.key_of(["pipeline"]) is not None
    assert index_accounts._signature(repo) == own and calls
