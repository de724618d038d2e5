"""The core commands end to end in temporary git repos: successes, refusals, commits."""

import json
import os
import subprocess
import sys
from datetime import date

import pytest
import yaml

from oppcli.domain.ids import ALPHABET


def test_init_writes_settings_and_commits_once(tmp_path, monkeypatch):
    from conftest import Opp

    monkeypatch.chdir(tmp_path)
    opp = Opp(tmp_path / "new")
    opp("init", "new", "--currency", "usd")
    settings = yaml.safe_load((tmp_path / "new" / "opp.yaml").read_text())
    assert settings["currency"] == "USD"
    assert settings["modules"] == {"catalog": True, "quotes": True}
    assert [s["id"] for s in settings["stages"]] == [
        "prospecting", "qualification", "proposal", "negotiation", "closed-won", "closed-lost"]
    assert [s["probability"] for s in settings["stages"]] == [10, 25, 50, 75, 100, 0]
    assert settings["default_stage"] == "prospecting"
    assert settings["lost_reasons"] and settings["activity_types"] and settings["roles"]
    assert opp.commits() == 1 and opp.status() == ""
    r = opp("init", "new", code=1)
    assert "already an opp data repo" in r.stderr


def test_no_git_identity_uses_opp_user_then_os_user(crm):
    crm.new("A", env={"OPP_USER": "Dana Scully"})
    assert crm.git("log", "-1", "--format=%an|%cn").strip() == "Dana Scully|Dana Scully"
    assert crm.git("log", "-1", "--format=%ae").strip() == "Dana.Scully@opp.invalid"
    # a name and an address, spelled as git spells them
    opp_id = crm.new("A2", env={"OPP_USER": "Dana Scully <dana@fbi.example>"})
    assert crm.git("log", "-1", "--format=%an <%ae>").strip() == "Dana Scully <dana@fbi.example>"
    assert crm.json("show", opp_id)["owner"] == "Dana Scully"
    opp_id = crm.new("B")
    import getpass
    assert crm.git("log", "-1", "--format=%an").strip() == getpass.getuser()
    assert crm.json("show", opp_id)["owner"] == getpass.getuser()


def test_git_identity_wins(crm):
    crm.git("config", "user.name", "Fox Mulder")
    crm.git("config", "user.email", "fox@fbi.example")
    opp_id = crm.new("A", env={"OPP_USER": "someone else"})
    assert crm.git("log", "-1", "--format=%an <%ae>").strip() == "Fox Mulder <fox@fbi.example>"
    assert crm.json("show", opp_id)["owner"] == "Fox Mulder"


def test_new_prints_the_id_alone_and_makes_one_commit(crm):
    before = crm.commits()
    r = crm("new", "Acme renewal", "--customer", "Acme Corp", "--objective", "5000",
            "--close-date", "2026-12-31", "--owner", "alice", "--amount", "1200.5")
    opp_id = r.stdout.strip()
    assert r.stdout == opp_id + "\n" and len(opp_id) == 8 and set(opp_id) <= set(ALPHABET)
    assert crm.commits() == before + 1 and crm.status() == ""
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert subject == f"{opp_id} Acme renewal: new opportunity for Acme Corp"
    assert "Opp-Action: new" in crm.git("log", "-1", "--format=%b")
    data = crm.json("show", opp_id)
    assert data["amount"] == "1200.50" and data["amount_source"] == "manual"
    assert data["objective"] == "5000.00" and data["close_date"] == "2026-12-31"
    assert data["stage"] == "prospecting" and data["status"] == "open"
    assert data["probability"] == 10 and data["currency"] == "EUR"
    assert data["owner"] == "alice" and data["lost_reason"] is None


def test_the_file_is_stable_block_yaml_with_exact_money(crm):
    opp_id = crm.new("Deal", "--amount", "0.1")
    text = crm.file(opp_id).read_text()
    account = crm.json("show", opp_id)["customer_id"]  # the customer is an account (#20)
    assert text.startswith("# yaml-language-server: "
                           "$schema=../.opp/schemas/opportunity.schema.json\n"
                           f"id: {opp_id}\nname: Deal\ncustomer: {account}\nstage: prospecting\n")
    assert "amount: 0.10\n" in text and "{" not in text and "&" not in text
    assert f"created: {date.today()}" in text


def test_products_drive_the_amount(crm):
    opp_id = crm.new("Deal", "--amount", "9999")
    r = crm("add-product", opp_id, "SRV-01", "--qty", "2", "--discount", "10")
    assert r.stderr.splitlines()[-1] == (f"{opp_id}: amount 2,160.00 EUR (total of the "
                                         "products); it replaces the typed 9,999.00 EUR")
    r = crm("add-product", opp_id, "LIC-10", "--qty", "3")
    assert "replaces" not in r.stderr
    data = crm.json("show", opp_id)
    assert data["amount"] == "2459.97" and data["amount_source"] == "products"
    assert [(p["sku"], p["quantity"], p["unit_price"], p["discount"], p["total"])
            for p in data["products"]] == [("SRV-01", "2", "1200.00", "10", "2160.00"),
                                           ("LIC-10", "3", "99.99", "0", "299.97")]
    crm("update-product", opp_id, "LIC-10", "--qty", "1", "--price", "100")
    assert crm.json("show", opp_id)["amount"] == "2260.00"
    crm("remove-product", opp_id, "SRV-01")
    crm("remove-product", opp_id, "LIC-10")
    data = crm.json("show", opp_id)
    assert data["amount"] == "0.00" and data["amount_source"] == "manual" and not data["products"]
    crm("set", opp_id, "amount", "75")
    assert crm.json("show", opp_id)["amount"] == "75.00"


def test_each_change_is_one_commit_with_a_templated_subject(crm):
    opp_id = crm.new("Deal")
    steps = [
        (("add-product", opp_id, "SRV-01", "--qty", "2"), "add product SRV-01 x2"),
        (("set", opp_id, "objective", "5000"), "set objective none -> 5000.00"),
        (("stage", opp_id, "Proposal"), "stage prospecting -> proposal"),
        (("close", opp_id, "--lost", "--reason", "price", "--date", "2026-11-01"),
         "close lost: stage proposal -> closed-lost, closed 2026-11-01 (price)"),
        (("reopen", opp_id, "--stage", "negotiation"), "reopen: stage closed-lost -> negotiation"),
    ]
    for args, action in steps:
        before = crm.commits()
        crm(*args)
        assert crm.commits() == before + 1
        assert crm.git("log", "-1", "--format=%s").strip() == f"{opp_id} Deal: {action}"
        assert crm.git("show", "--name-only", "--format=", "HEAD").split() == [
            f"opportunities/{opp_id}.yaml"]
    log = crm.git("log", "--oneline", "--", f"opportunities/{opp_id}.yaml").splitlines()
    assert len(log) == 6


def test_close_and_reopen(crm):
    opp_id = crm.new("Deal", "--close-date", "2027-01-31")
    crm("close", opp_id, "--won")
    data = crm.json("show", opp_id)
    assert (data["stage"], data["status"], data["close_date"]) == (
        "closed-won", "won", date.today().isoformat())
    assert data["probability"] == 100
    crm("reopen", opp_id, "--close-date", "2027-03-01")
    data = crm.json("show", opp_id)  # back at the stage it had before it closed
    assert (data["status"], data["stage"], data["close_date"]) == ("open", "prospecting",
                                                                   "2027-03-01")
    crm("stage", opp_id, "qualification")
    crm("stage", opp_id, "closed-lost", "--reason", "went with a competitor")
    data = crm.json("show", opp_id)
    assert data["status"] == "lost" and data["lost_reason"] == "went with a competitor"
    r = crm("reopen", opp_id)  # the stage and expected close date it had before closing
    assert (crm.json("show", opp_id)["stage"], crm.json("show", opp_id)["close_date"]) == (
        "qualification", "2027-03-01")
    assert "reopen: stage closed-lost -> qualification, close date 2027-03-01" in r.stderr
    crm("close", opp_id, "--lost", "--reason", "PRICE")  # a configured reason's spelling
    assert crm.json("show", opp_id)["lost_reason"] == "price"
    crm("reopen", opp_id, "--stage", "Negotiation")
    assert crm.json("show", opp_id)["stage"] == "negotiation"


def test_reopen_brings_back_the_expected_close_date_unless_given_another(crm):
    """Closing replaces the expected close date with the closing day (R17a); reopening
    puts the expected one back, as it does the stage, so the forecast keeps the deal in
    its period instead of 'unscheduled'."""
    opp_id = crm.new("Deal", "--close-date", "2027-01-31")
    crm("stage", opp_id, "proposal")
    crm("set", opp_id, "close-date", "2027-02-28")
    crm("stage", opp_id, "closed-won", "--date", "2026-11-20")
    assert crm.json("show", opp_id)["close_date"] == "2026-11-20"
    crm("reopen", opp_id)
    data = crm.json("show", opp_id)
    assert (data["stage"], data["close_date"]) == ("proposal", "2027-02-28")
    assert crm.json("forecast", "--by", "month")["rows"][0]["group"] == "2027-02"
    crm("close", opp_id, "--lost", "--reason", "price")
    crm("reopen", opp_id, "--stage", "negotiation")  # another stage, the same date
    assert crm.json("show", opp_id)["close_date"] == "2027-02-28"
    crm("close", opp_id, "--won")
    crm("reopen", opp_id, "--close-date", "2027-06-30")  # a new date
    data = crm.json("show", opp_id)
    assert (data["stage"], data["close_date"]) == ("negotiation", "2027-06-30")
    undated = crm.new("Undated")
    crm("close", undated, "--won")
    crm("reopen", undated)  # it had none: none again
    assert crm.json("show", undated)["close_date"] is None


def test_the_same_stage_again_changes_nothing(crm):
    opp_id = crm.new("Deal")
    before = crm.commits()
    r = crm("stage", opp_id, "prospecting")
    assert "nothing to change" in r.stderr and crm.commits() == before


def test_closing_won_after_an_accepted_quote_says_what_it_takes(crm):
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "SRV-01")
    quote = crm("quote", "new", opp_id).stdout.strip()
    crm("quote", "add-line", opp_id, quote, "--description", "Setup", "--price", "500")
    crm("quote", "send", opp_id, quote)
    crm("close-quote", opp_id, quote, "--accepted")
    crm("reopen", opp_id)  # the quote is superseded (R15a): closing keeps the products
    crm("add-product", opp_id, "LIC-10")
    assert crm.json("show", opp_id)["amount"] == "1299.99"
    r = crm("close", opp_id, "--won")
    assert "accepted quote" not in r.stderr
    assert crm.json("show", opp_id)["amount"] == "1299.99"
    # a deal reopened by opp 0.2.0 kept its quote accepted: closing it won takes the quote (R7)
    crm("reopen", opp_id)
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("status: superseded", "status: accepted"))
    crm.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "as 0.2.0 left it")
    r = crm("close", opp_id, "--won")
    assert "amount 1299.99 -> 1700.00 and products from the accepted quote" in r.stderr
    assert crm.json("show", opp_id)["amount"] == "1700.00"


def test_closed_opportunities_are_read_only(crm, unchanged):
    opp_id = crm.new("Deal")
    crm("close", opp_id, "--won", "--date", "2026-11-01")
    with unchanged:
        for args in [("set", opp_id, "amount", "5"), ("set", opp_id, "name", "X"),
                     ("set", opp_id, "objective", "5"), ("add-product", opp_id, "SRV-01"),
                     ("stage", opp_id, "proposal"), ("close", opp_id, "--lost")]:
            r = crm(*args, code=1)
            assert "closed" in r.stderr and f"opp reopen {opp_id}" in r.stderr


@pytest.mark.parametrize("args, code, words", [
    (("set", "{id}", "amount", "12,50"), 2, "write decimals with a dot: 12.50"),
    (("set", "{id}", "amount", "-5"), 2, "at least 0"),
    (("set", "{id}", "amount", "ten"), 2, "not a number"),
    (("set", "{id}", "objective", "1.001"), 2, "more than 2 decimals"),
    (("set", "{id}", "close-date", "2026-02-30"), 2, "not a real date"),
    (("set", "{id}", "close-date", "31/12/2026"), 2, "YYYY-MM-DD"),
    (("set", "{id}", "nickname", "x"), 2, "Invalid value for 'FIELD'"),
    (("set", "{id}", "name", ""), 2, "cannot be empty"),
    (("set", "{id}", "close-date", " "), 2, "close-date cannot be empty ('none' clears it)"),
    (("set", "{id}", "objective", ""), 2, "objective cannot be empty ('none' clears it)"),
    (("set", "{id}", "currency", "euro"), 2,
     "error: invalid currency: currency 'euro' is not an ISO 4217"),
    (("add-product", "{id}", "NOPE"), 1, "no product 'NOPE' in the catalog"),
    (("add-product", "{id}", "SRV-0"), 1, "did you mean 'SRV-01'"),
    (("add-product", "{id}", "SRV-01", "--qty", "0"), 2, "greater than zero"),
    (("add-product", "{id}", "SRV-01", "--qty", "-1"), 2, "greater than zero"),
    (("add-product", "{id}", "SRV-01", "--discount", "101"), 2, "at most 100"),
    (("add-product", "{id}", "SRV-01", "--discount", "-1"), 2, "at least 0"),
    (("add-product", "{id}", "SRV-01", "--price", "1,5"), 2, "with a dot"),
    (("add-product", "{id}", "../etc", ), 2, "not a valid SKU"),
    (("remove-product", "{id}", "SRV-01"), 1, "no product line 'SRV-01'"),
    (("update-product", "{id}", "SRV-01"), 2, "nothing to change"),
    (("stage", "{id}", "won-ish"), 1, "unknown stage 'won-ish'"),
    (("stage", "{id}", "won"), 1, "unknown stage 'won' (did you mean 'closed-won'?)"),
    (("close", "{id}"), 2, "either --won or --lost"),
    (("close", "{id}", "--won", "--lost"), 2, "either --won or --lost"),
    (("close", "{id}", "--won", "--reason", "price"), 2, "not won"),
    (("close", "{id}", "--won", "--date", "2999-01-01"), 2, "in the future"),
    (("reopen", "{id}"), 1, "already open"),
    (("show", "zzzzzzzzzz"), 1, "no opportunity 'zzzzzzzzzz'"),
    (("new", "X"), 2, "Missing option '--customer'"),
    (("new", "X", "--customer", "Y", "--stage", "nowhere"), 1, "unknown stage"),
    (("new", "line\nbreak", "--customer", "Y"), 2, "one line"),
    (("list", "--status", "maybe"), 2, "Invalid value"),
    (("catalog", "add", "SRV-01", "--name", "Dup", "--price", "1"), 1, "already in the catalog"),
    (("catalog", "add", "X-1", "--name", "X", "--price", "1.234"), 2, "more than 2 decimals"),
    (("catalog", "update", "NOPE", "--price", "1"), 1, "no product 'NOPE'"),
])
def test_bad_input_is_refused_with_one_line_and_changes_nothing(crm, unchanged, args, code, words):
    opp_id = crm.new("Deal")
    with unchanged:
        r = crm(*[a.replace("{id}", opp_id) for a in args], code=code)
    assert words in r.stderr, r.stderr
    assert r.stderr.startswith("error: ")


def test_set_fields(crm):
    opp_id = crm.new("Deal")
    crm("set", opp_id, "name", "Better deal")
    crm("set", opp_id, "customer", "Globex")
    crm("set", opp_id, "close_date", "2027-01-31")
    crm("set", opp_id, "owner", "bob")
    crm("set", opp_id, "objective", "7000")
    crm("set", opp_id, "currency", "usd")
    crm("set", opp_id, "ref", "SF-0001")
    data = crm.json("show", opp_id)
    assert (data["name"], data["customer"], data["close_date"], data["owner"], data["objective"],
            data["currency"], data["ref"]) == ("Better deal", "Globex", "2027-01-31", "bob",
                                                "7000.00", "USD", "SF-0001")
    crm("set", opp_id, "objective", "none")
    crm("set", opp_id, "close-date", "none")
    data = crm.json("show", opp_id)
    assert data["objective"] is None and data["close_date"] is None


def test_setting_the_same_value_commits_nothing(crm):
    opp_id = crm.new("Deal")
    before = crm.commits()
    r = crm("set", opp_id, "name", "Deal")
    assert "nothing to change" in r.stderr and crm.commits() == before


def test_prefixes_and_ambiguity(crm):
    ids = {crm.new(f"Deal {i}") for i in range(40)}
    one = sorted(ids)[0]
    assert crm.json("show", one[:6])["id"] == one
    assert crm.json("show", one.upper())["id"] == one
    clash = {i[0] for i in ids if sum(j[0] == i[0] for j in ids) > 1}
    if clash:
        r = crm("show", sorted(clash)[0], code=1)
        assert "matches" in r.stderr and "type more of the id" in r.stderr and "(Deal" in r.stderr


def test_list_filters_and_formats(crm, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-06-15")  # c closes on this day, before b and a
    a = crm.new("Alpha", "--owner", "alice", "--close-date", "2027-01-01", "--amount", "1000")
    b = crm.new("Beta", "--customer", "Globex Corp", "--owner", "Bob", "--close-date",
                "2026-12-01")
    c = crm.new("Gamma", "--owner", "alice")
    crm("stage", b, "negotiation")
    crm("close", c, "--lost")
    assert [r["id"] for r in crm.json("list")] == [c, b, a]  # by close date (c closed on OPP_TODAY)
    row = crm.json("list", "--owner", "ALICE", "--status", "open")[0]
    assert row["id"] == a and row["amount"] == "1000.00"
    assert set(row) >= {"id", "name", "customer", "stage", "status", "amount", "currency",
                        "close_date", "owner"}
    assert [r["id"] for r in crm.json("list", "--customer", "globex")] == [b]
    assert [r["id"] for r in crm.json("list", "--stage", "Negotiation")] == [b]
    assert [r["id"] for r in crm.json("list", "--status", "lost")] == [c]
    csv_text = crm("list", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("id,name,customer,stage,status")
    assert f"{a},Alpha,Acme Corp,prospecting,open,10,1000.00," in csv_text
    table = crm("list").stdout
    assert "1,000.00 EUR" in table and "Alpha" in table
    assert "no opportunities match" in crm("list", "--owner", "nobody").stderr


def test_show_text(crm):
    opp_id = crm.new("Deal", "--objective", "3000")
    crm("add-product", opp_id, "SRV-01", "--qty", "2", "--discount", "10")
    out = crm("show", opp_id).stdout
    assert out.startswith(f"{opp_id}  Deal")
    assert "2,160.00 EUR  (from products)" in out and "3,000.00 EUR" in out
    assert "Products (1)" in out and "SRV-01" in out and "10 %" in out


def test_catalog_commands(crm):
    crm("catalog", "update", "SRV-01", "--price", "1300", "--name", "Support plan+")
    crm("catalog", "remove", "CONS")
    items = crm.json("catalog", "list")
    assert items == [{"sku": "LIC-10", "name": "Licence pack", "price": "99.99", "unit": None},
                     {"sku": "SRV-01", "name": "Support plan+", "price": "1300.00",
                      "unit": "year"}]
    assert crm.git("log", "-1", "--format=%s").strip() == "catalog: remove CONS"
    assert "1,300.00 EUR" in crm("catalog", "list").stdout


def test_a_product_name_finds_one_product(crm, unchanged):
    """Imports find products by name, loosely: the typed commands keep names apart as
    'opp catalog import' does, so that the catalog's own CSV always imports back."""
    with unchanged:
        r = crm("catalog", "add", "LIC-20", "--name", "licence-pack", "--price", "5", code=1)
        assert "product LIC-10 is named 'Licence pack' already" in r.stderr
        r = crm("catalog", "update", "SRV-01", "--name", "LICENCE PACK", code=1)
        assert "product LIC-10 is named 'Licence pack' already" in r.stderr
    crm("catalog", "update", "LIC-10", "--name", "Licence Pack")  # its own name: fine
    crm("catalog", "add", "LIC-20", "--name", "Licence pack 20", "--price", "5")
    from conftest import Opp

    other = Opp(crm.root.parent / "other")
    other("init", str(other.root))
    other("--repo", other.root, "catalog", "import", "-",
          input=crm("catalog", "list", "--format", "csv").stdout)
    assert other.json("--repo", other.root, "catalog", "list") == crm.json("catalog", "list")


def test_a_ref_is_held_by_one_opportunity(crm, unchanged):
    a, b = crm.new("A"), crm.new("B")
    crm("set", a, "ref", "CRM-1")
    crm("set", a, "ref", "CRM-1")  # again: its own
    with unchanged:
        r = crm("set", b, "ref", "CRM-1", code=1)
    assert f"ref 'CRM-1' is held by {a} already" in r.stderr
    crm("set", a, "ref", "none")
    crm("set", b, "ref", "CRM-1")
    assert [(o["id"], o["ref"]) for o in crm.json("list") if o["ref"]] == [(b, "CRM-1")]
    # another file broken by a hand edit is not this command's business
    c = crm.new("C")
    crm.file(c).write_text(crm.file(c).read_text().replace("stage: prospecting",
                                                           "stage: nowhere"))
    crm.git("-c", "user.name=h", "-c", "user.email=h@x", "commit", "-qam", "hand")
    with unchanged:
        r = crm("set", a, "ref", "CRM-1", code=1)
    assert f"ref 'CRM-1' is held by {b} already" in r.stderr
    crm("set", a, "ref", "CRM-2")


def test_catalog_price_change_keeps_existing_lines(crm):
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "SRV-01")
    crm("catalog", "update", "SRV-01", "--price", "2000")
    assert crm.json("show", opp_id)["amount"] == "1200.00"


def test_catalog_module_off(crm, unchanged):
    opp_id = crm.new("Deal")
    path = crm.root / "opp.yaml"
    path.write_text(path.read_text().replace("catalog: true", "catalog: false"))
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "off"],
                   cwd=crm.root, check=True)
    with unchanged:
        for args in [("add-product", opp_id, "SRV-01"), ("catalog", "list"),
                     ("catalog", "add", "X", "--name", "X", "--price", "1")]:
            r = crm(*args, code=1)
            assert "catalog module is off" in r.stderr and "opp.yaml" in r.stderr
    assert crm.json("show", opp_id)["products"] == []  # JSON keeps the contract's shape
    assert "Products" not in crm("show", opp_id).stdout


def test_repo_discovery(crm, tmp_path, monkeypatch):
    opp_id = crm.new("Deal")
    (crm.root / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(crm.root / "deep" / "er")
    assert crm.json("show", opp_id)["id"] == opp_id
    monkeypatch.chdir(tmp_path)
    assert crm.json("--repo", str(crm.root), "show", opp_id)["id"] == opp_id
    r = crm("show", opp_id, code=1)
    assert "not inside an opp data repo" in r.stderr and "opp init" in r.stderr
    r = crm("show", opp_id, "--format", "json", env={"OPP_REPO": str(crm.root)})
    assert json.loads(r.stdout)["id"] == opp_id
    r = crm("--repo", str(tmp_path / "nowhere"), "list", code=1)
    assert "not an opp data repo" in r.stderr


def test_broken_settings_are_named(crm):
    (crm.root / "opp.yaml").write_text("currency: EUR\nstages: [\n")
    r = crm("list", code=1)
    assert r.stderr.startswith("error: opp.yaml:")
    (crm.root / "opp.yaml").write_text("- a list\n")
    assert "expected a mapping" in crm("list", code=1).stderr
    (crm.root / "opp.yaml").write_text("currency: EUR\nstagez: []\n")
    r = crm("list", code=1)
    assert "opp.yaml:2:1: stagez: unknown field" in r.stderr
    (crm.root / "opp.yaml").unlink()
    assert "not inside an opp data repo" in crm("list", code=1).stderr


def test_hand_edits_are_never_overwritten(crm, unchanged):
    opp_id = crm.new("Deal")
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("name: Deal", "name: Hand edited"))
    head = crm.head()
    r = crm("set", opp_id, "objective", "5", code=1, env={"OPP_USER": "Ann Seller"})
    assert "uncommitted changes" in r.stderr and f"opportunities/{opp_id}.yaml" in r.stderr
    assert "Hand edited" in path.read_text() and crm.head() == head
    # no git identity here: the hint's git commit carries opp's, so that it works as given
    hint = (f"git -c user.name='Ann Seller' -c user.email=Ann.Seller@opp.invalid commit "
            f"opportunities/{opp_id}.yaml")
    assert hint in r.stderr
    subprocess.run(hint + " -m edit", shell=True, cwd=crm.root, check=True, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=60)
    assert crm.status() == "" and crm.git("log", "-1", "--format=%an").strip() == "Ann Seller"


@pytest.mark.parametrize("state", ["edited", "staged", "staged-then-restored",
                                   "removed-from-index", "replaced-by-a-folder",
                                   "made-executable", "staged-executable", "conflicted"])
def test_every_kind_of_uncommitted_change_is_refused(crm, state):
    """The quick check (file, index and HEAD hashed alike, modes 100644) never calls a
    changed file clean: each state below is refused, the file and index as they were."""
    opp_id = crm.new("Deal")
    rel = f"opportunities/{opp_id}.yaml"
    path = crm.file(opp_id)
    text = path.read_text()
    if state in ("edited", "staged", "staged-then-restored"):
        path.write_text(text.replace("name: Deal", "name: Edited"))
    if state in ("staged", "staged-then-restored"):
        crm.git("add", rel)
    if state == "staged-then-restored":  # the work tree equals HEAD, the index does not
        path.write_text(text)
    if state == "removed-from-index":
        crm.git("rm", "-q", "--cached", rel)
    if state == "made-executable":  # a change of mode only: git status calls it modified
        path.chmod(0o755)
    if state == "staged-executable":
        crm.git("update-index", "--chmod=+x", rel)
    if state == "conflicted":  # the same bytes at stages 1-3, none at stage 0
        blob = crm.git("rev-parse", f"HEAD:{rel}").strip()
        subprocess.run(
            ["git", "update-index", "--index-info"], cwd=crm.root, check=True, text=True,
            input=f"0 {'0' * 40}\t{rel}\n" + "".join(
                f"100644 {blob} {stage}\t{rel}\n" for stage in (1, 2, 3)))
    if state == "replaced-by-a-folder":
        path.unlink()
        path.mkdir()
        (path / "x").write_text("x")
    status, head = crm.status(), crm.head()
    r = crm("set", opp_id, "objective", "5", code=1)
    assert f"{rel} has uncommitted changes" in r.stderr
    assert crm.status() == status and crm.head() == head


def test_a_committed_bad_edit_is_refused_with_the_way_to_mend_it(crm, unchanged):
    """A typo committed by hand (git commit): opp cannot change a file it cannot read;
    the refusal names the place and says how to mend it."""
    opp_id = crm.new("Deal")
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("stage: prospecting", "stage: propsal"))
    crm.git("-c", "user.name=Hand", "-c", "user.email=h@example.com", "commit", "-qam", "typo")
    with unchanged:
        r = crm("stage", opp_id, "proposal", code=1)
    assert f"opportunities/{opp_id}.yaml:" in r.stderr and "unknown stage 'propsal'" in r.stderr
    assert "fix this one by hand (opp validate lists every problem)" in r.stderr


def test_a_change_keeps_the_file_s_committed_mode(crm):
    """An opportunity file committed executable by hand stays so: opp's commit changes
    its content only, and opp undo can restore it exactly."""
    opp_id = crm.new("Deal")
    crm.file(opp_id).chmod(0o755)
    crm.git("-c", "user.name=Hand", "-c", "user.email=h@example.com", "commit", "-qam", "+x")
    crm("note", opp_id, "still executable")
    assert "mode" not in crm.git("show", "--summary", "--format=", "HEAD")
    assert crm.status() == ""
    crm("undo")
    assert crm.status() == "" and "still executable" not in crm.file(opp_id).read_text()


def test_a_failing_commit_changes_nothing(crm):
    opp_id = crm.new("Deal")
    before = crm.file(opp_id).read_bytes()
    head = crm.head()
    hook = crm.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n")
    hook.chmod(0o755)
    r = crm("add-product", opp_id, "SRV-01", code=1)
    assert "git commit failed" in r.stderr and "hook says no" in r.stderr
    assert crm.file(opp_id).read_bytes() == before and crm.head() == head
    assert crm.status() == ""
    r = crm("new", "Other", "--customer", "X", code=1)
    assert crm.status() == "" and len(list((crm.root / "opportunities").iterdir())) == 1


def test_invalid_files_are_refused_by_reads_and_listed_by_validate(crm):
    good = crm.new("Good")
    bad = crm.new("Bad")
    crm("add-product", bad, "SRV-01")
    path = crm.file(bad)
    account = crm.json("show", bad)["customer_id"]
    path.write_text(path.read_text().replace("amount: 1200.00", "amount: 5.00")
                    .replace(f"customer: {account}", f"customer: {account}\ncolour: red"))
    r = crm("list", code=1)
    assert f"opportunities/{bad}.yaml:" in r.stderr
    assert crm.json("show", good)["id"] == good
    r = crm("validate", code=1)
    # line 1 is the schema line for editors
    assert f"opportunities/{bad}.yaml:5:1: colour: unknown field" in r.stdout
    r = crm("validate", "--format", "json", code=1)
    errors = json.loads(r.stdout)["errors"]
    assert errors == [{"path": f"opportunities/{bad}.yaml", "line": 5, "column": 1,
                       "message": "colour: unknown field"}]
    path.write_text(path.read_text().replace("colour: red\n", ""))
    errors = json.loads(crm("validate", "--format", "json", code=1).stdout)["errors"]
    assert errors == [{"path": f"opportunities/{bad}.yaml", "line": 6, "column": 9,
                       "message": "amount 5.00 should be 1200.00, the total of the products (R4)"}]
    (crm.root / "opportunities" / "notes.txt").write_text("hello")
    (crm.root / "opportunities" / "zzzz.yaml").write_text("id: [")
    out = crm("validate", code=1).stdout
    assert "notes.txt: not an opportunity file" in out
    assert "zzzz.yaml:2:1: did not find expected node content" in out
    path.write_text(path.read_text().replace("amount: 5.00", "amount: 1200.00"))
    (crm.root / "opportunities" / "notes.txt").unlink()
    (crm.root / "opportunities" / "zzzz.yaml").unlink()
    r = crm("validate")
    assert json.loads(crm("validate", "--format", "json").stdout) == {"errors": []}
    assert "valid" in r.stderr


def test_numbers_yaml_reads_otherwise_are_refused_at_their_line(crm):
    """amount: 010 is 8 to YAML 1.1, 0x10 is 16, 1:30 is 90: a hand edit never stores a
    number nobody meant; validate and every read name the line."""
    opp_id = crm.new("Deal", "--amount", "10")
    path = crm.file(opp_id)
    text = path.read_text()
    for written, words in (("010", "'010' is an octal number to YAML; write 10 without the "
                                   "leading zero"),
                           ("0x10", "'0x10' is not a plain decimal number"),
                           ("1_000", "'1_000' has an underscore"),
                           ("1:30", "'1:30' is a base-60 number to YAML")):
        path.write_text(text.replace("amount: 10.00", f"amount: {written}"))
        [error] = json.loads(crm("validate", "--format", "json", code=1).stdout)["errors"]
        assert (error["path"], error["line"], error["column"]) == (
            f"opportunities/{opp_id}.yaml", 6, 9) and words in error["message"], error
        assert words in crm("pipeline", code=1).stderr
    path.write_text(text.replace("amount: 10.00", "amount: 10"))
    assert crm.json("show", opp_id)["amount"] == "10.00"


def test_validate_given_paths(crm):
    opp_id = crm.new("Deal")
    (crm.root / "opportunities" / "bad1.yaml").write_text("nope: 1\n")
    crm("validate", f"opportunities/{opp_id}.yaml", "opp.yaml", code=1)  # opp.yaml: all
    (crm.root / "opportunities" / "bad1.yaml").unlink()
    crm("validate", f"opportunities/{opp_id}.yaml", "catalog.yaml")
    (crm.root / "opportunities" / "bad1.yaml").write_text("nope: 1\n")
    crm("validate", "opportunities/bad1.yaml", code=1)
    # a path that is not checked must never pass as valid
    outside = crm.root.parent / "elsewhere.yaml"
    outside.write_text("a: [\n")
    for path, words in [("nonexist.yaml", "nonexist.yaml: no such file"),
                        (str(outside), "not in the data repo"),
                        ("/etc/passwd", "not in the data repo"),
                        (".gitattributes", "not a file opp checks")]:
        r = crm("validate", f"opportunities/{opp_id}.yaml", path, code=1)
        assert words in r.stdout, (path, r.stdout)


def test_no_traceback_for_internal_errors(crm, monkeypatch):
    from oppcli.domain import opportunity

    monkeypatch.setattr(opportunity, "set_objective", lambda *a: 1 / 0)
    opp_id = crm.new("Deal")
    r = crm("set", opp_id, "objective", "5", code=1)
    assert "internal error: ZeroDivisionError" in r.stderr and "OPP_DEBUG" in r.stderr


def run_opp(cwd, *args):
    return subprocess.run([sys.executable, "-m", "oppcli", *args], cwd=cwd, capture_output=True,
                          text=True)


def test_parallel_changes_queue_on_the_lock_and_lose_nothing(crm):
    opp_id = crm.new("Deal")
    before = crm.commits()
    procs = [subprocess.Popen([sys.executable, "-m", "oppcli", "add-product", opp_id, "LIC-10",
                               "--qty", str(i + 1)], cwd=crm.root, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for i in range(8)]
    for p in procs:
        assert p.wait() == 0, p.stderr.read()
    data = crm.json("show", opp_id)
    assert sorted(int(p["quantity"]) for p in data["products"]) == list(range(1, 9))
    assert data["amount"] == f"{99.99 * 36:.2f}"
    assert crm.commits() == before + 8 and crm.status() == ""


def test_console_entry_point_and_exit_codes(crm):
    r = run_opp(crm.root, "show", "nope")
    assert r.returncode == 1 and r.stderr.count("\n") == 1
    r = run_opp(crm.root, "add-product")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Missing argument" in r.stderr
    r = run_opp(crm.root, "--help")
    assert r.returncode == 0 and "add-product" in r.stdout


# ---------------------------------------------------------------- found by a try-out


@pytest.mark.parametrize("args, words", [
    (("catalog", "add", "H", "--name", "H", "--price", "999999999999999999999999999999.99"),
     "at most 999999999999.99"),
    (("new", "X", "--customer", "Y", "--amount", "1000000000000"), "at most 999999999999.99"),
    (("new", "X", "--customer", "Y", "--objective", "1e30"), "not a number"),
    (("add-product", "{id}", "SRV-01", "--qty", "1000000001"), "at most 1000000000"),
    (("set", "{id}", "amount", "2,000"), "ambiguous; write 2000 if the comma separates "
                                         "thousands, or 2.0 if it is a decimal comma"),
    (("set", "{id}", "amount", "12,5"), "write decimals with a dot: 12.5"),
])
def test_money_has_bounds_and_clear_hints(crm, unchanged, args, words):
    opp_id = crm.new("Deal")
    with unchanged:
        r = crm(*[a.replace("{id}", opp_id) for a in args], code=2)
    assert words in r.stderr


def test_the_largest_amounts_never_overflow_a_report(crm):
    crm("catalog", "add", "BIG", "--name", "Big", "--price", "999999999999.99")
    for _ in range(3):
        opp_id = crm.new("Deal", "--objective", "999999999999.99")
        crm("add-product", opp_id, "BIG")
    r = crm("add-product", opp_id, "BIG", "--qty", "1000000000", "--discount", "33.33", code=1)
    assert "the line total would be 666,699,999,999,993,333,000.00" in r.stderr
    r = crm("add-product", opp_id, "BIG", code=1)
    assert "the amount would be 1,999,999,999,999.98" in r.stderr
    totals = crm.json("pipeline")["totals"][0]
    assert totals["open_amount"] == "2999999999999.97"
    crm("forecast")
    crm("validate")


def test_hand_edited_money_beyond_the_bound_is_invalid(crm):
    opp_id = crm.new("Deal", "--amount", "5")
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("amount: 5.00", "amount: 99999999999999999999.99"))
    r = crm("validate", code=1)
    assert "amount: money is at most 999999999999.99" in r.stdout
    assert "amount: money is at most" in crm("pipeline", code=1).stderr


@pytest.mark.parametrize("var, value, words", [
    ("OPP_TODAY", "garbage", "OPP_TODAY='garbage' is not a date"),
    ("OPP_TODAY", "2026-13-01", "OPP_TODAY='2026-13-01' is not a date"),
    ("OPP_NOW", "garbage", "OPP_NOW='garbage' is not an ISO 8601 time"),
    ("OPP_LOCK_TIMEOUT", "abc", "OPP_LOCK_TIMEOUT='abc' is not a number of seconds"),
])
def test_malformed_environment_is_refused_naming_the_variable(crm, unchanged, var, value, words):
    opp_id = crm.new("Deal")
    with unchanged:
        for args in (("note", opp_id, "x"), ("new", "T", "--customer", "U"), ("list",)):
            r = crm(*args, code=2, env={var: value})
            assert words in r.stderr


def test_opp_today_and_now(crm):
    opp_id = crm.new("Deal", env={"OPP_TODAY": "2026-01-15"})
    assert crm.json("show", opp_id)["created"] == "2026-01-15"
    crm("note", opp_id, "hello", env={"OPP_TODAY": "2026-01-15"})
    assert crm.json("show", opp_id)["notes"][0]["date"].startswith("2026-01-15T")
    crm("note", opp_id, "again", env={"OPP_NOW": "2026-02-01T10:30:00+01:00"})
    assert crm.json("show", opp_id)["notes"][1]["date"] == "2026-02-01T10:30:00+01:00"


def test_a_catalog_update_that_changes_nothing_commits_nothing(crm):
    crm("catalog", "update", "srv-01", "--price", "1300")
    assert crm.git("log", "-1", "--format=%s").strip() == "catalog: update SRV-01 price=1300.00"
    before = crm.commits()
    r = crm("catalog", "update", "SRV-01", "--price", "1300")
    assert "nothing to change" in r.stderr and crm.commits() == before and crm.status() == ""
    crm("catalog", "update", "SRV-01", "--unit", "none")
    assert crm.json("catalog", "list")[-1]["unit"] is None


def test_product_lines_by_id_prefix(crm, unchanged):
    opp_id = crm.new("Deal")
    crm("add-product", opp_id, "SRV-01")
    crm("add-product", opp_id, "SRV-01", "--discount", "50")
    lines = [p["id"] for p in crm.json("show", opp_id)["products"]]
    with unchanged:
        r = crm("remove-product", opp_id, "SRV-01", code=2)
        assert all(line in r.stderr for line in lines)
        r = crm("update-product", opp_id, "zzzzzz", "--qty", "2", code=1)
        assert f"{lines[0]} (SRV-01)" in r.stderr
    crm("update-product", opp_id, lines[1][:4], "--qty", "2")
    assert crm.json("show", opp_id)["products"][1]["quantity"] == "2"


def test_errors_stay_on_one_line(crm):
    r = crm("catalog", "add", "A\nB", "--name", "x", "--price", "1", code=2)
    assert "'A\\nB'" in r.stderr


def test_repo_hints(crm, tmp_path):
    r = crm("--repo", str(crm.root / "opportunities"), "list", code=1)
    assert f"inside the data repo {crm.root}; use --repo {crm.root}" in r.stderr
    (tmp_path / "notes.txt").write_text("x")
    r = crm("--repo", str(tmp_path / "notes.txt"), "list", code=1)
    assert "it is a file" in r.stderr


def test_bare_opp_prints_help(crm):
    r = crm()
    assert r.stdout.startswith("Usage: opp") and "add-product" in r.stdout
    assert crm("quote").stdout.startswith("Usage: opp quote")


def test_an_impossible_date_is_located(crm):
    opp_id = crm.new("Deal", "--close-date", "2027-01-31")
    path = crm.file(opp_id)
    path.write_text(path.read_text().replace("2027-01-31", "2026-02-30"))
    (error,) = json.loads(crm("validate", "--format", "json", code=1).stdout)["errors"]
    assert error["line"] == 10 and error["column"] == 13
    assert "'2026-02-30' is not a real date" in error["message"]


def test_delete(crm, unchanged, tmp_path):
    opp_id = crm.new("Deal")
    (tmp_path / "offer.pdf").write_bytes(b"%PDF")
    crm("doc", "attach", opp_id, tmp_path / "offer.pdf")
    with unchanged:
        r = crm("delete", opp_id, code=2)
        assert "--yes" in r.stderr
    before = crm.commits()
    crm("delete", opp_id[:5], "--yes")
    assert crm.commits() == before + 1 and crm.status() == ""
    assert not crm.file(opp_id).exists() and not (crm.root / "documents" / opp_id).exists()
    assert crm.git("log", "-1", "--format=%s").strip() == f"{opp_id} Deal: delete"
    assert crm("show", opp_id, code=1)
    crm("undo")
    assert crm.json("show", opp_id)["documents"][0]["size"] == 4


def test_help_groups_every_command_in_a_section(crm):
    from oppcli.cli import cli
    from oppcli.cli.app import SECTIONS

    placed = {n for names in SECTIONS.values() for n in names}
    visible = {n for n, c in cli.commands.items() if not c.hidden}
    assert visible <= placed, visible - placed
    out = crm("--help").stdout
    assert "Deals:" in out and "Reports:" in out and "Other:" not in out


def test_each_command_is_loaded_from_the_modules_that_define_it(crm):
    """The console script imports a command's modules when it is looked up (#25):
    ``MODULES`` names, for every top-level command, each module that defines it or one
    of its sub-commands; a report run that way loads no other command's module."""
    from oppcli.cli import cli
    from oppcli.cli.app import MODULES

    def defining(command, out: set[str]) -> set[str]:
        if command.callback is not None:
            out.add(command.callback.__module__.rsplit(".", 1)[1])
        for sub in getattr(command, "commands", {}).values():
            defining(sub, out)
        return out

    assert {n: set(MODULES[n]) for n in MODULES} == \
        {n: defining(c, set()) for n, c in cli.commands.items()}
    probe = ("import sys\nfrom oppcli.cli.app import cli\n"
             "try:\n    cli.main(['--repo', sys.argv[1], *sys.argv[2:]])\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('oppcli.cli.')))")
    out = subprocess.run([sys.executable, "-c", probe, str(crm.root), "pipeline", "--format",
                          "json"], capture_output=True, text=True, check=True).stdout
    report, _, last = out.rstrip("\n").rpartition("\n")
    loaded = json.loads(last.replace("'", '"'))
    assert "oppcli.cli.reports" in loaded
    assert not {"oppcli.cli.commands", "oppcli.cli.opportunities", "oppcli.cli.sync"} & \
        set(loaded)
    assert json.loads(report)


def test_the_top_level_help_imports_no_command_module(tmp_path):
    """'opp --help' and a bare 'opp' list the commands from ``SUMMARIES`` (#18): they
    import no command module, nothing of storage, reading or the models, and print what
    they print with every command loaded. ``SUMMARIES`` is each visible command's first
    paragraph of help."""
    from oppcli.cli import cli
    from oppcli.cli.app import MODULES, SUMMARIES

    helps = {n: c.help for n, c in cli.commands.items() if not c.hidden}
    assert {n: " ".join(h.split("\n\n")[0].split()) for n, h in helps.items()} == SUMMARIES
    modules = {f"oppcli.cli.{m}" for names in MODULES.values() for m in names}
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPP_")}
    env["COLUMNS"] = "100"
    for args in (["--help"], ["-h"], []):
        every = subprocess.run(
            [sys.executable, "-c", f"from oppcli.cli import cli\ncli.main({args!r}, 'opp')"],
            capture_output=True, text=True, cwd=tmp_path, env=env).stdout
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "oppcli", *args],
                             capture_output=True, text=True, cwd=tmp_path, env=env)
        loaded = {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines()
                  if line.startswith("import time:")}
        assert run.returncode == 0 and run.stdout == every and "add-product" in every
        assert "oppcli.cli.app" in loaded and not loaded & modules, loaded & modules
        assert not {m for m in loaded if m.startswith(
            ("oppcli.store", "oppcli.read", "oppcli.domain", "pydantic", "yaml"))}


def test_a_plumbing_commit_is_the_commit_git_commit_would_make(crm):
    """Without hooks or signing, a change commits by write-tree/commit-tree/update-ref:
    same tree, parent, author, message and reflog entry, the index left clean."""
    opp_id = crm.new("Deal")
    head = crm.head()
    crm("add-product", opp_id, "SRV-01")
    assert crm.git("rev-parse", "HEAD^").strip() == head
    assert crm.status() == "" and crm.git("diff", "--cached", "--name-only").strip() == ""
    subject = crm.git("log", "-1", "--format=%s").strip()
    assert opp_id in subject
    assert crm.git("reflog", "-1", "--format=%gs").strip() == f"commit: {subject}"
    assert crm.git("log", "-1", "--format=%an").strip() == crm.git(
        "log", "-1", "--format=%an", head).strip()
    assert crm.git("fsck", "--no-progress").strip() == ""


@pytest.mark.parametrize("where", ["hooks-folder", "core.hooksPath", "signing"])
def test_hooks_and_signing_still_get_git_commit(crm, tmp_path, where):
    """A commit hook (in .git/hooks or core.hooksPath, relative or not) or
    commit.gpgsign makes opp commit with `git commit`, so they act as ever."""
    opp_id = crm.new("Deal")
    marker = tmp_path / "hook-ran"
    if where == "signing":
        crm.git("config", "commit.gpgsign", "true")
        crm.git("config", "gpg.program", "false")  # a signer that fails: proof it was asked
        r = crm("add-product", opp_id, "SRV-01", code=1)
        assert "git commit failed" in r.stderr and crm.status() == ""
        return
    folder = crm.root / (".git/hooks" if where == "hooks-folder" else "my-hooks")
    folder.mkdir(exist_ok=True)
    if where == "core.hooksPath":
        crm.git("config", "core.hooksPath", "my-hooks")
    hook = folder / "post-commit"
    hook.write_text(f"#!/bin/sh\necho ran > '{marker}'\n")
    hook.chmod(0o755)
    crm("add-product", opp_id, "SRV-01")
    assert marker.read_text() == "ran\n"


def test_the_plumbing_commit_works_in_a_sha256_repo_and_reflogs_the_user(tmp_path, monkeypatch):
    """An unborn branch of a SHA-256 repo takes the first commit (update-ref's "no old
    value" is the empty string, not forty zeros), and the reflog names opp's user."""
    from conftest import Opp

    monkeypatch.setenv("OPP_USER", "Rita Reflog")
    root = tmp_path / "crm"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(root)], check=True)
    opp = Opp(root)
    monkeypatch.chdir(root)
    opp("init", ".")
    opp("catalog", "add", "SRV-01", "--name", "Support plan", "--price", "1200")
    opp_id = opp.new("Deal")
    opp("add-product", opp_id, "SRV-01")
    assert len(opp.head()) == 64 and opp.commits() == 4 and opp.status() == ""
    reflog = opp.git("reflog", "--format=%gn|%gs")
    assert reflog.splitlines()[-1].startswith("Rita Reflog|commit (initial): ")
    assert all(line.startswith("Rita Reflog|commit: ") for line in reflog.splitlines()[:-1])


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_signing_asked_in_any_spelling_goes_through_git_commit(crm, value):
    """`[commit] gpgsign` with no value, `yes`, a non-zero number: all true to git."""
    config = crm.root / ".git" / "config"
    line = "\tgpgsign\n" if value == "" else f"\tgpgsign = {value}\n"
    config.write_text(config.read_text() + "[commit]\n" + line + "[gpg]\n\tprogram = false\n")
    r = crm("new", "Deal", "--customer", "Acme", code=1)
    assert "git commit failed" in r.stderr and crm.status() == ""


def test_hooks_set_in_the_config_go_through_git_commit(crm):
    """git 2.54 runs hooks named in its config (hook.NAME.event); opp leaves them to
    git commit, whatever git version reads them."""
    from oppcli.store.repo import Repo

    repo = Repo(crm.root)
    assert repo.plain_commit()
    crm.git("config", "--add", "hook.lint.event", "pre-push")
    crm.git("config", "--add", "hook.lint.event", "commit-msg")
    assert not Repo(crm.root).plain_commit()


def test_a_change_that_puts_files_back_as_head_has_them_makes_no_commit(crm):
    """A schema copy deleted by hand and written back by `opp init --upgrade`: the tree
    is HEAD's, so no commit (never an empty one) and the work tree clean."""
    (crm.root / ".opp" / "schemas" / "catalog.schema.json").unlink()
    head = crm.head()
    crm("init", "--upgrade", ".")
    assert crm.head() == head and crm.status() == ""


def test_objects_are_written_quickly_unless_the_user_chose_a_compression(crm):
    """A change's new tree is written uncompressed (a 4 MB tree at 100,000 files), unless
    the repo's config names a compression; either way git reads what opp wrote."""
    from oppcli.store.repo import Repo

    assert Repo(crm.root).quick_objects() == {"core.looseCompression": "0"}
    opp_id = crm.new("Deal")
    crm.git("fsck", "--no-progress", "--strict")
    crm.git("config", "core.compression", "9")
    assert Repo(crm.root).quick_objects() == {}
    crm.git("config", "--unset", "core.compression")
    crm.git("config", "core.looseCompression", "9")
    assert Repo(crm.root).quick_objects() == {}
    crm("note", opp_id, "written with the user's own level")
    crm.git("fsck", "--no-progress", "--strict")
    assert crm.status() == "" and crm.json("show", opp_id)["notes"][0]["text"].startswith("written")


def test_loose_objects_are_packed_by_their_size(git_housekeeping, crm, monkeypatch):
    """Every change writes the tree of opportunities/ anew (4.1 MB at 100,000 deals):
    opp packs the loose objects once about LOOSE_BUDGET bytes were written, not after
    git gc's 6,700 objects, in the background; never when the user turned git's
    automatic housekeeping off."""
    import time

    from oppcli.store import transaction

    def loose() -> int:
        counts = dict(line.split(": ") for line in crm.git("count-objects", "-v").splitlines())
        return int(counts["count"])

    def packed_soon() -> bool:
        for _ in range(300):
            if loose() == 0:
                return True
            time.sleep(0.1)
        return False

    # the chance is the bytes a change writes (0.4 of the index) over the budget
    assert transaction.pack_chance(9_600_000) == pytest.approx(9_600_000 * 0.4 / (96 << 20))
    assert 1 / 30 < transaction.pack_chance(9_600_000) < 1 / 25   # 100,000 deals
    assert transaction.pack_chance(9_600) < 1 / 20_000            # 100 deals: git gc's affair
    assert transaction.pack_chance(10 ** 12) == 1.0
    opp_id = crm.new("Deal")
    assert loose() > 0
    monkeypatch.setattr(transaction, "LOOSE_BUDGET", 1)           # every change packs
    crm("note", opp_id, "packed")
    assert packed_soon()
    crm.git("fsck", "--no-progress", "--strict")
    assert crm.status() == "" and crm.json("show", opp_id)["notes"][0]["text"] == "packed"
    for key, value in (("gc.auto", "0"), ("gc.auto", "-1"), ("maintenance.auto", "false")):
        crm.git("config", key, value)
        crm("note", opp_id, f"{key} {value}: left loose")
        time.sleep(0.3)
        assert loose() > 0 and crm.status() == ""
        crm.git("config", "--unset-all", key)
    # the last value of a key set twice is git's (a global 6700, then the repo's 0)
    crm.git("config", "--add", "gc.auto", "6700")
    crm.git("config", "--add", "gc.auto", "0k")
    crm("note", opp_id, "still loose")
    time.sleep(0.3)
    assert loose() > 0
    crm.git("config", "--unset-all", "gc.auto")
    crm("note", opp_id, "packed again")
    assert packed_soon()
    # a split index counts with its shared part
    crm.git("config", "core.splitIndex", "true")
    crm.git("update-index", "--split-index")
    shared = [p for p in (crm.root / ".git").iterdir() if p.name.startswith("sharedindex.")]
    assert shared and transaction._index_bytes(crm.root / ".git") == \
        (crm.root / ".git" / "index").stat().st_size + max(p.stat().st_size for p in shared)


def test_a_key_set_at_several_levels_is_worth_its_last_value(crm):
    """git's own reading: user.name set globally and in the repo is the repo's."""
    from oppcli.store.repo import Repo

    crm.git("config", "--add", "user.name", "Global Name")
    crm.git("config", "--add", "user.name", "Repo Name")
    crm.git("config", "user.email", "repo@example.com")
    assert Repo(crm.root).git_config["user.name"] == "Repo Name"
    opp_id = crm.new("Deal")
    assert crm.git("log", "-1", "--format=%an <%ae>").strip() == "Repo Name <repo@example.com>"
    assert crm.json("show", opp_id)["owner"] == "Repo Name"


def test_a_whole_id_is_found_without_listing_every_file(crm, monkeypatch):
    """`opp show ID` and every change name one file: at 100,000 opportunities listing the
    folder cost a tenth of a second. Prefixes and unknown ids still list it."""
    from oppcli import errors
    from oppcli.store.repo import Repo

    opp_id = crm.new("Deal")
    other = crm.new("Other")
    repo = Repo(crm.root)
    listed = []
    real_ids = Repo.ids
    monkeypatch.setattr(Repo, "ids", lambda self: listed.append(1) or real_ids(self))
    assert repo.resolve(opp_id) == opp_id and repo.resolve(f" {opp_id.upper()} ") == opp_id
    assert listed == []
    assert repo.resolve(other[:7]) == other and listed == [1]
    for ref in ("zzzzzzzz", "../opp", "opportunities/x", "a" * 40):
        with pytest.raises(errors.OppError):
            repo.resolve(ref)
    assert opp_id in repo.taken_ids() and "zzzzzzzz" not in repo.taken_ids()


def test_a_past_commit_resolves_only_its_own_ids(crm):
    """Found by review: the whole-id shortcut of Repo.resolve looks at the working tree;
    a snapshot of a past commit answers from that commit's files."""
    from datetime import date

    from oppcli import errors
    from oppcli.read import history

    old = crm.new("Old deal")
    view = history.snapshot(history.Repo(crm.root), date.today())
    new = crm.new("New deal")
    assert view.resolve(old) == old
    with pytest.raises(errors.NotFound):
        view.resolve(new)
    assert history.Repo(crm.root).resolve(new) == new


def test_a_past_commit_is_read_only(crm):
    """Found by mypy: Snapshot.change was Snapshot.transaction, which takes one argument,
    so a change to a past commit failed with a TypeError instead of saying why."""
    from datetime import date

    from oppcli import errors
    from oppcli.read import history
    from oppcli.store.repo import Repo

    opp_id = crm.new("Old deal")
    view = history.snapshot(Repo(crm.root), date.today())
    for start in (lambda: view.transaction("x"), lambda: view.change(opp_id, "set", "x")):
        with pytest.raises(errors.RepoError, match="read-only"), start():
            pass


def test_a_mistyped_command_suggests_the_one_meant(crm):
    """The console script loads a command's module only when it runs (#18): a mistyped
    top-level command is still compared with every command, as a sub-command is."""
    for typed, hint in (("valdiate", "Did you mean 'validate'?"),
                        ("acount", "(Possible options: account, contact)"),
                        ("lst", "(Possible options: list, set)")):
        r = run_opp(crm.root, typed)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert f"No such command '{typed}'. {hint} (see 'opp --help')" in r.stderr, r.stderr
    r = run_opp(crm.root, "merge-drive")  # a hidden command is never suggested
    assert "Did you mean" not in r.stderr and r.returncode == 2
    r = run_opp(crm.root, "catalog", "lst")
    assert "Did you mean 'list'?" in r.stderr and r.returncode == 2


def imported_by(*args: str, env: dict | None = None) -> set[str]:
    """The modules ``opp ARGS`` imports, run as the console script runs (-X importtime)."""
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "oppcli", *args],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in run.stderr.splitlines()
            if line.startswith("import time:")}


# What a change (opp note, opp add-product) needs not and no longer imports (#25): the
# search for pydantic plugins (importlib.metadata and the entry points of every package,
# ~7 % of a change), PyYAML (~10 %: files opp wrote are read and written without it),
# shutil (~1 %: the terminal's size, off a terminal, and a killed sync's repair).
NOT_FOR_A_CHANGE = {"importlib.metadata", "email.message", "zipfile", "yaml", "shutil"}


def test_a_change_imports_no_more_than_it_needs(crm):
    """A change validates with pydantic, reads and writes its files and commits, and
    imports nothing of ``NOT_FOR_A_CHANGE``: a cut import stays cut."""
    opp_id = crm.new("Deal")
    for args in (["note", opp_id, "Called back"], ["add-product", opp_id, "SRV-01"]):
        loaded = imported_by("--repo", str(crm.root), *args)
        assert "pydantic" in loaded and "oppcli.domain.model" in loaded
        assert not NOT_FOR_A_CHANGE & loaded, NOT_FOR_A_CHANGE & loaded
    assert crm.git("log", "-2", "--format=%s").splitlines()[1].endswith('note "Called back"')
    assert crm.json("show", opp_id)["products"][0]["sku"] == "SRV-01"


def python_lines(code: str) -> list[str]:
    """The lines a fresh Python running ``code`` prints (it must succeed)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_no_pydantic_plugin_in_opps_process_only():
    """The loader put in place of pydantic's finds no plugin, changes no environment
    variable (git's hooks, the editor and the pager see the user's), and hands anything
    else a pydantic may ask of it to the real loader."""
    probe = (
        "import os, sys\n"
        "from oppcli.cli import without_pydantic_plugins\n"
        "before = dict(os.environ)\n"
        "without_pydantic_plugins()\n"
        "from oppcli.domain.model import Opportunity\n"
        "Opportunity.model_rebuild(force=True)\n"
        "from pydantic.plugin._loader import get_plugins\n"
        "print(list(get_plugins()), dict(os.environ) == before,\n"
        "      'importlib.metadata' in sys.modules)\n"
        "from pydantic.plugin._loader import PYDANTIC_ENTRY_POINT_GROUP\n"
        "print(PYDANTIC_ENTRY_POINT_GROUP, sys.modules['pydantic.plugin._loader'].__file__)\n")
    out = python_lines(probe)
    assert out[0] == "[] True False"
    assert out[1].startswith("pydantic ") and out[1].endswith("_loader.py")


def test_the_console_script_collects_garbage_every_100000_objects():
    """opp's process (``main``) waits for 100,000 new objects before the collector's
    first pass, and keeps the older generations' thresholds; the collector stays on, so
    a long command still frees garbage in cycles."""
    probe = (
        "import gc, os, sys\n"
        "exit = os._exit\n"
        "def leave(code):\n"
        "    print(gc.get_threshold(), gc.isenabled(), code, flush=True)\n"
        "    exit(0)\n"
        "os._exit = leave\n"
        "sys.argv = ['opp', '--version']\n"
        "from oppcli.cli import main\n"
        "print(gc.get_threshold(), flush=True)\n"
        "main()\n")
    out = python_lines(probe)
    before = out[0].strip("()").split(", ")  # Python's own (700 until 3.13, then 2000)
    assert out[-1] == f"(100000, {before[1]}, {before[2]}) True 0"


def test_pydantic_asks_its_plugin_loader_for_get_plugins_alone():
    """What ``without_pydantic_plugins`` relies on, in the pydantic installed: its modules
    import ``get_plugins`` and nothing else from ``plugin._loader``, inside a function
    (when a validator is built), never at import."""
    import ast
    from pathlib import Path

    import pydantic

    top = Path(pydantic.__file__).parent
    asked = []
    for path in top.rglob("*.py"):
        text = path.read_text()
        if "_loader" not in text:  # cannot import from plugin._loader: not parsed
            continue
        tree = ast.parse(text)
        inside = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                  for n in ast.walk(f)}
        package = path.relative_to(top).parent.parts
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = list(package[:len(package) - node.level + 1]) if node.level else []
                module = ".".join(["pydantic"] * (node.level > 0) + base + [node.module or ""])
                if module.removeprefix("pydantic.") == "plugin._loader":
                    asked += [(path.name, a.name, id(node) in inside) for a in node.names]
    assert asked and {(name, lazily) for _, name, lazily in asked} == \
        {("get_plugins", True)}, asked
