"""The customer's account id in the sheets (#20): ``opp export`` writes ``customer_id``
beside ``customer`` (CSV, TSV, xlsx), and ``opp import`` reads it back, so that an export
imported into another repo gives the same deals under the same account ids."""

from __future__ import annotations

import csv
import io

from conftest import Opp


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def fresh(tmp_path, name: str) -> Opp:
    other = Opp(tmp_path / name)
    other("init", str(other.root))
    return other


def make_deals(crm) -> dict[str, str]:
    acme = crm("account", "add", "Acme S.r.l.", "--alias", "ACME Italia").stdout.strip()
    deals = {"a": crm.new("A", "--customer", "acme srl", "--amount", "10"),
             "b": crm.new("B", "--customer", "ACME Italia"),
             "c": crm.new("C", "--customer", "Globex", "--close-date", "2027-03-01")}
    crm("partner", "add", deals["a"], "Initech", "--role", "reseller")
    crm("competitor", "add", deals["a"], "Globex")
    deals["acme"] = acme
    return deals


def test_export_writes_the_customers_account_id(crm):
    deals = make_deals(crm)
    exported = rows(crm("export").stdout)
    by_id = {r["id"]: r for r in exported}
    assert (by_id[deals["a"]]["customer"], by_id[deals["a"]]["customer_id"]) == (
        "Acme S.r.l.", deals["acme"])
    assert by_id[deals["b"]]["customer_id"] == deals["acme"]
    globex = crm.json("account", "show", "globex")["id"]
    assert by_id[deals["c"]]["customer_id"] == globex
    assert list(exported[0])[3:5] == ["customer", "customer_id"]
    tsv = crm("export", "--format", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[3:5] == ["customer", "customer_id"]
    # JSON has every panel: partners and competitors with their accounts' ids
    [a] = [r for r in crm.json("export") if r["id"] == deals["a"]]
    assert a["customer_id"] == deals["acme"]
    assert [(p["account"], p["account_id"]) for p in a["partners"]] == [
        ("Initech", crm.json("account", "show", "initech")["id"])]
    assert [(c["account"], c["account_id"]) for c in a["competitors"]] == [("Globex", globex)]


def test_csv_and_xlsx_exports_import_into_a_fresh_repo_with_the_same_account_ids(
        crm, tmp_path):
    make_deals(crm)
    exported = crm("export").stdout
    (tmp_path / "deals.csv").write_text(exported)
    crm("export", "--format", "xlsx", "-o", tmp_path / "deals.xlsx")
    accounts = {(a["id"], a["name"]) for a in crm.json("account", "list")
                if a["name"] != "Initech"}  # a partner only: not in the sheet
    for name in ("deals.csv", "deals.xlsx"):
        other = fresh(tmp_path, f"from-{name}")
        r = other("--repo", other.root, "import", tmp_path / name)
        assert "3 created" in r.stderr
        assert other("--repo", other.root, "export").stdout == exported
        assert {(a["id"], a["name"]) for a in other.json("--repo", other.root, "account",
                                                        "list")} == accounts
        head = other.head()  # the same file again changes nothing
        other("--repo", other.root, "import", tmp_path / name)
        assert other.head() == head
        other("--repo", other.root, "validate")
    head = crm.head()
    crm("import", tmp_path / "deals.xlsx")
    assert crm.head() == head


def test_customer_id_names_the_account_and_the_customer_may_be_blank(crm, tmp_path):
    deals = make_deals(crm)
    sheet = tmp_path / "in.csv"
    sheet.write_text(f"id,name,customer,customer_id\n{deals['c']},,,{deals['acme']}\n"
                     f",New deal,,{deals['acme']}\n,Other,ACME italia,{deals['acme']}\n")
    crm("import", sheet)
    by_name = {r["name"]: r for r in crm.json("list")}
    for name in ("C", "New deal", "Other"):
        assert by_name[name]["customer"] == "Acme S.r.l."
    assert crm.json("show", deals["c"])["customer_id"] == deals["acme"]
    # an id another repo gave: a customer named here takes this repo's account
    sheet.write_text("name,customer,customer_id\nX,Globex,zzzzzzzz\n")
    crm("import", sheet)
    assert len(crm.json("account", "list")) == 3


def test_customer_id_refusals_change_nothing(crm, unchanged, tmp_path):
    deals = make_deals(crm)
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "name,customer,customer_id\n"
        f"A,Globex,{deals['acme']}\n"     # the two cells name two accounts
        "B,,zzzzzzzz\n"                   # an unknown id and no name
        "C,Umbrella,not-an-id\n"          # no account id at all
        "D,Gamma,yyyyyyyy\nE,Delta,yyyyyyyy\n"  # one id, two new customers
        "F,Hooli,wwwwwwww\nG,hooli inc,xxxxxxxx\n")  # one new customer, two ids
    with unchanged:
        r = crm("import", sheet, code=1)
    assert r.stderr == f"error: 5 problem(s) in 5 row(s) of {sheet}; nothing was imported\n"
    assert (f"bad.csv:2: customer_id {deals['acme']} is account {deals['acme']} "
            "(Acme S.r.l.), but customer is 'Globex'; clear one of the two cells") in r.stdout
    assert "bad.csv:3: customer_id zzzzzzzz is no account of this repo; give the " \
        "customer's name in the customer column too" in r.stdout
    assert "bad.csv:4: customer_id 'not-an-id' is not an opp account id" in r.stdout
    assert "bad.csv:6: customer_id yyyyyyyy is customer 'Gamma' on line 5, and 'Delta' " \
        "here; one id names one account" in r.stdout
    assert "bad.csv:8: customer 'hooli inc' has customer_id wwwwwwww on line 7, and " \
        "xxxxxxxx here; one account has one id" in r.stdout
