"""Defects found by the QA try-out: panels' flags and free text, imports' ids and names.

End to end with the ``crm`` fixture; refusals inside the ``unchanged`` guard.
"""

import pytest


@pytest.fixture
def deal(crm):
    return crm.new("Acme renewal")


def write(crm, name: str, text: str) -> str:
    path = crm.root.parent / name
    path.write_text(text)
    return f"../{name}"


# ---------------------------------------------------------------- panels


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


# ---------------------------------------------------------------- opp import --dry-run


def test_a_dry_run_shows_no_made_up_ids(crm, unchanged):
    known = crm.new("Known deal")
    path = write(crm, "sheet.csv", f"id,name,customer,amount\n,New deal,Acme,10\n"
                                   f"{known},Known deal,Acme Corp,20\nabcd1234,Given id,X,1\n")
    with unchanged:
        one = crm.json("import", path, "--dry-run")
        two = crm.json("import", path, "--dry-run")
        text = crm("import", path, "--dry-run").stdout
    assert one == two
    assert [(r["action"], r["id"]) for r in one["rows"]] == [
        ("create", None), ("update", known), ("create", "abcd1234")]
    lines = text.splitlines()
    assert lines[2].split()[:3] == ["2", "create", "(new)"]
    assert lines[3].split()[:3] == ["3", "update", known]
    assert lines[4].split()[:3] == ["4", "create", "abcd1234"]
    done = crm.json("import", path)  # the real import reports the ids it made
    made = done["rows"][0]["id"]
    assert made and made in {r["id"] for r in crm.json("list")}


# ---------------------------------------------------------------- opp catalog import


def test_catalog_import_by_name_updates_the_product_of_that_name(crm, unchanged):
    crm("catalog", "add", "GTX", "--name", "GTX Pro", "--price", "4800")
    path = write(crm, "products.csv", "Product Name,List Price\ngtx-pro,4900\nMG Special,55\n")
    with unchanged:
        dry = crm.json("catalog", "import", path, "--dry-run")
    assert [(r["action"], r["sku"]) for r in dry["rows"]] == [("create", "MG-Special"),
                                                              ("update", "GTX")]
    crm("catalog", "import", path)
    catalog = {p["sku"]: p for p in crm.json("catalog", "list")}
    assert "GTX-Pro" not in catalog and "gtx-pro" not in catalog
    assert (catalog["GTX"]["name"], catalog["GTX"]["price"]) == ("GTX Pro", "4900.00")
    # so an import naming the product finds one, not two
    sheet = write(crm, "deals.csv", "name,customer,amount,product\nBig one,Acme,4900,GTX Pro\n")
    crm("import", sheet)
    [row] = [r for r in crm.json("export") if r["name"] == "Big one"]
    assert row["product"] == "GTX"


def test_catalog_import_refuses_two_products_with_one_name(crm, unchanged):
    crm("catalog", "add", "GTX", "--name", "GTX Pro", "--price", "4800")
    path = write(crm, "bad.csv", "sku,name,price\nGTX2,GTX-PRO,1\nA1,Alpha,1\nA2,alpha,2\n"
                                 "CONS,Licence pack,3\n")
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    lines = r.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["../bad.csv:2", "../bad.csv:4",
                                                      "../bad.csv:5"]
    assert "name 'GTX-PRO' is taken: catalog product GTX is called 'GTX Pro'" in lines[0]
    assert "line 3 of this file gives it to A1" in lines[1]
    assert "catalog product LIC-10 is called 'Licence pack'" in lines[2]  # a rename
    assert r.stderr == "error: 3 problem(s) in 3 row(s) of ../bad.csv; nothing was imported\n"


def test_catalog_import_by_name_refuses_a_name_two_products_share(crm, unchanged):
    # two products that already share a name (by hand): a row by name cannot choose
    crm("catalog", "add", "GTX", "--name", "GTX Pro", "--price", "4800")
    text = (crm.root / "catalog.yaml").read_text().replace("name: Licence pack",
                                                           "name: GTX pro")
    (crm.root / "catalog.yaml").write_text(text)
    crm.git("-c", "user.name=H", "-c", "user.email=h@e", "commit", "-qam", "by hand")
    path = write(crm, "p.csv", "name,price\nGTX Pro,1\n")
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    assert "'GTX Pro' could be GTX or LIC-10; add a sku column" in r.stdout
