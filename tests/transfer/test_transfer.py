"""Import and export: the pure mapping and planning, then the commands end to end."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from oppcli import transfer
from oppcli.domain import checks, opportunity, products, stages
from oppcli.domain.model import Catalog, CatalogItem, Opportunity
from oppcli.domain.settings import Settings
from oppcli.errors import DataError, OppError, UsageError
from oppcli.store import yamlio

S = Settings()
TODAY = date(2026, 11, 26)
CATALOG = Catalog(products=[
    CatalogItem(sku="SRV-01", name="Support plan", price=D("1200.00")),
    CatalogItem(sku="GTX-Pro", name="GTX Pro", price=D("4821.00")),
    CatalogItem(sku="GTX-Plus-Pro", name="GTX Plus Pro", price=D("5482.00")),
])


def table(text: str) -> transfer.Table:
    return transfer.read_csv(text.encode("utf-8"))


def plan(text: str, existing=(), maps=(), defaults=(), stage_map=None, catalog=CATALOG):
    t = table(text)
    columns = transfer.map_columns(t.header, maps=maps, defaults=defaults)
    return transfer.plan_import(t, columns, S, catalog, list(existing), today=TODAY,
                                owner="me", stage_map=stage_map)


def one(text: str, **kw) -> Opportunity:
    result = plan(text, **kw)
    assert result.errors == [], result.errors
    assert len(result.entries) == 1
    return result.entries[0].opportunity


def opp(**kw) -> Opportunity:
    args = dict(opp_id="abcd1234", name="Deal", customer="Acme", owner="ann", today=TODAY)
    args.update(kw)
    return opportunity.new_opportunity(S, **args)


# ---------------------------------------------------------------- reading CSV


def test_read_csv_takes_a_bom_crlf_quotes_and_skips_blank_lines():
    data = "\ufeffname,customer\r\n\r\n\"Big, deal\",Acme\r\n\"two\nlines\",X\r\n,\r\nlast,Y\r\n"
    t = transfer.read_csv(data.encode("utf-8"))
    assert t.header == ["name", "customer"]
    assert [(line, cells[0]) for line, cells in t.rows] == [
        (3, "Big, deal"), (4, "two\nlines"), (7, "last")]


def test_read_csv_sniffs_semicolons_and_tabs():
    assert table("name;customer\nA;B\n").rows == [(2, ["A", "B"])]
    assert table("name\tcustomer\nA\tB\n").rows == [(2, ["A", "B"])]


@pytest.mark.parametrize("data, message, line", [
    (b"", "empty", None),
    (b"name\nok\n\xff\xfe\n", "not valid UTF-8", 3),
    (b"name\nA\x00B\n", "NUL", 2),
])
def test_read_csv_refuses_what_is_not_a_csv_text(data, message, line):
    with pytest.raises(DataError, match=message) as exc:
        transfer.read_csv(data)
    assert exc.value.line == line


# ---------------------------------------------------------------- columns


def test_fields_by_their_own_names_loosely():
    columns = transfer.map_columns(["Name", "CUSTOMER", "close-date", "Lost Reason", "x"])
    assert columns.fields == {"name": 0, "customer": 1, "close_date": 2, "lost_reason": 3}
    assert columns.ignored == ("x",)


def test_salesforce_report_headers_are_recognised():
    header = ["Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Fiscal Period",
              "Amount", "Probability (%)", "Age", "Close Date", "Created Date", "Next Step",
              "Lead Source", "Type", "Opportunity ID", "Closed Lost Reason"]
    columns = transfer.map_columns(header)
    assert {f: header[i] for f, i in columns.fields.items()} == {
        "ref": "Opportunity ID", "name": "Opportunity Name", "customer": "Account Name",
        "stage": "Stage", "amount": "Amount", "close_date": "Close Date",
        "owner": "Opportunity Owner", "lost_reason": "Closed Lost Reason",
        "created": "Created Date"}


def test_hubspot_export_headers_are_recognised():
    header = ["Record ID", "Deal Name", "Deal Stage", "Close Date", "Deal owner", "Amount",
              "Pipeline", "Create Date", "Associated Company (Primary)", "Deal Type"]
    columns = transfer.map_columns(header)
    assert {f: header[i] for f, i in columns.fields.items()} == {
        "ref": "Record ID", "name": "Deal Name", "customer": "Associated Company (Primary)",
        "stage": "Deal Stage", "amount": "Amount", "close_date": "Close Date",
        "owner": "Deal owner", "created": "Create Date"}
    assert columns.ignored == ("Pipeline", "Deal Type")


def test_map_wins_over_names_takes_several_fields_and_ignores_columns():
    header = ["deal_id", "title", "account", "value", "Amount"]
    columns = transfer.map_columns(header, maps=["deal_id=ref,name", "value=amount",
                                                 "title=", "Amount=-"])
    assert columns.fields == {"ref": 0, "name": 0, "customer": 2, "amount": 3}
    assert columns.ignored == ()


@pytest.mark.parametrize("header, maps, message", [
    (["a"], ["b=name"], "no column 'b'; its columns are: 'a'"),
    (["a"], ["a=nmae"], "unknown field 'nmae'.*did you mean 'name'"),
    (["a"], ["a"], "needs the form COLUMN=FIELD"),
    (["a", "b"], ["a=name", "b=name"], "two columns: 'a' and 'b'"),
    (["Amount", "Deal Amount"], [], "both give field amount; keep one with --map"),
])
def test_map_mistakes_are_usage_errors(header, maps, message):
    with pytest.raises(UsageError, match=message):
        transfer.map_columns(header, maps=maps)


def test_default_values_and_templates():
    result = one("product,account\nGTXPro,\n", maps=["account=customer"],
                 defaults=["name={product} deal", "customer=(none)", "owner=Zed"])
    assert (result.name, result.customer, result.owner) == ("GTXPro deal", "(none)", "Zed")
    with pytest.raises(UsageError, match="no column 'nope'"):
        transfer.map_columns(["a"], defaults=["name={nope}"])
    with pytest.raises(UsageError, match="unknown field"):
        transfer.map_columns(["a"], defaults=["colour=red"])


# ---------------------------------------------------------------- values and rules


def test_a_row_as_opp_new_would_make_it():
    o = one("name,customer,amount,objective,close_date,owner,currency,ref\n"
            "Renewal,Acme,1200.5,5000,2027-01-31,bob,usd,SF-1\n")
    assert (o.name, o.customer, o.amount, o.objective, o.close_date, o.owner, o.currency,
            o.ref) == ("Renewal", "Acme", D("1200.50"), D("5000.00"), date(2027, 1, 31), "bob",
                       "USD", "SF-1")
    assert o.stage == "prospecting" and o.amount_source == "manual" and o.created == TODAY
    blank = one("name,customer,amount,owner\nA,B,,\n")
    assert blank.amount == D("0.00") and blank.owner == "me"


def test_stage_by_id_label_loosely_or_mapped():
    assert one("name,customer,stage\nA,B,PROPOSAL\n").stage == "proposal"
    assert one("name,customer,stage\nA,B,Closed Won\n").stage == "closed-won"
    assert one("name,customer,stage\nA,B,closedwon\n").stage == "closed-won"  # HubSpot ids
    mapped = one("name,customer,stage\nA,B,Needs Analysis\n",
                 stage_map=transfer.parse_stage_map(["needs analysis=qualification"], S))
    assert mapped.stage == "qualification"
    result = plan("name,customer,stage\nA,B,Value Proposition\n")
    assert "unknown stage 'Value Proposition'" in result.errors[0].message
    assert "--stage-map 'Value Proposition=STAGE'" in result.errors[0].message


def test_closed_rows_close_on_their_date_or_today():  # R17a
    won = one("name,customer,stage,close_date\nA,B,closed-won,2026-03-01\n")
    assert stages.status(won, S) == "won" and won.close_date == date(2026, 3, 1)
    lost = one("name,customer,stage,lost_reason\nA,B,closed-lost,price\n")
    assert lost.close_date == TODAY and lost.lost_reason == "price"


def test_a_date_may_carry_a_time():
    assert one("name,customer,close_date\nA,B,2027-01-31 13:45:00\n").close_date == \
        date(2027, 1, 31)


def test_every_problem_of_every_row_with_its_line():
    result = plan("name,customer,amount,close_date,stage,created\n"
                  "ok,Acme,1,2027-01-01,proposal,\n"
                  "bad money,Acme,\"12,50\",2027-01-01,,\n"
                  ",,1.005,31/12/2026,nowhere,\n"
                  "future close,Acme,,2099-01-01,closed-won,\n"
                  "lost reason,Acme,,,,2099-01-01\n")
    assert [(e.line, e.message.split(";")[0]) for e in result.errors] == [
        (3, "amount '12,50' uses a comma"),
        (4, "stage: unknown stage 'nowhere'"),
        (4, "amount '1.005' is ambiguous: a dot grouping thousands, or three decimals? "
            "Write it without grouping (1234), or import with --locale it if the file writes "
            "1.234,50"),
        (4, "close_date '31/12/2026' is not a date"),
        (5, "close date 2099-01-01 is in the future"),
        (6, "created 2099-01-01 is in the future (today is 2026-11-26)"),
    ]
    assert len(result.entries) == 1


def test_required_fields_say_how_to_fill_them():
    result = plan("Deal Name,Company\nA,\n")
    assert result.errors[0].message == ("Company is blank; a new opportunity needs its "
                                        "customer: fill it in, or give --default "
                                        "customer=VALUE")
    result = plan("customer\nAcme\n")
    assert "the file has no name column; name one with --map COLUMN=name" in \
        result.errors[0].message


def test_lost_reason_only_on_lost_rows_and_extra_cells_refused():
    result = plan("name,customer,stage,lost_reason\nA,B,proposal,price\nC,D,,,x\n")
    assert "lost_reason 'price' is for a lost stage" in result.errors[0].message
    assert result.errors[1] == transfer.RowError(
        3, "the row has 5 cells but the header names 4 columns; quote cells that hold the "
           "delimiter")


def test_duplicate_refs_and_ids_in_a_file():
    result = plan("ref,name,customer\nX,A,B\nX,C,D\n")
    assert result.errors == [transfer.RowError(3, "ref 'X' is also on line 2; one row per "
                                                  "opportunity")]


def test_product_makes_one_line_priced_at_the_amount():  # R4, R6
    o = one("name,customer,product,amount\nA,B,GTXPro,4514\n")
    assert o.amount == D("4514.00") and o.amount_source == "products"
    assert [(p.sku, p.quantity, p.unit_price) for p in o.products] == [
        ("GTX-Pro", 1, D("4514.00"))]
    assert one("name,customer,product\nA,B,gtx plus pro\n").products[0].sku == "GTX-Plus-Pro"
    blank = one("name,customer,product,stage,close_date\nA,B,SRV-01,closed-lost,2026-01-02\n")
    assert blank.amount == D("0.00") and blank.products[0].unit_price == D("0.00")
    result = plan("name,customer,product\nA,B,GTX\n")
    assert "product 'GTX' is not in the catalog" in result.errors[0].message


def test_a_ref_updates_only_the_cells_given():
    before = opp(ref="SF-1", objective=D("10"), close_date=date(2027, 1, 1))
    after = one("ref,name,customer,objective,close_date,stage\nSF-1,New name,,20,,proposal\n",
                existing=[before])
    assert (after.id, after.name, after.customer, after.objective, after.close_date,
            after.stage) == ("abcd1234", "New name", "Acme", D("20.00"), date(2027, 1, 1),
                             "proposal")
    entry = plan("ref,name\nSF-1,New name\n", existing=[before]).entries[0]
    assert entry.action == "update" and entry.changed == ("name",)
    assert plan("ref,name,stage\nSF-1,Deal,Prospecting\n",
                existing=[before]).entries[0].action == "unchanged"


def test_an_id_column_matches_or_creates_with_that_id():
    before = opp()
    entry = plan("id,name\nABCD1234,Renamed\n", existing=[before]).entries[0]
    assert entry.action == "update" and entry.opportunity.id == "abcd1234"
    created = one("id,name,customer\nzz99zz99,A,B\n")
    assert created.id == "zz99zz99"
    result = plan("id,name,customer\nNot-An-Id,A,B\n")
    assert "is not an opp id" in result.errors[0].message
    other = opp(opp_id="wxyz5678", ref="SF-9")
    result = plan("id,ref\nabcd1234,SF-9\n", existing=[before, other])
    assert result.errors[0].message == "ref 'SF-9' belongs to opportunity wxyz5678, not to " \
                                       "abcd1234"


def test_closed_opportunities_are_read_only_unless_the_row_reopens():  # R17
    closed = opportunity.close(opp(ref="SF-1", amount=D("100")), S, won=False, today=TODAY,
                         reason="price")
    same = plan("ref,stage,amount,lost_reason\nSF-1,closed-lost,100,price\n", existing=[closed])
    assert same.entries[0].action == "unchanged"
    changed = plan("ref,amount\nSF-1,200\n", existing=[closed])
    assert changed.errors[0].message.startswith(
        "abcd1234: opportunity abcd1234 is closed (lost) and read-only (R17), but this row "
        "changes its amount")
    won = plan("ref,stage\nSF-1,closed-won\n", existing=[closed])
    assert "changes its stage" in won.errors[0].message
    reopened = one("ref,stage,amount,close_date\nSF-1,negotiation,200,2027-06-30\n",
                   existing=[closed])
    assert (reopened.stage, reopened.amount, reopened.close_date, reopened.lost_reason) == (
        "negotiation", D("200.00"), date(2027, 6, 30), None)


def test_open_rows_close_with_their_fields():
    before = opp(ref="SF-1")
    after = one("ref,amount,stage,close_date,lost_reason\nSF-1,50,closed-lost,2026-11-01,"
                "timing\n", existing=[before])
    assert (after.amount, after.stage, after.close_date, after.lost_reason) == (
        D("50.00"), "closed-lost", date(2026, 11, 1), "timing")


def test_an_amount_on_an_opportunity_with_products_is_refused():  # R5
    item = CATALOG.products[0]
    before = products.add_product(opp(ref="SF-1"), S, item, quantity=D(2))
    assert plan("ref,amount\nSF-1,2400\n", existing=[before]).entries[0].action == "unchanged"
    result = plan("ref,amount\nSF-1,10\n", existing=[before])
    assert "the amount of abcd1234 is the total of its products (2400.00 over 1 line)" in \
        result.errors[0].message
    result = plan("ref,product\nSF-1,GTX-Pro\n", existing=[before])
    assert "the product column stands for a single line" in result.errors[0].message


def test_the_product_column_keeps_its_line_up_to_date():
    before = one("ref,name,customer,product,amount\nSF-1,A,B,GTX-Pro,100\n")
    assert "is the total of its products (100.00 over 1 line)" in \
        plan("ref,amount\nSF-1,150\n", existing=[before]).errors[0].message  # R5
    repriced = one("ref,product,amount\nSF-1,GTX-Pro,150\n", existing=[before])
    assert repriced.products[0].unit_price == D("150.00") and repriced.amount == D("150.00")
    swapped = one("ref,product\nSF-1,SRV-01\n", existing=[before])
    assert [(p.id, p.sku, p.unit_price) for p in swapped.products] == [
        (before.products[0].id, "SRV-01", D("100.00"))]
    assert plan("ref,product,amount\nSF-1,gtxpro,100.00\n",
                existing=[before]).entries[0].action == "unchanged"


def test_refs_held_twice_in_the_repo_are_ambiguous():
    result = plan("ref,name\nX,A\n", existing=[opp(ref="X"), opp(opp_id="efgh5678", ref="X")])
    assert "ref 'X' is on 2 opportunities (abcd1234, efgh5678)" in result.errors[0].message


def test_export_rows_import_back_the_same():
    item = CATALOG.products[1]
    opps = [
        opp(ref="A", objective=D("5000"), close_date=date(2027, 1, 1), currency="USD"),
        opportunity.close(
            products.add_product(opp(opp_id="bbbb2222"), S, item, unit_price=D("9.99")),
            S, won=True, today=TODAY, close_date=date(2026, 5, 5)),
        opportunity.close(opp(opp_id="cccc3333", amount=D("7")), S, won=False, today=TODAY,
                    reason="no budget"),
    ]
    text = transfer.csv_text([transfer.export_row(o) for o in opps], transfer.OPPORTUNITY_FIELDS)
    again = plan(text)
    assert again.errors == []
    assert [e.opportunity.model_dump(exclude={"products"}) for e in again.entries] == \
        [o.model_dump(exclude={"products"}) for o in opps]
    assert [(p.sku, p.unit_price) for p in again.entries[1].opportunity.products] == [
        ("GTX-Pro", D("9.99"))]
    assert {e.action for e in plan(text, existing=opps).entries} == {"unchanged"}


@pytest.mark.parametrize("text, cell", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+39 055 123", "'+39 055 123"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"), ("\r=1", "'\r=1"), ("'=1", "''=1"),
    ("-250.00", "-250.00"), ("+5", "+5"), ("1e5", "1e5"),
    ("'t Hooft", "'t Hooft"), ("Acme", "Acme"), ("", ""), ("'", "'"),
    # Excel in semicolon locales splits a cell at ';': every piece is guarded
    ("Acme;=HYPERLINK(A1);", "Acme;'=HYPERLINK(A1);"), ("a;-1;b;@c", "a;-1;b;'@c"),
    ("-５", "'-５"),
])
def test_text_cells_are_guarded_against_spreadsheet_formulas(text, cell):
    assert transfer.guard_cell(text) == cell
    assert transfer.unguard_cell(cell) == text


@given(st.text() | st.lists(st.sampled_from(["=", "'", ";", "-", "1", "a", "+", "@", " "]))
       .map("".join))
def test_guarding_a_cell_is_undone_on_reading(text):
    guarded = transfer.guard_cell(text)
    assert transfer.unguard_cell(guarded) == text
    for piece in guarded.split(";"):
        assert piece[:1] not in ("=", "+", "@", "\t", "\r") or \
            transfer.sheet._NUMBER.fullmatch(piece)
        assert not piece.startswith("-") or transfer.sheet._NUMBER.fullmatch(piece)


def test_export_guards_formulas_and_imports_them_back_as_they_were():
    opps = [opp(name="=1+2", customer="@evil", ref="+A1"),
            opp(opp_id="bbbb2222", name="'=quoted", customer="-minus")]
    text = transfer.csv_text([transfer.export_row(o) for o in opps], transfer.OPPORTUNITY_FIELDS)
    assert "'=1+2,'@evil" in text and "''=quoted,'-minus" in text and ",'+A1," in text
    again = plan(text)
    assert again.errors == []
    assert [e.opportunity.model_dump() for e in again.entries] == [o.model_dump() for o in opps]


# ---------------------------------------------------------------- catalog


def catalog_plan(text: str, maps=(), catalog=CATALOG):
    t = table(text)
    columns = transfer.map_columns(t.header, transfer.CATALOG_FIELDS, transfer.CATALOG_ALIASES,
                                   maps=maps)
    return transfer.plan_catalog_import(t, columns, catalog)


def test_catalog_rows_create_update_or_leave_products():
    result = catalog_plan("Product Code,Product Name,List Price,UOM\n"
                          "SRV-01,Support plan,1300,year\n"
                          "gtx-pro,,,\n"
                          "NEW-1,New thing,10.5,\n")
    assert result.errors == []
    assert [(b.price, a.price, a.unit) for b, a in result.updated] == [
        (D("1200.00"), D("1300.00"), "year")]
    assert [p.sku for p in result.unchanged] == ["GTX-Pro"]
    assert [(p.sku, p.price) for p in result.created] == [("NEW-1", D("10.50"))]
    assert [p.sku for p in result.catalog.products] == ["GTX-Plus-Pro", "GTX-Pro", "NEW-1",
                                                        "SRV-01"]


def test_catalog_skus_made_from_names_like_the_data_set():
    result = catalog_plan("product,series,sales_price\nGTX Pro,GTX,4821\nGTK 500,GTK,26768\n",
                          catalog=Catalog())
    assert [(p.sku, p.name, p.price) for p in result.created] == [
        ("GTX-Pro", "GTX Pro", D("4821.00")), ("GTK-500", "GTK 500", D("26768.00"))]
    assert transfer.derive_sku("  Ünïcode — thing!") == "n-code-thing"


def test_catalog_errors_name_every_bad_row():
    result = catalog_plan("sku,name,price\nbad sku,A,1\nNEW,,2\nOK,B,1,5\nSRV-01,X,1\n"
                          "srv-01,Y,2\n")
    assert [(e.line, e.message) for e in result.errors] == [
        (2, "sku 'bad sku' is not a valid SKU; use letters, digits, '.', '_' and '-' (up to "
            "64)"),
        (3, "new product NEW needs its name"),
        (4, "the row has 4 cells but the header names 3 columns"),
        (6, "SKU 'srv-01' is also on line 5"),
    ]
    with pytest.raises(UsageError, match="neither a sku nor a name column"):
        catalog_plan("price\n1\n")


# ---------------------------------------------------------------- fuzz: never a crash


cells = st.one_of(st.text(max_size=12), st.sampled_from(
    ["", "1", "1.5", "12,50", "2026-01-01", "2099-12-31", "closed-won", "Closed lost",
     "proposal", "GTXPro", "SRV-01", "price", "x\ny", "ABCD1234", "usd", "(none)", '"']))
headers = st.lists(st.sampled_from(list(transfer.OPPORTUNITY_FIELDS) + [
    "Deal Name", "Account Name", "Amount", "other", "", "name"]), min_size=1, max_size=8)


def csv_bytes(rows) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.tuples(headers, st.lists(st.lists(cells, max_size=9), max_size=6)).map(
        lambda hr: csv_bytes([hr[0], *hr[1]]))))
def test_any_bytes_import_or_fail_cleanly(data):
    """Whatever the file holds: rows become valid opportunities or OppErrors, never a
    crash; and whatever is planned can be stored and read back."""
    existing = [opportunity.close(opp(ref="1"), S, won=True, today=TODAY), opp(opp_id="efgh5678")]
    try:
        t = transfer.read_csv(data)
        columns = transfer.map_columns(t.header)
        result = transfer.plan_import(t, columns, S, CATALOG, existing, today=TODAY,
                                      owner="me")
    except OppError:
        return
    for entry in result.entries:
        o = entry.opportunity
        assert checks.problems(o, S) == []
        loaded, _ = yamlio.load(yamlio.dump(o.model_dump(mode="python")), "x.yaml")
        assert Opportunity.model_validate(loaded) == o
    assert all(e.line >= 2 and e.message for e in result.errors)


# ---------------------------------------------------------------- end to end


def write(crm, name: str, text: str) -> str:
    """A file next to the data repo; its path as typed from inside the repo."""
    (crm.root.parent / name).write_text(text, encoding="utf-8")
    return f"../{name}"


SHEET = """ref,name,customer,stage,amount,objective,currency,close_date,owner,lost_reason
SF-1,Acme renewal,Acme Corp,proposal,1200.00,5000,,2027-01-31,alice,
SF-2,Globex pilot,Globex,Closed Won,300,,USD,2026-10-01,bob,
SF-3,Initech,Initech,closed-lost,0,,,2026-09-15,carol,competitor
SF-4,Hooli,Hooli,,,,,,,
"""


def test_a_good_import_is_one_commit(crm):
    before = crm.commits()
    result = crm("import", write(crm, "sheet.csv", SHEET))
    assert result.stdout == ""
    assert result.stderr == "imported ../sheet.csv: 4 created, 0 updated, 0 unchanged; " \
                            "one commit\n"
    assert crm.commits() == before + 1 and crm.status() == ""
    assert crm.git("log", "-1", "--format=%s").strip() == "import: 4 new, 0 updated from sheet.csv"
    assert "Opp-Action: import" in crm.git("log", "-1", "--format=%b")
    rows = {r["ref"]: r for r in crm.json("list")}
    assert (rows["SF-1"]["amount"], rows["SF-1"]["objective"], rows["SF-1"]["owner"],
            rows["SF-1"]["currency"]) == ("1200.00", "5000.00", "alice", "EUR")
    assert (rows["SF-2"]["status"], rows["SF-2"]["close_date"], rows["SF-2"]["currency"]) == (
        "won", "2026-10-01", "USD")
    assert crm.json("show", rows["SF-3"]["id"])["lost_reason"] == "competitor"
    assert rows["SF-4"]["stage"] == "prospecting" and rows["SF-4"]["amount"] == "0.00"
    crm("validate")


def test_dry_run_reports_and_writes_nothing(crm, unchanged):
    path = write(crm, "sheet.csv", SHEET)
    with unchanged:
        result = crm("import", path, "--dry-run")
    assert "would be 4 created, 0 updated, 0 unchanged; nothing was written" in result.stderr
    assert [line.split()[:2] for line in result.stdout.splitlines()[2:]] == [
        ["2", "create"], ["3", "create"], ["4", "create"], ["5", "create"]]
    report = crm.json("import", path, "--dry-run")
    assert (report["dry_run"], report["created"], report["rows"][0]["ref"]) == (True, 4, "SF-1")
    assert crm.json("list") == []


def test_bad_rows_are_all_reported_and_nothing_is_written(crm, unchanged):
    crm.new("Existing")
    bad = SHEET + ("SF-5,,Acme,,,,,,,\n"
                   "SF-6,X,Acme,nowhere,12.345,,,2026-13-01,,\n"
                   "SF-1,dup,Acme,,,,,,,\n")
    path = write(crm, "bad.csv", bad)
    with unchanged:
        result = crm("import", path, code=1)
    assert result.stderr == ("error: 5 problem(s) in 3 row(s) of ../bad.csv; nothing was "
                             "imported\n")
    lines = result.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "../bad.csv:6", "../bad.csv:7", "../bad.csv:7", "../bad.csv:7", "../bad.csv:8"]
    assert "name is blank; a new opportunity needs its name" in lines[0]
    assert "stage: unknown stage 'nowhere'" in lines[1]
    assert "amount '12.345' is ambiguous" in lines[2]
    assert "close_date '2026-13-01' is not a real date" in lines[3]
    assert "ref 'SF-1' is also on line 2" in lines[4]
    report = json.loads(crm("import", path, "--format", "json", code=1).stdout)
    assert [e["line"] for e in report["errors"]] == [6, 7, 7, 7, 8]


def test_many_bad_rows_are_capped_in_text_and_all_in_json(crm):
    path = write(crm, "bad.csv", "name,customer,amount\n" + "A,B,x\n" * 60)
    result = crm("import", path, code=1)
    assert len(result.stdout.splitlines()) == 50
    assert "60 problem(s) in 60 row(s) of ../bad.csv (the first 50 are listed; --format " \
           "json lists all); nothing was imported" in result.stderr
    assert len(json.loads(crm("import", path, "--format", "json", code=1).stdout)["errors"]) \
        == 60


def test_reimport_updates_only_what_changed_and_commits_nothing_when_equal(crm):
    path = write(crm, "sheet.csv", SHEET)
    crm("import", path)
    head = crm.head()
    again = crm("import", path)
    assert "nothing changed (4 unchanged); no commit" in again.stderr
    assert crm.head() == head and crm.status() == ""
    changed = SHEET.replace("5000,", "6000,").replace("SF-4,Hooli,Hooli,,", "SF-4,Hooli,Hooli,"
                                                                             "negotiation,")
    report = crm.json("import", write(crm, "sheet2.csv", changed))
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 2, 2)
    assert [(r["ref"], r["changed"]) for r in report["rows"] if r["action"] == "update"] == [
        ("SF-1", ["objective"]), ("SF-4", ["stage"])]
    assert crm.commits() == int(crm.git("rev-list", "--count", head).strip()) + 1
    files = crm.git("show", "--name-only", "--format=", "HEAD").split()
    assert len(files) == 2


def test_a_sheet_without_ids_imported_again_is_pointed_out(crm):
    """Rows without id or ref always make new deals (the contract); when they look like
    deals already here (the same name and customer), stderr says so, dry run or not."""
    path = write(crm, "excel.csv", "name,customer,amount\nManutenzione,Rossi S.r.l.,100\n"
                                   "Rinnovo,Bianchi,50\nNuovo,Verdi,10\n")
    assert "already here" not in crm("import", path).stderr
    first = {d["name"]: d["id"] for d in crm.json("list")}
    again = write(crm, "again.csv", "name,customer,amount\nmanutenzione,ROSSI SRL,100\n"
                                    "Rinnovo,Bianchi,50\nAltro,Verdi,10\n")
    r = crm("import", again, "--dry-run")
    assert ("note: 2 new row(s) have the name and customer of a deal already here (line 2, "
            f"manutenzione: {first['Manutenzione']} and 1 more); a sheet with an id or ref "
            "column updates its deals when imported again") in r.stderr
    r = crm("import", again)
    assert "2 new row(s)" in r.stderr and "3 created" in r.stderr
    assert len(crm.json("list")) == 6


def test_a_row_that_reopens_a_deal_gives_back_its_expected_close_date(crm):
    """R17a as opp reopen has it: the expected close date the deal had before it closed,
    unless the row gives one."""
    deal = crm.new("M", "--close-date", "2027-03-31", "--stage", "proposal")
    other = crm.new("N", "--close-date", "2027-05-31")
    for d in (deal, other):
        crm("close", d, "--lost", "--reason", "price")
    crm("import", write(crm, "reopen.csv", f"id,stage,close_date\n{deal},proposal,\n"
                                           f"{other},proposal,2027-09-30\n"))
    assert crm.json("show", deal)["close_date"] == "2027-03-31"
    assert crm.json("show", other)["close_date"] == "2027-09-30"


def test_reimport_refuses_to_overwrite_hand_edits(crm):
    crm("import", write(crm, "sheet.csv", SHEET))
    opp_id = next(r["id"] for r in crm.json("list") if r["ref"] == "SF-1")
    edited = crm.file(opp_id).read_text() + "# my note\n"
    crm.file(opp_id).write_text(edited)
    head = crm.head()
    changed = SHEET.replace("Acme renewal", "Acme renewal 2")
    result = crm("import", write(crm, "s2.csv", changed), code=1)
    assert crm.head() == head and crm.file(opp_id).read_text() == edited
    assert f"opportunities/{opp_id}.yaml has uncommitted changes" in result.stderr


def test_salesforce_export_imports_as_is(crm):
    sheet = ("\ufeffOpportunity Owner,Account Name,Opportunity Name,Stage,Amount,Probability (%),"
             "Close Date,Opportunity ID\r\n"
             "Ann Lee,Acme,Acme expansion,Negotiation/Review,15000.00,90,2027-02-28,"
             "0065g00000AbCdE\r\n"
             "Bo Chen,Globex,Globex new logo,Closed Won,8000.00,100,2026-06-30,0065g00000FgHiJ\r\n")
    path = write(crm, "salesforce.csv", sheet)
    result = crm("import", path, code=1)
    assert "unknown stage 'Negotiation/Review'" in result.stdout
    crm("import", path, "--stage-map", "Negotiation/Review=negotiation")
    rows = {r["ref"]: r for r in crm.json("list")}
    assert (rows["0065g00000AbCdE"]["stage"], rows["0065g00000AbCdE"]["owner"],
            rows["0065g00000AbCdE"]["amount"]) == ("negotiation", "Ann Lee", "15000.00")
    assert rows["0065g00000FgHiJ"]["status"] == "won"


def test_hubspot_export_with_defaults(crm):
    sheet = ("Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Create Date,"
             "Associated Company (Primary),Pipeline\n"
             "1001,Website revamp,closedwon,2026-04-01 10:00,Dana,2500,2026-01-02 09:00,Umbrella,"
             "Sales Pipeline\n"
             "1002,Support deal,appointmentscheduled,2027-01-15,Dana,,2026-11-01,,Sales Pipeline\n")
    path = write(crm, "hubspot.csv", sheet)
    result = crm("import", path, "--stage-map", "appointmentscheduled=qualification", code=1)
    assert "Associated Company (Primary) is blank" in result.stdout
    result = crm("import", path, "--stage-map", "appointmentscheduled=qualification",
                 "--default", "customer=(none)")
    assert "ignored column(s): Pipeline" in result.stderr
    rows = {r["ref"]: r for r in crm.json("list")}
    assert (rows["1001"]["status"], rows["1001"]["close_date"], rows["1001"]["amount"]) == (
        "won", "2026-04-01", "2500.00")
    assert (rows["1002"]["customer"], rows["1002"]["stage"]) == ("(none)", "qualification")
    assert crm.json("show", rows["1001"]["id"])["created"] == "2026-01-02"
    assert "ref: '1001'" in crm.file(rows["1001"]["id"]).read_text()


def test_map_option_end_to_end(crm):
    path = write(crm, "own.csv", "deal_id,what,who,worth,when\nD1,Thing,Acme,10,2027-03-01\n")
    crm("import", path, "--map", "deal_id=ref", "--map", "what=name", "--map", "who=customer",
        "--map", "worth=amount", "--map", "when=close_date")
    (row,) = crm.json("list")
    assert (row["ref"], row["name"], row["customer"], row["amount"], row["close_date"]) == (
        "D1", "Thing", "Acme", "10.00", "2027-03-01")
    result = crm("import", path, "--map", "nope=ref", code=2)
    assert "no column 'nope'" in result.stderr


def test_a_file_with_no_column_opp_reads_is_refused(crm, unchanged):
    with unchanged:
        r = crm("import", "-", input="hello\n", code=1)
        assert r.stderr.startswith("error: <stdin>:1: no column of the header ('hello') is "
                                   "one opp reads")
        r = crm("catalog", "import", "-", input="a,b\n1,2\n", code=1)
        assert "('a', 'b')" in r.stderr and "(sku, name, price, unit)" in r.stderr
    with unchanged:  # blank lines before the header: the refusal names its line
        r = crm("import", "-", input="\n\nfoo,bar\n1,2\n", code=1)
        assert r.stderr.startswith("error: <stdin>:3: no column of the header ('foo', 'bar')")
    crm("import", "-", "--map", "hello=name", input="hello\n")  # mapped: an empty sheet
    # a column the --default templates read is one opp reads
    crm("import", "-", "--default", "name={Foo} renewal", "--default", "customer={Foo}",
        input="Foo\nAcme\n")
    assert [(o["name"], o["customer"]) for o in crm.json("list")] == [("Acme renewal", "Acme")]


def test_import_from_stdin(crm):
    crm("import", "-", input="name,customer\nA,B\n")
    assert [r["name"] for r in crm.json("list")] == ["A"]


def test_export_then_import_into_an_empty_repo_gives_the_same_opportunities(crm, tmp_path):
    crm("import", write(crm, "sheet.csv", SHEET))
    a = crm.new("With product", "--objective", "99", "--close-date", "2027-05-05")
    crm("add-product", a, "SRV-01")
    b = crm.new("Two lines")
    crm("add-product", b, "SRV-01", "--qty", "2")
    crm("add-product", b, "CONS")
    c = crm.new("Reopened", "--amount", "5")
    crm("close", c, "--lost", "--reason", "timing", "--date", "2026-01-10")
    crm("reopen", c, "--stage", "proposal")
    crm("close", c, "--won", "--date", "2026-02-11")
    d = crm.new("=HYPERLINK(\"http://x\")", "--customer", "@Acme", "--amount", "5",
                "--create")  # '@Acme' is close to 'Acme Corp': a new account on purpose
    exported = crm("export").stdout
    # a spreadsheet shows the formula-like cells as text; imported, they are as typed
    assert f'{d},,"\'=HYPERLINK(""http://x"")",\'@Acme,' in exported
    assert "'=HYPERLINK" in crm("list", "--format", "csv").stdout
    assert exported.splitlines()[0] == ("id,ref,name,customer,customer_id,stage,amount,"
                                        "objective,currency,close_date,owner,lost_reason,"
                                        "created,product")
    full = {r["id"]: r for r in crm.json("export")}
    # the same sheet again changes nothing here
    head = crm.head()
    crm("import", write(crm, "export.csv", exported))
    assert crm.head() == head

    from conftest import Opp
    other = Opp(tmp_path / "other")
    other("init", str(other.root))
    other("--repo", other.root, "catalog", "import", "-",
          input=crm("catalog", "list", "--format", "csv").stdout)
    other("--repo", other.root, "import", "../export.csv")
    assert other("--repo", other.root, "export").stdout == exported  # account ids too
    assert other.json("--repo", other.root, "account", "list") == crm.json("account", "list")
    again = {r["id"]: r for r in json.loads(other("--repo", other.root, "export", "--format",
                                                  "json").stdout)}
    assert set(again) == set(full)
    for opp_id, row in full.items():
        keep = ("name", "customer", "customer_id", "stage", "status", "amount", "objective",
                "currency", "close_date", "owner", "lost_reason", "ref", "created", "product")
        assert {k: again[opp_id][k] for k in keep} == {k: row[k] for k in keep}
    # one line of quantity 1 travels as a product; two lines travel as their amount
    assert again[a]["products"][0]["sku"] == "SRV-01"
    assert again[b]["amount"] == "3350.00" and again[b]["products"] == []


def test_export_json_has_every_panel(crm):
    opp_id = crm.new("A")
    crm("add-product", opp_id, "LIC-10")
    (row,) = crm.json("export")
    assert row["id"] == opp_id and row["product"] == "LIC-10" and row["products"][0]["sku"] == \
        "LIC-10" and row["created"] and "quotes" in row and "notes" in row


def test_a_large_import_is_one_commit_and_a_failed_one_leaves_nothing(crm, unchanged):
    rows = "".join(f"R{i},Deal {i},Customer {i % 7},{i}.50\n" for i in range(250))
    path = write(crm, "big.csv", "ref,name,customer,amount\n" + rows)
    hook = crm.root / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho refused by hook >&2\nexit 1\n")
    hook.chmod(0o755)
    with unchanged:
        result = crm("import", path, code=1)
    assert "refused by hook" in result.stderr
    assert crm.git("diff", "--cached", "--name-only") == ""
    hook.unlink()
    before = crm.commits()
    crm("import", path)
    assert crm.commits() == before + 1 and crm.status() == ""
    deals = [p for p in crm.git("show", "--name-only", "--format=", "HEAD").split()
             if p.startswith("opportunities/")]  # and the accounts of the customers (#20)
    assert len(deals) == 250
    assert crm.git("fsck", "--no-progress", "--no-dangling").strip() == ""
    crm("validate")


def test_a_large_import_keeps_other_staged_files_out_of_its_commit(crm):
    (crm.root / "notes.txt").write_text("mine\n")
    crm.git("add", "notes.txt")
    rows = "".join(f"Deal {i},C\n" for i in range(150))
    crm("import", write(crm, "big.csv", "name,customer\n" + rows))
    files = crm.git("show", "--name-only", "--format=", "HEAD").split()
    assert len(files) == 151 and "notes.txt" not in files  # 150 deals and account C (#20)
    assert crm.git("diff", "--cached", "--name-only").split() == ["notes.txt"]


def test_progress_bar_only_on_a_terminal(crm, monkeypatch):
    from oppcli.cli import transfer as cli_transfer

    rows = "".join(f"Deal {i},C\n" for i in range(600))
    path = write(crm, "big.csv", "name,customer\n" + rows)
    quiet = crm("import", path, "--dry-run")
    assert "checking rows" not in quiet.stderr
    monkeypatch.setattr(cli_transfer, "_stderr_is_terminal", lambda: True)
    loud = crm("import", path)
    assert "checking rows" in loud.stderr and "writing files" in loud.stderr


def test_unreadable_files_and_missing_files(crm):
    (crm.root.parent / "x.csv").write_bytes(b"name,customer\nA,\xff\n")
    result = crm("import", "../x.csv", code=1)
    assert result.stderr == "error: ../x.csv:2: not valid UTF-8 (byte 0xff); a file saved by " \
                            "Excel on Windows is often cp1252: import it with --encoding " \
                            "cp1252\n"
    assert "'nope.csv': No such file" in crm("import", "nope.csv", code=2).stderr


def test_catalog_import_end_to_end(crm, unchanged):
    path = write(crm, "products.csv", "product,series,sales_price\nGTX Pro,GTX,4821\n"
                                      "MG Special,MG,55\n")
    with unchanged:
        dry = crm("catalog", "import", path, "--dry-run", "--map", "series=")
    assert "would be 2 created, 0 updated, 0 unchanged" in dry.stderr
    assert "GTX-Pro" in dry.stdout and "MG-Special" in dry.stdout
    before = crm.commits()
    path = write(crm, "products.csv", "sku,name,price,unit\nGTX-Pro,GTX Pro,4821,\n"
                                      "SRV-01,,1300,\nCONS,Consulting day,950.00,day\n")
    result = crm("catalog", "import", path)
    assert "1 created, 2 updated, 0 unchanged; one commit" in result.stderr
    assert crm.commits() == before + 1
    assert crm.git("log", "-1", "--format=%s").strip() == \
        "catalog: import 1 new, 2 updated from products.csv"
    assert "Opp-Action: catalog-import" in crm.git("log", "-1", "--format=%b")
    cat = {p["sku"]: p for p in crm.json("catalog", "list")}
    assert (cat["SRV-01"]["name"], cat["SRV-01"]["price"], cat["SRV-01"]["unit"]) == (
        "Support plan", "1300.00", "year")
    assert cat["GTX-Pro"]["price"] == "4821.00" and cat["CONS"]["unit"] == "day"
    head = crm.head()
    assert "no commit" in crm("catalog", "import", path).stderr and crm.head() == head
    bad = write(crm, "bad.csv", "sku,name,price\n,Nameless,\nX Y,Z,1\nOK,Ok,-1\n")
    with unchanged:
        result = crm("catalog", "import", bad, code=1)
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == [
        "../bad.csv:2", "../bad.csv:3", "../bad.csv:4"]
    assert "new product Nameless needs its price" in result.stdout
    assert result.stderr == "error: 3 problem(s) in 3 row(s) of ../bad.csv; nothing was " \
                            "imported\n"


def test_large_imports_in_a_data_repo_below_the_top_of_its_git_work_tree(tmp_path, monkeypatch):
    """opp init in a folder of an existing git repo: git's paths start above us."""
    from conftest import Opp

    top = tmp_path / "top"
    top.mkdir()
    monkeypatch.chdir(top)
    subprocess.run(["git", "init", "-q"], cwd=top, check=True)
    opp = Opp(top / "crm")
    opp("init", "crm")
    monkeypatch.chdir(top / "crm")
    rows = "".join(f"R{i},Deal {i},C\n" for i in range(120))
    (tmp_path / "big.csv").write_text("ref,name,customer\n" + rows)
    opp("import", tmp_path / "big.csv")
    assert opp.git("status", "--porcelain") == ""
    assert len(opp.git("ls-files", "opportunities").split()) == 120
    first = sorted((top / "crm" / "opportunities").iterdir())[0]
    first.write_text(first.read_text() + "# hand edit\n")
    (tmp_path / "big.csv").write_text("ref,name,customer\n" + rows.replace("Deal", "Big deal"))
    result = opp("import", tmp_path / "big.csv", code=1)
    assert f"crm/opportunities/{first.name} has uncommitted changes" in result.stderr
    opp.git("checkout", "-q", "--", ".")
    opp("import", tmp_path / "big.csv")
    assert opp.git("status", "--porcelain") == ""
    assert {r["name"][:3] for r in opp.json("list")} == {"Big"}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=200),
    st.tuples(headers, st.lists(st.lists(cells, max_size=9), max_size=4)).map(
        lambda hr: csv_bytes([hr[0], *hr[1]]))))
def test_the_command_imports_or_refuses_in_one_line(crm, data):
    from click.testing import CliRunner

    from oppcli.cli import cli

    path = crm.root.parent / "fuzz.csv"
    path.write_bytes(data)
    head = crm.head()
    result = CliRunner().invoke(cli, ["import", str(path)], catch_exceptions=False)
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if result.exit_code:
        assert result.stderr.count("\n") == 1 and crm.head() == head
    assert crm.status() == ""


# ---------------------------------------------------------------- dry runs and names


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


def test_catalog_import_dry_run_shows_what_would_be_written(crm, unchanged, tmp_path):
    """The preview of a price list, as opp import's of deals: each product as it would be
    stored (code, name, price in the catalog's currency, unit), an update with what it
    changes and what that was; the JSON has a row per line of the file, unchanged ones too,
    and the import writes what the preview showed."""
    book = Workbook()
    page = book.active
    page.title = "Listino"
    page.append(["sku", "name", "price", "unit"])
    page.append(["SRV-01", "Support plan", 1300, None])         # a new price; the unit kept
    page.append(["LIC-10", "Licence pack", 99.99, None])        # unchanged
    page.append(["NEW-1", "Training day", 650.5, "day"])        # a new product
    page.append(["CONS", "Consulting days", "950.00", "day"])   # a new name and a unit
    path = tmp_path / "listino.xlsx"
    book.save(path)
    with unchanged:
        r = crm("catalog", "import", path, "--dry-run")
        assert r.stdout.splitlines() == [
            "  line  action    sku     name                    price  unit    changes",
            "------  --------  ------  ---------------  ------------  ------  " + "-" * 42,
            "     2  update    SRV-01  Support plan     1,300.00 EUR  year    "
            "price (was 1,200.00 EUR)",
            "     4  create    NEW-1   Training day       650.50 EUR  day",
            "     5  update    CONS    Consulting days    950.00 EUR  day     "
            "name (was Consulting day), unit (was none)"]
        assert r.stderr == (f"dry run of {path}: would be 1 created, 2 updated, 1 unchanged; "
                            "nothing was written\n")
        dry = crm.json("catalog", "import", path, "--dry-run")
        italian = crm("--locale", "it", "catalog", "import", path, "--dry-run").stdout
    assert dry == {
        "file": str(path), "dry_run": True, "created": 1, "updated": 2, "unchanged": 1,
        "rows": [
            {"line": 2, "action": "update", "sku": "SRV-01", "name": "Support plan",
             "price": "1300.00", "currency": "EUR", "unit": "year", "changed": ["price"]},
            {"line": 3, "action": "unchanged", "sku": "LIC-10", "name": "Licence pack",
             "price": "99.99", "currency": "EUR", "unit": None, "changed": []},
            {"line": 4, "action": "create", "sku": "NEW-1", "name": "Training day",
             "price": "650.50", "currency": "EUR", "unit": "day", "changed": []},
            {"line": 5, "action": "update", "sku": "CONS", "name": "Consulting days",
             "price": "950.00", "currency": "EUR", "unit": "day",
             "changed": ["name", "unit"]}],
        "errors": []}
    # for people, in the locale; the JSON never changes with it
    assert "1.300,00 €" in italian and "price (was 1.200,00 €)" in italian
    done = crm.json("catalog", "import", path)
    assert done == {**dry, "dry_run": False}
    assert {p["sku"]: p for p in crm.json("catalog", "list")} == {
        r["sku"]: {k: r[k] for k in ("sku", "name", "price", "unit")} for r in dry["rows"]}
    # a CSV is previewed the same way; a price list that changes nothing lists nothing
    again = write(crm, "again.csv", "sku,name,price\nNEW-1,Training day,650.50\n")
    r = crm("catalog", "import", again, "--dry-run")
    assert r.stdout == "" and "0 created, 0 updated, 1 unchanged" in r.stderr


def test_catalog_import_by_name_updates_the_product_of_that_name(crm, unchanged):
    crm("catalog", "add", "GTX", "--name", "GTX Pro", "--price", "4800")
    path = write(crm, "products.csv", "Product Name,List Price\ngtx-pro,4900\nMG Special,55\n")
    with unchanged:
        dry = crm.json("catalog", "import", path, "--dry-run")
    assert [(r["action"], r["sku"]) for r in dry["rows"]] == [("update", "GTX"),
                                                              ("create", "MG-Special")]
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
    # two products that already share a name (by hand): the catalog is invalid (#27), so
    # the import refuses before choosing, naming both products
    crm("catalog", "add", "GTX", "--name", "GTX Pro", "--price", "4800")
    text = (crm.root / "catalog.yaml").read_text().replace("name: Licence pack",
                                                           "name: GTX pro")
    (crm.root / "catalog.yaml").write_text(text)
    crm.git("-c", "user.name=H", "-c", "user.email=h@e", "commit", "-qam", "by hand")
    path = write(crm, "p.csv", "name,price\nGTX Pro,1\n")
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    assert "one name, loosely compared" in r.stderr and "GTX" in r.stderr \
        and "LIC-10" in r.stderr
