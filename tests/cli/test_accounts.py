"""Accounts and people end to end (#20): the customer is a record."""

from __future__ import annotations

from pathlib import Path

from conftest import Opp


def test_spellings_resolve_to_one_account(crm):
    a = crm.new("One", "--customer", "ACME S.r.l.")
    r = crm("new", "Two", "--customer", "Acme srl")
    assert "created account" not in r.stderr
    b = r.stdout.strip()
    c = crm.new("Three", "--customer", "acme")
    ids = {crm.json("show", x)["customer_id"] for x in (a, b, c)}
    assert len(ids) == 1 and len(list((crm.root / "accounts").iterdir())) == 1
    assert {crm.json("show", x)["customer"] for x in (a, b, c)} == {"ACME S.r.l."}
    account = ids.pop()
    assert crm("account", "show", account[:4]).stdout.startswith(f"{account}  ACME S.r.l.")
    assert [d["id"] for d in crm.json("list", "--customer", "acme spa")] != []
    assert len(crm.json("list", "--customer", account)) == 3


def test_new_says_it_created_the_account_and_no_create_refuses(crm, unchanged):
    r = crm("new", "Deal", "--customer", "Globex Industries")
    assert "created account" in r.stderr and "Globex Industries" in r.stderr
    with unchanged:
        crm("new", "Deal", "--customer", "Initech", "--no-create", code=1)
    with unchanged:  # a typo of an existing name never makes a duplicate
        r = crm("new", "Deal", "--customer", "Globex", code=1)
        assert "Globex Industries" in r.stderr and "--create" in r.stderr
    assert crm("new", "Deal", "--customer", "GLOBEX INDUSTRIES Inc.").stderr == ""
    crm("new", "Deal", "--customer", "Globex", "--create")


def test_set_customer_takes_create_and_no_create_as_new_does(crm, unchanged):
    deal = crm.new("Deal", "--customer", "Initech Corp")
    with unchanged:
        r = crm("set", deal, "customer", "Initech Crop", code=1)
        assert "Initech Corp" in r.stderr and "pass --create" in r.stderr
        r = crm("set", deal, "customer", "Nobody Here", "--no-create", code=1)
        assert "no account 'Nobody Here'" in r.stderr
        r = crm("set", deal, "name", "Other", "--create", code=2)
        assert r.stderr == ("error: --create and --no-create are for the customer, not "
                            "the name\n")
    r = crm("set", deal, "customer", "Initech Crop", "--create")
    assert "created account" in r.stderr
    assert crm.json("show", deal)["customer"] == "Initech Crop"


def test_people_e_mails_and_web_sites_are_checked_as_contacts_are(crm, unchanged):
    acme = crm("account", "add", "Acme", "--website", "acme.example").stdout.strip()
    jane = crm("person", "add", acme, "Jane", "--email", "jane@acme.example").stdout.strip()
    with unchanged:
        for args in (["person", "add", acme, "Joe", "--email", "notanemail"],
                     ["person", "edit", acme, jane, "--email", "jane at acme"],
                     ["account", "edit", acme, "--website", "not a url"],
                     ["account", "add", "Globex", "--website", "globex"]):
            r = crm(*args, code=2)
            assert r.stderr.count("\n") == 1 and ("is not an e-mail address" in r.stderr
                                                  or "is not a web site" in r.stderr), args
    crm("person", "edit", acme, jane, "--email", "none")
    for site in ("http://intranet/crm", "https://acme.example:8443", "bücher.de"):
        crm("account", "edit", acme, "--website", site)
    crm("account", "add", "Other", "--website", "mailto:x@acme.example", code=2)
    crm("account", "edit", acme, "--website", "https://www.acme.example/it")
    card = crm.json("account", "show", acme)
    assert card["website"] == "https://www.acme.example/it" and card["people"][0]["email"] is None


def test_account_commands_each_make_one_commit(crm):
    before = crm.commits()
    acme = crm("account", "add", "ACME S.r.l.", "--vat", "IT12345670157", "--country", "it",
               "--alias", "Acme Italia").stdout.strip()
    crm("account", "edit", acme, "--city", "Milano", "--name", "Acme Italia SpA")
    crm("account", "alias", "acme italia", "ACME Milano")
    person = crm("person", "add", acme, "Jane Doe", "--title", "CFO").stdout.strip()
    crm("person", "edit", acme, "jane doe", "--email", "jane@acme.example")
    assert crm.commits() == before + 5
    card = crm.json("account", "show", "acme milano")
    assert card["name"] == "Acme Italia SpA" and card["vat"] == "IT12345670157"
    assert card["country"] == "IT" and card["city"] == "Milano"
    assert "ACME S.r.l." in card["aliases"]  # the old name still resolves
    assert card["people"] == [{"id": person, "name": "Jane Doe", "title": "CFO",
                               "email": "jane@acme.example", "phone": None}]
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert subject.startswith(f"account {acme} Acme Italia SpA: edit person Jane Doe")
    crm("person", "remove", acme, person)
    assert crm.json("account", "show", acme)["people"] == []
    rows = crm.json("account", "list")
    assert [r["name"] for r in rows] == ["Acme Italia SpA"]
    crm("validate")


def test_vat_numbers_are_checked_and_never_shared(crm, unchanged):
    crm("account", "add", "Acme", "--vat", "IT12345670157")
    with unchanged:
        r = crm("account", "add", "Other", "--vat", "IT12345670158", code=1)
        assert "IT12345670158" in r.stderr
    with unchanged:
        r = crm("account", "add", "Other", "--vat", "12345670157", code=1)
        assert "Acme" in r.stderr and "IT12345670157" in r.stderr
    with unchanged:
        crm("account", "add", "ACME srl", code=1)  # the name is taken already


def test_merge_moves_every_reference_in_one_commit(crm):
    a = crm.new("One", "--customer", "Acme")
    b = crm.new("Two", "--customer", "Acme Corporation", "--create")
    crm("partner", "add", a, "x", "--role", "reseller")  # a partner account "x"
    card = crm.json("account", "show", "acme corporation")
    crm("person", "add", card["id"], "Bob")
    before = crm.commits()
    crm("account", "merge", "acme corporation", "acme")
    assert crm.commits() == before + 1
    changed = crm.git("show", "--name-only", "--format=", "HEAD").split()
    assert f"opportunities/{b}.yaml" in changed and f"accounts/{card['id']}.yaml" in changed
    assert not (crm.root / "accounts" / f"{card['id']}.yaml").exists()
    merged = crm.json("account", "show", "Acme Corporation")  # the old name is an alias
    assert merged["name"] == "Acme" and "Acme Corporation" in merged["aliases"]
    assert [p["name"] for p in merged["people"]] == ["Bob"]
    assert {d["id"] for d in merged["deals"]} == {a, b}
    assert crm.json("show", b)["customer"] == "Acme"
    crm("validate")


def test_remove_is_refused_while_referenced(crm, unchanged):
    deal = crm.new("One", "--customer", "Acme")
    with unchanged:
        r = crm("account", "remove", "acme", code=1)
        assert deal in r.stderr
    crm("delete", deal, "--yes")
    crm("account", "remove", "acme")
    assert not list((crm.root / "accounts").glob("*.yaml"))


def test_ambiguous_and_unknown_accounts_are_refused(crm, unchanged):
    crm("account", "add", "Acme")
    crm("account", "add", "Acme Holding", "--alias", "Acme Group")
    crm("account", "alias", "acme holding", "Acme Hold")
    with unchanged:
        crm("account", "show", "Initech", code=1)
        crm("account", "alias", "acme", "Acme Group", code=1)  # names the other one
        crm("account", "merge", "acme", "acme", code=1)


def test_show_totals_per_currency_and_the_timeline(crm):
    a = crm.new("One", "--customer", "Acme", "--amount", "100")
    crm.new("Two", "--customer", "Acme", "--amount", "50", "--currency", "USD")
    c = crm.new("Three", "--customer", "Acme", "--amount", "30")
    crm("close", c, "--won", "--date", "2026-01-10")
    card = crm.json("account", "show", "acme")
    assert card["totals"] == [
        {"currency": "EUR", "open_count": 1, "open_amount": "100.00", "won_count": 1,
         "won_amount": "30.00", "lost_count": 0},
        {"currency": "USD", "open_count": 1, "open_amount": "50.00", "won_count": 0,
         "won_amount": "0.00", "lost_count": 0}]
    story = crm.json("account", "show", "acme", "--timeline")
    assert {e["opportunity"]["id"] for e in story if e["opportunity"]} >= {a, c}
    by = crm.json("pipeline", "--by", "customer")
    assert by["by"] == "customer" and by["rows"][0]["customer"] == "Acme"
    assert by["rows"][0]["customer_id"] == card["id"]
    rows = crm.json("forecast", "--by", "customer")["rows"]
    assert {(r["group"], r["customer_id"]) for r in rows} == {("Acme", card["id"])}


def test_validate_finds_a_dangling_customer(crm):
    deal = crm.new("One", "--customer", "Acme")
    account = crm.json("show", deal)["customer_id"]
    (crm.root / "accounts" / f"{account}.yaml").unlink()
    crm.git("-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qam", "gone")
    r = crm("validate", code=1)
    assert f"account {account} does not exist" in r.stdout


def write_first_round_repo(root: Path) -> Opp:
    """A repo as the first round wrote it: customers as text, no accounts."""
    opp = Opp(root)
    opp("init", str(root))
    for i, (name, customer, amount) in enumerate([
            ("A", "ACME S.r.l.", "100"), ("B", "Acme srl", "50"), ("C", "Globex", "30"),
            ("D", "acme", "20")]):
        (root / "opportunities" / f"d{i}aaaaa.yaml").parent.mkdir(exist_ok=True)
        (root / "opportunities" / f"d{i}aaaaa.yaml").write_text(
            f"id: d{i}aaaaa\nname: {name}\ncustomer: {customer}\nstage: prospecting\n"
            f"amount: {amount}.00\ncurrency: EUR\nowner: me\ncreated: 2026-01-0{i + 1}\n"
            "partners:\n- id: p1\n  account: Initech\n  role: reseller\n")
    opp.git("add", "-A")
    opp.git("-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", "first round")
    return opp


def test_upgrade_groups_customer_texts_and_keeps_the_totals(tmp_path, monkeypatch):
    root = tmp_path / "old"
    opp = write_first_round_repo(root)
    monkeypatch.chdir(root)
    pipeline = opp.json("pipeline")
    listed = {r["id"]: r["customer"] for r in opp.json("list")}
    assert opp("validate")  # text customers are no dangling references
    before = opp.commits()
    r = opp("init", "--upgrade")
    assert opp.commits() == before + 1
    assert '"ACME S.r.l."; "Acme srl"; "acme"' in r.stderr
    accounts = opp.json("account", "list")
    assert sorted(a["name"] for a in accounts) == ["ACME S.r.l.", "Globex", "Initech"]
    assert opp.json("pipeline") == pipeline
    after = {r["id"]: r["customer"] for r in opp.json("list")}
    assert after == {k: {"Acme srl": "ACME S.r.l.", "acme": "ACME S.r.l."}.get(v, v)
                     for k, v in listed.items()}
    assert opp.json("show", "d0aaaaa")["partners"][0]["account"] == "Initech"
    opp("validate")
    assert "up to date" in opp("init", "--upgrade").stderr  # nothing left: no commit
    assert opp.commits() == before + 1


def test_account_import_is_all_or_nothing_and_upserts_by_ref(crm, unchanged):
    good = crm.root.parent / "accounts.csv"
    good.write_text("name,vat,country,ref\nACME S.r.l.,IT12345670157,IT,A1\nGlobex,,US,G1\n")
    crm("account", "import", good)
    assert sorted(a["name"] for a in crm.json("account", "list")) == ["ACME S.r.l.", "Globex"]
    again = crm.root.parent / "again.csv"
    again.write_text("name,city,ref\nAcme Italia,Milano,A1\n")
    crm("account", "import", again)
    card = crm.json("account", "show", "acme italia")
    assert card["city"] == "Milano" and "ACME S.r.l." in card["aliases"]
    bad = crm.root.parent / "bad.csv"
    bad.write_text("name,vat\nInitech,IT12345670158\nHooli,\n")
    with unchanged:
        r = crm("account", "import", bad, code=1)
        assert "line 2" in r.stderr


def test_an_italian_account_list_from_excel_is_read_with_its_headers(crm, unchanged):
    """A cp1252 file with Italian headers: --encoding reads it (the refusal says so), the
    usual headers name their fields, and a column naming none is left out with a note."""
    sheet = crm.root.parent / "clienti.csv"
    sheet.write_bytes("Ragione sociale;Partita IVA;Città;Paese;Telefono\n"
                      "Forlì Ricambi S.r.l.;00743110157;Forlì;Italia;0543 123\n"
                      "Müller GmbH;;München;Germania;\n".encode("cp1252"))
    with unchanged:
        r = crm("account", "import", sheet, code=1)
        assert "import it with --encoding cp1252" in r.stderr
        crm("account", "import", sheet, "--encoding", "nope", code=2)
        crm("account", "import", sheet, "--delimiter", "ab", code=2)
    r = crm("account", "import", sheet, "--encoding", "cp1252")
    assert "note: ignored column(s): Telefono (the columns read: name, vat" in r.stderr
    assert "imported 2 new account(s), 0 updated" in r.stderr
    assert crm.json("account", "show", "muller")["country"] == "DE"
    card = crm.json("account", "show", "forli ricambi")
    assert (card["name"], card["vat"], card["city"], card["country"]) == (
        "Forlì Ricambi S.r.l.", "IT00743110157", "Forlì", "IT")
    tabbed = crm.root.parent / "tabbed.csv"
    tabbed.write_text("name\tcity\nGlobex\tRoma\n")
    crm("account", "import", tabbed, "--delimiter", "tab")
    assert crm.json("account", "show", "globex")["city"] == "Roma"


def test_unknown_country_currency_and_vat_prefix_codes_are_refused(crm, unchanged):
    with unchanged:
        r = crm("account", "add", "Delta", "--country", "zz", code=1)
        assert "country 'zz' is not an ISO 3166 country code" in r.stderr
        assert "did you mean GB" in crm("account", "add", "Delta", "--country", "UK",
                                        code=1).stderr
        r = crm("account", "add", "Delta", "--vat", "XX123", code=1)
        assert "'XX123' starts with 'XX', which is no country prefix" in r.stderr
        for code in ("ABC", "XXX"):
            r = crm("new", "X", "--customer", "Y", "--currency", code, code=2)
            assert f"currency '{code}' is not an ISO 4217 currency code" in r.stderr
        crm("quota", "set", "ann", "2026-Q1", "5", "--currency", "ABC", code=2)
        crm("config", "set", "currency", "XTS", code=2)
    delta = crm("account", "add", "Delta", "--country", "de").stdout.strip()
    with unchanged:
        crm("account", "edit", delta, "--country", "QQ", code=1)
    assert crm.json("account", "show", delta)["country"] == "DE"
    crm.new("X", "--currency", "usd")  # the codes of existing data still validate
    crm("validate")


def test_the_account_timeline_follows_the_commits_made_in_one_second(crm, monkeypatch):
    """Every commit in the same second: the story is in commit order, the account file's
    changes and each deal's interleaved as they happened, not grouped by source."""
    for var in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE"):
        monkeypatch.setenv(var, "2026-03-02T10:00:00+00:00")
    monkeypatch.setenv("OPP_TODAY", "2026-03-02")
    acme = crm("account", "add", "Acme").stdout.strip()
    y = crm.new("Y", "--customer", "Acme")  # made before X: ids sort in any order
    x = crm.new("X", "--customer", "Acme")
    crm("account", "edit", acme, "--city", "Milano")
    crm("set", y, "amount", "10")
    crm("set", x, "amount", "20")
    crm("account", "edit", acme, "--city", "Roma")
    story = crm.json("account", "show", acme, "--timeline")
    commits = crm.git("rev-list", "--reverse", "HEAD").split()
    made = [e["commit"] for e in story]
    assert made == sorted(made, key=commits.index) and len(made) == 7
    assert [(e["opportunity"] or {}).get("id", "account") for e in story] == [
        "account", y, x, "account", y, x, "account"]
    assert len({e["at"] for e in story}) == 1  # one second for all
