"""Partners, competitors and contacts point at accounts and people (#20), end to end."""

from __future__ import annotations

import yaml


def hand_commit(crm, message: str) -> None:
    crm.git("-c", "user.name=Hand", "-c", "user.email=hand@example.com", "commit", "-qam",
            message)


def changed_files(crm) -> list[str]:
    return sorted(crm.git("show", "--name-only", "--format=", "HEAD").split())


def test_partner_and_competitor_resolve_like_the_customer(crm):
    deal = crm.new("Renewal", "--customer", "Acme")
    globex = crm("account", "add", "Globex S.p.A.", "--alias", "GBX").stdout.strip()
    for spelling in (globex, globex[:5], "globex spa", "GLOBEX", "gbx"):
        other = crm("new", "Other", "--customer", "Acme").stdout.strip()
        r = crm("partner", "add", other, spelling, "--role", "reseller")
        assert "created account" not in r.stderr
        [p] = crm.json("show", other)["partners"]
        assert (p["account"], p["account_id"]) == ("Globex S.p.A.", globex)
    crm("partner", "add", deal, "Globex", "--role", "other")
    stored = yaml.safe_load(crm.file(deal).read_text())["partners"]
    assert {p["account"] for p in stored} == {globex}  # the file holds the id
    assert "Globex S.p.A." in crm("show", deal).stdout  # people read the name
    assert "Globex S.p.A." in crm("partner", "list", deal).stdout
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert subject == f"{deal} Renewal: add partner Globex S.p.A. (other)"

    before = crm.commits()
    r = crm("competitor", "add", deal, "Initech Inc.", "--role", "incumbent")
    assert crm.commits() == before + 1  # the account and the deal in one commit
    [c] = crm.json("show", deal)["competitors"]
    assert c["account"] == "Initech Inc."
    assert f"created account {c['account_id']} Initech Inc.\n" in r.stderr
    assert changed_files(crm) == [f"accounts/{c['account_id']}.yaml",
                                  f"opportunities/{deal}.yaml"]
    assert crm.json("account", "show", "initech")["id"] == c["account_id"]
    crm("validate")


def test_partner_refusals_change_nothing(crm, unchanged):
    deal = crm.new("Renewal", "--customer", "Acme")
    crm("account", "add", "Globex Industries")
    with unchanged:  # a typo never makes a duplicate
        r = crm("partner", "add", deal, "Globex", "--role", "reseller", code=1)
        assert "Globex Industries" in r.stderr and "--create" in r.stderr
    with unchanged:
        r = crm("competitor", "add", deal, "Initech", "--no-create", code=1)
        assert "no account 'Initech'" in r.stderr
    with unchanged:  # --role is checked too: no account is made for a refused partner
        crm("partner", "add", deal, "Umbrella", "--role", "friend", code=1)
    r = crm("partner", "add", deal, "Globex", "--role", "reseller", "--create")
    assert "created account" in r.stderr
    assert len(crm.json("account", "list")) == 3
    crm("close", deal, "--lost", "--reason", "price")
    with unchanged:  # R17 comes first: no account is made for a closed deal
        r = crm("competitor", "add", deal, "Umbrella Corp", code=1)
        assert "is closed" in r.stderr


def test_contacts_name_people_of_the_customer(crm, unchanged):
    deal = crm.new("Renewal", "--customer", "Acme")
    jane = crm("person", "add", "acme", "Jane Doe", "--email", "jane@acme.example").stdout.strip()
    before = crm.commits()
    r = crm("contact", "add", deal, "JANE DOE", "--role", "buyer")
    assert r.stderr.count("\n") == 1  # no person added
    [c] = crm.json("show", deal)["contacts"]
    assert c["name"] == "Jane Doe" and c["person_id"] == jane

    r = crm("contact", "add", deal, "Bob Rossi", "--role", "user", "--phone", "+39 02 1")
    assert crm.commits() == before + 2
    [bob] = [p for p in crm.json("account", "show", "acme")["people"] if p["name"] == "Bob Rossi"]
    assert bob["phone"] == "+39 02 1"
    assert f"added person {bob['id']} Bob Rossi to account" in r.stderr
    account = crm.json("show", deal)["customer_id"]
    assert changed_files(crm) == [f"accounts/{account}.yaml", f"opportunities/{deal}.yaml"]
    assert {c["name"]: c.get("person_id") for c in crm.json("contact", "list", deal)} == {
        "Jane Doe": jane, "Bob Rossi": bob["id"]}
    with unchanged:  # the same person twice is refused, and no person is added
        crm("contact", "add", deal, "bob rossi", "--role", "user", code=1)
    with unchanged:
        crm("contact", "add", deal, "Carla", "--role", "user", "--email", "carla", code=2)
    crm("validate")


def test_a_text_customer_keeps_text_contacts(crm):
    deal = crm.new("Renewal", "--customer", "Acme")
    data = yaml.safe_load(crm.file(deal).read_text())
    data["customer"] = "Old Style Customer"  # a first-round repo, not upgraded
    crm.file(deal).write_text(yaml.safe_dump(data, sort_keys=False))
    hand_commit(crm, "text customer")
    r = crm("contact", "add", deal, "Jane Doe", "--role", "buyer")
    assert "person" not in r.stderr
    assert changed_files(crm) == [f"opportunities/{deal}.yaml"]
    [c] = crm.json("show", deal)["contacts"]
    assert "person_id" not in c and c["name"] == "Jane Doe"
    assert crm.json("account", "show", "acme")["people"] == []


def test_validate_finds_dangling_partners_competitors_and_people(crm):
    deal = crm.new("Renewal", "--customer", "Acme")
    crm("partner", "add", deal, "Globex", "--role", "reseller")
    crm("competitor", "add", deal, "Initech")
    crm("contact", "add", deal, "Jane Doe", "--role", "buyer")
    shown = crm.json("show", deal)
    partner = shown["partners"][0]["account_id"]
    competitor = shown["competitors"][0]["account_id"]
    crm("validate")
    (crm.root / "accounts" / f"{partner}.yaml").unlink()
    (crm.root / "accounts" / f"{competitor}.yaml").unlink()
    acme = crm.root / "accounts" / f"{shown['customer_id']}.yaml"
    data = yaml.safe_load(acme.read_text())
    data["people"] = []
    acme.write_text(yaml.safe_dump(data, sort_keys=False))
    crm.git("add", "-A")
    hand_commit(crm, "gone")
    out = crm("validate", code=1).stdout
    assert f"partners: account {partner} does not exist" in out
    assert f"competitors: account {competitor} does not exist" in out
    assert f"person {shown['contacts'][0]['person_id']} (Jane Doe) is not one of" in out


def test_merge_moves_partners_and_competitors(crm):
    deal = crm.new("Renewal", "--customer", "Acme")
    crm("partner", "add", deal, "Globex", "--role", "reseller")
    crm("competitor", "add", deal, "Globex Group", "--create")
    crm("account", "merge", "globex group", "globex")
    shown = crm.json("show", deal)
    ids = {shown["partners"][0]["account_id"], shown["competitors"][0]["account_id"]}
    assert len(ids) == 1 and shown["competitors"][0]["account"] == "Globex"
    crm("validate")


def write_xlsx(path, rows, title="Clienti"):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    book.save(path)


def test_account_import_reads_xlsx_all_or_nothing(crm, unchanged):
    good = crm.root.parent / "accounts.xlsx"
    write_xlsx(good, [["Name", "VAT", "Country", "Ref", "City"],
                      ["ACME S.r.l.", 12345670157, "it", 42, None],  # typed numbers
                      [None, None, None, None, None],
                      ["Globex", None, "US", "G1", "Springfield"]])
    before = crm.commits()
    r = crm("account", "import", good)
    assert "imported 2 new account(s), 0 updated" in r.stderr
    assert crm.commits() == before + 1
    acme = crm.json("account", "show", "acme")
    assert acme["vat"] == "IT12345670157" and acme["country"] == "IT"
    assert crm.json("account", "show", "globex")["city"] == "Springfield"
    again = crm.root.parent / "again.xlsx"
    write_xlsx(again, [["name", "city", "ref"], ["Acme Italia", "Milano", 42]])
    crm("account", "import", again, "--sheet", "Clienti")
    card = crm.json("account", "show", "acme italia")
    assert card["city"] == "Milano" and card["id"] == acme["id"]

    bad = crm.root.parent / "bad.xlsx"
    write_xlsx(bad, [["name", "vat"], ["Initech", "IT12345670158"], ["Hooli", None]])
    with unchanged:
        r = crm("account", "import", bad, code=1)
        assert "line 2" in r.stderr and "nothing imported" in r.stderr
    with unchanged:
        r = crm("account", "import", bad, "--sheet", "Other", code=2)
        assert "Clienti" in r.stderr
    with unchanged:
        (crm.root.parent / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
        crm("account", "import", crm.root.parent / "broken.xlsx", code=1)
    assert len(crm.json("account", "list")) == 2


def test_account_import_reads_below_a_title_and_names_the_header(crm, unchanged):
    """An xlsx list with a title above its header (as an Italian anagrafica often has)
    imports; a header opp cannot read is refused at its line, naming the file and the
    header's cells; two columns giving the name are refused, never one chosen quietly."""
    titled = crm.root.parent / "anagrafica.xlsx"
    write_xlsx(titled, [["Anagrafica clienti 2027"], [],
                        ["Ragione sociale", "Partita IVA", "Città"],
                        ["Rossi S.r.l.", "IT00743110157", "Milano"]])
    r = crm("account", "import", titled)
    assert "imported 1 new account(s), 0 updated" in r.stderr
    card = crm.json("account", "show", "rossi")
    assert card["vat"] == "IT00743110157" and card["name"] == "Rossi S.r.l."
    twice = crm.root.parent / "twice.xlsx"
    write_xlsx(twice, [["Clienti"], ["Ragione sociale", "Company"], ["Bianchi", "Verdi"]])
    unknown = crm.root.parent / "unknown.csv"
    unknown.write_text("foo,bar\n1,2\n")
    with unchanged:
        r = crm("account", "import", twice, code=1)
        assert r.stderr == (f"error: {twice}:2: columns 'Ragione sociale' and 'Company' both "
                            "give the account's name; keep one of them in the file\n")
        r = crm("account", "import", unknown, code=1)
        assert r.stderr.startswith(f"error: {unknown}:1: no 'name' column in the header "
                                   "('foo', 'bar'); the header names the columns, among: name, ")


def test_a_deal_lists_an_organisation_or_a_person_once(crm, unchanged):
    deal = crm.new("Renewal", "--customer", "Acme")
    crm("account", "add", "Globex S.p.A.", "--alias", "GBX")
    item = crm("partner", "add", deal, "Globex", "--role", "reseller").stdout.strip()
    for spelling, role in (("GLOBEX S.r.l.", "reseller"), ("gbx", "integrator"),
                           (crm.json("show", deal)["partners"][0]["account_id"], "other")):
        with unchanged:  # another spelling, or another role: the same organisation
            r = crm("partner", "add", deal, spelling, "--role", role, code=1)
        assert r.stderr == (f"error: {deal} already has partner Globex S.p.A. (reseller) "
                            f"[{item}]; a deal lists each once; change its role with: opp "
                            f"partner edit {deal} {item} --role ROLE\n")
    crm("competitor", "add", deal, "Globex")  # a partner may compete as well
    crm("competitor", "add", deal, "Initech")
    with unchanged:
        r = crm("competitor", "add", deal, "initech inc.", "--role", "incumbent", code=1)
        assert "already has competitor Initech" in r.stderr
    other = crm("partner", "add", deal, "Umbrella", "--role", "supplier").stdout.strip()
    with unchanged:  # an edit never makes a twin either
        r = crm("partner", "edit", deal, other, "--account", "gbx", code=1)
        assert f"remove one of them with: opp partner remove {deal} {item}" in r.stderr

    jane = crm("person", "add", "acme", "Jane Doe").stdout.strip()
    crm("contact", "add", deal, "Jane Doe", "--role", "buyer")
    for who in ("jane  doe", jane):
        with unchanged:  # the same person, by name or by id, whatever the role
            r = crm("contact", "add", deal, who, "--role", "user", code=1)
            assert "already has contact Jane Doe (buyer)" in r.stderr
    crm("validate")


def test_validate_finds_an_organisation_listed_twice_by_hand(crm):
    deal = crm.new("Renewal", "--customer", "Acme")
    crm("partner", "add", deal, "Globex SpA", "--role", "reseller")
    data = yaml.safe_load(crm.file(deal).read_text())
    first = data["partners"][0]["id"]
    data["partners"].append({"id": "hand01", "account": "GLOBEX s.r.l.", "role": "other"})
    data["competitors"] = [{"id": "comp01", "account": "Initech"},
                           {"id": "comp02", "account": "initech inc"}]
    data["contacts"] = [{"id": "cont01", "name": "Jane Doe", "role": "buyer"},
                        {"id": "cont02", "name": "jane doe", "role": "user"}]
    crm.file(deal).write_text(yaml.safe_dump(data, sort_keys=False))
    hand_commit(crm, "twins by hand")
    r = crm("validate", code=1)
    lines = crm.file(deal).read_text().splitlines()
    hand = lines.index("- id: hand01") + 1
    assert (f"opportunities/{deal}.yaml:{hand}: partners: partner hand01 (GLOBEX s.r.l.) "
            f"names the same organisation as partner {first} (Globex SpA); a deal lists "
            f"each once: keep one with opp partner remove {deal} hand01") in r.stdout
    assert "competitor comp02 (initech inc) names the same organisation as competitor " \
        "comp01 (Initech)" in r.stdout
    assert "contact cont02 (jane doe) names the same person as contact cont01" in r.stdout
    assert "3 problem(s)" in r.stdout + r.stderr
    crm("partner", "remove", deal, "hand01")
    crm("competitor", "remove", deal, "comp02")
    crm("contact", "remove", deal, "cont02")
    crm("validate")


def test_merge_keeps_one_entry_for_a_deal_naming_both(crm):
    deal = crm.new("Renewal", "--customer", "Acme")
    crm("partner", "add", deal, "Globex", "--role", "reseller")
    crm("partner", "add", deal, "Globex Group", "--role", "integrator", "--create")
    crm("competitor", "add", deal, "Globex Group", "--role", "incumbent")
    crm("competitor", "add", deal, "Globex", "--products", "CRM Suite")
    crm("account", "merge", "globex group", "globex")
    shown = crm.json("show", deal)
    assert [(p["account"], p["role"]) for p in shown["partners"]] == [("Globex", "reseller")]
    assert [(c["account"], c["role"], c["products"]) for c in shown["competitors"]] == [
        ("Globex", "incumbent", "CRM Suite")]  # the first kept, its blanks filled
    crm("validate")


FIRST_ROUND_DEAL = ("id: d0aaaaaa\nname: A\ncustomer: Acme\nstage: prospecting\n"
                    "amount: 10.00\ncurrency: EUR\nowner: me\ncreated: 2026-01-01\n")


def first_round_repo(tmp_path, monkeypatch, panels: str):
    """A data repo as the first round wrote it: deal d0aaaaaa with these panels (YAML),
    committed by hand; the current folder is its root."""
    from conftest import Opp

    opp = Opp(tmp_path / "old")
    opp("init", str(opp.root))
    monkeypatch.chdir(opp.root)
    (opp.root / "opportunities").mkdir(exist_ok=True)
    (opp.root / "opportunities" / "d0aaaaaa.yaml").write_text(FIRST_ROUND_DEAL + panels)
    opp.git("add", "-A")
    opp.git("-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "first round")
    return opp


def test_upgrade_folds_a_first_round_deal_listing_a_party_twice(tmp_path, monkeypatch):
    opp = first_round_repo(
        tmp_path, monkeypatch,
        "partners:\n- {id: p1, account: Initech, role: reseller}\n"
        "- {id: p2, account: initech inc., role: integrator}\n"
        "competitors:\n- {id: c1, account: Globex}\n"
        "- {id: c2, account: GLOBEX GmbH, role: incumbent, products: CRM}\n"
        "contacts:\n- {id: k1, name: Jane Doe, role: buyer}\n"
        "- {id: k2, name: jane doe, role: user, email: jane@acme.example}\n")
    out = opp("validate", code=1).stdout  # the first round let them in
    assert "partner p2 (initech inc.) names the same organisation as partner p1" in out
    r = opp("init", "--upgrade")
    assert "deal d0aaaaaa: partner Initech (integrator) [p2] folded into [p1]\n" in r.stderr
    assert "deal d0aaaaaa: competitor Globex (incumbent) [c2] folded into [c1]\n" in r.stderr
    assert "deal d0aaaaaa: contact jane doe (user) [k2] folded into [k1]\n" in r.stderr
    shown = opp.json("show", "d0aaaaaa")
    assert [(p["id"], p["account"], p["role"]) for p in shown["partners"]] == [
        ("p1", "Initech", "reseller")]
    assert [(c["id"], c["role"], c["products"]) for c in shown["competitors"]] == [
        ("c1", "incumbent", "CRM")]  # the first kept, its blanks filled from the other
    assert [(c["id"], c["role"], c["email"]) for c in shown["contacts"]] == [
        ("k1", "buyer", "jane@acme.example")]
    opp("validate")
    assert "up to date" in opp("init", "--upgrade").stderr


def test_upgrade_keeps_the_notes_of_a_folded_twin_and_says_what_it_drops(
        tmp_path, monkeypatch):
    """Folding twins loses no note (both are kept, one after the other); what cannot be
    kept beside the first entry's own value (a second e-mail, other products) is named
    in the fold's line, so that the user knows what to look for in git history."""
    opp = first_round_repo(
        tmp_path, monkeypatch,
        "competitors:\n- {id: c1, account: Globex, products: ERP, notes: strong on price}\n"
        "- {id: c2, account: GLOBEX GmbH, products: CRM, notes: weak support}\n"
        "contacts:\n- {id: k1, name: Jane Doe, role: buyer, email: jane@old.example}\n"
        "- {id: k2, name: jane doe, role: buyer, email: jane@acme.example, phone: '+39 02 1'}\n")
    r = opp("init", "--upgrade")
    assert ("deal d0aaaaaa: competitor Globex [c2] folded into [c1]; not kept: products "
            "'CRM'\n") in r.stderr
    assert ("deal d0aaaaaa: contact jane doe (buyer) [k2] folded into [k1]; not kept: email "
            "'jane@acme.example'\n") in r.stderr
    shown = opp.json("show", "d0aaaaaa")
    assert [(c["products"], c["notes"]) for c in shown["competitors"]] == [
        ("ERP", "strong on price\n\nweak support")]
    assert [(c["email"], c["phone"]) for c in shown["contacts"]] == [
        ("jane@old.example", "+39 02 1")]
    opp("validate")
