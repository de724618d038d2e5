"""Exports of other CRMs as their UI saves them, imported with the built-in profiles and
no other flag (or only the locale a user of another locale needs): HubSpot's deals
export (CSV with a BOM, and an xlsx of an Italian account), Salesforce's opportunities
report (CSV with its footer, en_US and it_IT users).

The files follow what those tools write: HubSpot's headers and date-times
("Record ID", "Associated Company (Primary)" beside "Associated Company", "Currency",
2027-01-15 10:30) and Salesforce's quoted cells, number and date formats and the footer
under the rows ("Grand Totals (N records)", "Confidential Information - Do Not
Distribute", its copyright). Names, amounts and ids are made up.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import Workbook

from oppcli import transfer


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")


def by_name(crm):
    return {o["name"]: o for o in crm.json("list")}


# ---------------------------------------------------------------- HubSpot

HUBSPOT_HEADER = ('"Record ID","Deal Name","Last Activity Date","Deal Stage","Close Date",'
                  '"Deal owner","Amount","Pipeline","Associated Company IDs (Primary)",'
                  '"Associated Company (Primary)","Associated Company IDs",'
                  '"Associated Company","Create Date","Currency",'
                  '"Amount in company currency","Deal Type"')
HUBSPOT_ROWS = [
    '"18562419385","Acme Srl - rinnovo 2027","2026-11-20 16:02","Appointment scheduled",'
    '"2027-01-15 10:30","Giulia Bianchi","12500","Sales Pipeline","9120349871","Acme Srl",'
    '"9120349871;9120350022","Acme Srl;Acme Holding SpA","2026-10-01 09:12","EUR","12500",'
    '"newbusiness"',
    '"18562419386","Beta - licenze","","Contract Sent (Sales Pipeline)","2026-12-31 00:00",'
    '"Marco Verdi","4300.5","Sales Pipeline","","","","","2026-09-15 14:40","EUR","4300.5",'
    '"existingbusiness"',
    '"18562419387","Gamma","","Closed won","2026-11-10 09:00","Marco Verdi","900",'
    '"Sales Pipeline","9120350100","Gamma SpA","9120350100","Gamma SpA","2026-08-01 08:00",'
    '"EUR","900",""',
    '"18562419388","Delta","","Closed lost","2026-10-20 17:45","Giulia Bianchi","1500",'
    '"Sales Pipeline","9120350101","Delta","9120350101","Delta","2026-07-01 10:00","EUR",'
    '"1500",""',
    '"18562419389","Epsilon","","Qualified to buy","","Giulia Bianchi","","Sales Pipeline",'
    '"9120350102","Epsilon Srl","9120350102","Epsilon Srl","2026-07-01 10:00","EUR","",""',
    '"18562419390","Zeta","","Decision maker bought-in","","Giulia Bianchi","",'
    '"Sales Pipeline","9120350103","Zeta","9120350103","Zeta","2026-07-01 10:00","EUR","",""',
    '"18562419391","Eta US","","Presentation scheduled","2027-03-31 00:00","Giulia Bianchi",'
    '"2000","Sales Pipeline","9120350104","Eta Inc","9120350104","Eta Inc",'
    '"2026-07-01 10:00","USD","1840",""',
]


def hubspot_csv(tmp_path, rows=HUBSPOT_ROWS):
    path = tmp_path / "hubspot-crm-exports-all-deals-2026-11-26.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join([HUBSPOT_HEADER, *rows, ""]).encode())
    return path


def test_a_hubspot_deals_export_with_no_other_flag(crm, tmp_path):
    path = hubspot_csv(tmp_path)
    r = crm("import", path, "--profile", "hubspot")
    assert "7 created" in r.stderr
    # the columns the profile leaves out on purpose are not listed as ignored
    assert "ignored column(s): Last Activity Date, Deal Type (import" in r.stderr
    deals = by_name(crm)
    assert [deals[n]["stage"] for n in ("Acme Srl - rinnovo 2027", "Beta - licenze", "Gamma",
                                        "Delta", "Epsilon", "Zeta", "Eta US")] == [
        "prospecting", "negotiation", "closed-won", "closed-lost", "qualification",
        "negotiation", "proposal"]
    acme = crm.json("show", deals["Acme Srl - rinnovo 2027"]["id"])
    assert (acme["customer"], acme["ref"], acme["amount"], acme["close_date"],
            acme["owner"], acme["currency"]) == (
        "Acme Srl", "18562419385", "12500.00", "2027-01-15", "Giulia Bianchi", "EUR")
    assert acme["created"].startswith("2026-10-01")
    assert deals["Beta - licenze"]["customer"] == "(no company)"
    assert deals["Beta - licenze"]["amount"] == "4300.50"
    assert (deals["Eta US"]["amount"], deals["Eta US"]["currency"]) == ("2000.00", "USD")
    # the weekly export again: nothing changes; a changed stage updates that deal only
    assert "nothing changed" in crm("import", path, "--profile", "hubspot").stderr
    rows = [HUBSPOT_ROWS[0].replace("Appointment scheduled", "Qualified to buy"),
            *HUBSPOT_ROWS[1:]]
    report = crm.json("import", hubspot_csv(tmp_path, rows), "--profile", "hubspot")
    assert [(r["ref"], r["changed"]) for r in report["rows"] if r["action"] == "update"] == [
        ("18562419385", ["stage"])]


# The header of a real HubSpot deals export, as a public analysis script records it for
# its hubspot-crm-exports-all-deals-2024-08-27.csv: the account's own properties ("State",
# "LMS") among HubSpot's, no company column. The rows are made up.
REAL_HEADER = ('"Record ID","Deal Name","Last Activity Date","State","Deal Stage","Close Date",'
               '"Deal owner","Amount","Date of last meeting booked in meetings tool",'
               '"Pipeline","Associated Product","Products","LMS","Associated Product IDs"')


def test_a_real_hubspot_header_with_custom_properties_and_no_company(crm, tmp_path):
    path = tmp_path / "hubspot-crm-exports-all-deals-2024-08-27.csv"
    rows = ['"18436574817","Acme renewal","2024-08-20 10:12","Illinois","Closed Won",'
            '"2024-07-31 14:00","Ann Lee","12500","","Sales Pipeline","","","Canvas",""',
            '"18436574818","Globex pilot","","Ohio","Qualified To Buy","2024-10-15 09:00",'
            '"Bo Chen","4300.5","2024-08-01 11:00","Sales Pipeline","","","",""']
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join([REAL_HEADER, *rows, ""]).encode())
    r = crm("import", path, "--profile", "hubspot")
    assert "2 created" in r.stderr
    assert ("ignored column(s): Last Activity Date, State, Date of last meeting booked in "
            "meetings tool, Associated Product, Products, LMS, Associated Product IDs") in r.stderr
    deals = by_name(crm)
    acme, globex = deals["Acme renewal"], deals["Globex pilot"]
    assert (acme["stage"], acme["amount"], acme["close_date"], acme["customer"]) == (
        "closed-won", "12500.00", "2024-07-31", "(no company)")
    assert (globex["stage"], globex["amount"], globex["owner"]) == (
        "qualification", "4300.50", "Bo Chen")
    assert crm.json("show", acme["id"])["ref"] == "18436574817"


def test_a_hubspot_export_with_a_stage_of_another_pipeline_is_refused_at_its_line(
        crm, unchanged, tmp_path):
    rows = [*HUBSPOT_ROWS[:2], HUBSPOT_ROWS[2].replace("Closed won", "Onboarding (Renewals)")]
    with unchanged:
        r = crm("import", hubspot_csv(tmp_path, rows), "--profile", "hubspot", code=1)
    assert r.stdout.startswith(f"{tmp_path}/hubspot-crm-exports-all-deals-2026-11-26.csv:4: ")
    assert "Onboarding (Renewals)" in r.stdout and "--stage-map" in r.stdout
    crm("import", hubspot_csv(tmp_path, rows), "--profile", "hubspot", "--stage-map",
        "Onboarding (Renewals)=closed-won")
    assert by_name(crm)["Gamma"]["stage"] == "closed-won"


def test_an_xlsx_export_of_an_italian_hubspot_account(crm, tmp_path):
    """HubSpot in Italian names its columns in Italian; the xlsx types numbers and dates."""
    book = Workbook()
    page = book.active
    page.title = "Trattative"
    page.append(["ID record", "Nome trattativa", "Importo", "Fase trattativa",
                 "Business Unit", "Data di chiusura", "Proprietario della trattativa",
                 "Pipeline", "Anno di Competenza", "Azienda Associata",
                 "È con chiusura vinta", "È con chiusura persa", "Probabilità trattativa"])
    page.append([18562419385, "Caffè Rossi - fornitura", 12500.5, "Contract sent", "Retail",
                 datetime(2027, 1, 15, 10, 30), "Giulia Bianchi", "Sales Pipeline", 2027,
                 "Caffè Rossi Srl", False, False, 0.8])
    page.append([18562419386, "Società Dolci", 900, "Closed won", "Horeca",
                 datetime(2026, 11, 10), "Marco Verdi", "Sales Pipeline", 2026,
                 "Società Dolci SpA", True, False, 1])
    page.append([18562419387, "Senza azienda", None, "Appointment scheduled", None, None,
                 "Marco Verdi", "Sales Pipeline", None, None, False, False, 0.2])
    path = tmp_path / "hubspot-crm-exports-tutte-le-trattative-2026-11-26.xlsx"
    book.save(path)
    r = crm("import", path, "--profile", "hubspot")
    assert "3 created" in r.stderr
    deals = by_name(crm)
    first = deals["Caffè Rossi - fornitura"]
    assert (first["customer"], first["amount"], first["stage"], first["close_date"],
            first["owner"]) == ("Caffè Rossi Srl", "12500.50", "negotiation", "2027-01-15",
                                "Giulia Bianchi")
    assert crm.json("show", first["id"])["ref"] == "18562419385"
    assert deals["Società Dolci"]["stage"] == "closed-won"
    assert deals["Senza azienda"]["customer"] == "(no company)"
    assert "nothing changed" in crm("import", path, "--profile", "hubspot").stderr


# ---------------------------------------------------------------- Salesforce

SALESFORCE_HEADER = ('"Opportunity Owner","Account Name","Opportunity Name","Stage",'
                     '"Fiscal Period","Amount","Probability (%)","Age","Close Date",'
                     '"Created Date","Next Step","Lead Source","Type","Opportunity ID"')
SALESFORCE_ROWS = [
    '"Anna Neri","Acme Srl","Acme - 200 licenze","Needs Analysis","Q1-2027","$12,500.00",'
    '"20","56","1/15/2027","10/1/2026","Demo","Web","New Customer","0065g00000AbCdEAAF"',
    '"Anna Neri","Beta SpA","Beta rinnovo","Id. Decision Makers","Q4-2026","$4,300.50",'
    '"60","72","12/31/2026","9/15/2026","","Partner","Existing Customer - Upgrade",'
    '"0065g00000AbCdFAAV"',
    '"Luca Blu","Gamma","Gamma","Closed Won","Q4-2026","$900.00","100","40","11/10/2026",'
    '"10/1/2026","","","","0065g00000AbCdGAAV"',
    '"Luca Blu","Delta","Delta","Closed Lost","Q4-2026","$1,500.00","0","30","10/20/2026",'
    '"9/20/2026","","","","0065g00000AbCdHAAV"',
    '"Luca Blu","Eps","Eps","Negotiation/Review","Q1-2027","$2,000.00","90","10",'
    '"2/28/2027","11/16/2026","","","","0065g00000AbCdIAAV"',
]
# What Salesforce writes under the rows of a report exported today...
FOOTER = ['""', '"Grand Totals (5 records)"', '""',
          '"Confidential Information - Do Not Distribute"',
          '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."']
# ...and what it wrote in Classic: the report's name, who generated it, the company
CLASSIC_FOOTER = ['""', '""', '"Pipeline Italia"',
                  '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."',
                  '"Confidential Information - Do Not Distribute"',
                  '"Generated By:  Anna Neri  26/11/2026 9.12"', '"Acme Italia S.r.l."']


def day_first_hint(day: str) -> str:
    """What an en_US profile says of a day-first Close Date."""
    return (f"Close Date '{day}' is not a real date written MM/DD/YYYY (e.g. 01/15/2027); "
            "if the file writes dates DD/MM/YYYY, import it with --date-format DD/MM/YYYY")


def salesforce_csv(tmp_path, rows, footer=FOOTER, name="report1764151200000.csv",
                   encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes("\n".join([SALESFORCE_HEADER, *rows, *footer, ""]).encode(encoding))
    return path


def test_a_salesforce_report_export_with_its_footer_and_no_other_flag(crm, tmp_path):
    path = salesforce_csv(tmp_path, SALESFORCE_ROWS)
    r = crm("import", path, "--profile", "salesforce")
    assert "5 created" in r.stderr
    assert "note: lines 8-11 are the footer profile salesforce knows; not imported" in r.stderr
    assert "ignored column(s): Next Step, Lead Source, Type (import" in r.stderr
    deals = by_name(crm)
    acme = crm.json("show", deals["Acme - 200 licenze"]["id"])
    assert (acme["customer"], acme["ref"], acme["amount"], acme["close_date"],
            acme["owner"], acme["stage"]) == (
        "Acme Srl", "0065g00000AbCdEAAF", "12500.00", "2027-01-15", "Anna Neri",
        "qualification")
    assert acme["created"].startswith("2026-10-01")
    assert acme["currency"] == "USD"  # "$12,500.00" as en_US writes dollars
    assert [deals[n]["stage"] for n in ("Beta rinnovo", "Gamma", "Delta", "Eps")] == [
        "proposal", "closed-won", "closed-lost", "negotiation"]
    assert deals["Beta rinnovo"]["amount"] == "4300.50"
    assert "nothing changed" in crm("import", path, "--profile", "salesforce").stderr


def test_a_salesforce_export_of_an_italian_user_in_latin_1(crm, unchanged, tmp_path):
    rows = ['"Anna Neri","Caffè Rossi","Caffè - fornitura","Proposal/Price Quote","T1-2027",'
            '"12.500,00","75","20","15/01/2027","01/10/2026","","","","0065g00000AbCdJAAV"',
            '"Anna Neri","Società Dolci","Dolci","Closed Won","T4-2026","900,00","100","5",'
            '"10/11/2026","01/10/2026","","","","0065g00000AbCdKAAV"']
    footer = [line.replace("(c)", "©") for line in CLASSIC_FOOTER]
    path = salesforce_csv(tmp_path, rows, footer, encoding="latin-1")
    with unchanged:
        r = crm("import", path, "--profile", "salesforce", code=1)
        assert ":2: not valid UTF-8" in r.stderr and "--encoding" in r.stderr
        r = crm("import", path, "--profile", "salesforce", "--encoding", "latin-1", code=1)
        assert ":2: Amount '12.500,00' is not a number written the en_US way" in r.stdout
        assert r.stdout.count("--locale it if the file writes 1.234,50") == 2
        assert day_first_hint("15/01/2027") in r.stdout
    r = crm("import", path, "--profile", "salesforce", "--encoding", "latin-1",
            "--locale", "it")
    assert "lines 6-10 are the footer" in r.stderr
    deals = by_name(crm)
    assert (deals["Caffè - fornitura"]["amount"], deals["Caffè - fornitura"]["close_date"],
            deals["Caffè - fornitura"]["customer"]) == ("12500.00", "2027-01-15",
                                                        "Caffè Rossi")
    assert deals["Dolci"]["close_date"] == "2026-11-10"


def test_a_footer_with_data_below_it_is_data_and_refused_at_its_lines(
        crm, unchanged, tmp_path):
    footer = [*FOOTER, '"Luca Blu","Zeta","Zeta","Prospecting","","","","","","","","","",""']
    path = salesforce_csv(tmp_path, SALESFORCE_ROWS[:1], footer)
    with unchanged:
        r = crm("import", path, "--profile", "salesforce", code=1)
    assert "are the footer" not in r.stderr
    assert [line.split(": ")[0] for line in r.stdout.splitlines()][:3] == [
        f"{path}:4", f"{path}:6", f"{path}:7"]


def test_drop_footer():
    table = transfer.Table(["a", "b"], [(2, ["x", "y"]), (3, ["z", ""]),
                                        (5, ["Total", ""]), (7, ["END of it", ""]),
                                        (8, ["© someone", ""])])
    rest, lines = transfer.drop_footer(table, "end")
    assert (rest.rows, lines) == ([(2, ["x", "y"])], [3, 5, 7, 8])  # one-cell rows above too
    assert transfer.drop_footer(table, "nothing") == (table, [])
    below = transfer.Table(["a", "b"], [*table.rows, (9, ["1", "2"])])
    assert transfer.drop_footer(below, "end") == (below, [])


def test_a_profile_prefers_the_column_it_lists_first():
    hub = transfer.find_profile("hubspot", None)
    header = ["Associated Company", "Deal Name", "Associated Company (Primary)", "Record ID",
              "Deal ID"]
    assert hub.map_options(header) == [
        "Record ID=ref", "Deal ID=", "Deal Name=name", "Associated Company (Primary)=customer",
        "Associated Company="]
    columns = transfer.map_columns(header, maps=hub.map_options(header))
    assert columns.fields == {"ref": 3, "name": 1, "customer": 2}
    assert columns.ignored == ()


def test_a_hubspot_export_without_the_primary_company_takes_the_first_listed(crm, tmp_path):
    """HubSpot's exports before the "(Primary)" column list every company of a deal in
    "Associated Company", ';' between, the primary first: the deal's customer is that
    first one, never an account named after the whole list."""
    crm.new("Earlier deal", "--customer", "Acme Srl")
    path = tmp_path / "hubspot-crm-exports-all-deals-2021-03-01.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (
        b'"Deal ID","Deal Name","Deal Stage","Amount","Associated Company"\r\n'
        b'"201","Multi","Closed won","10","ACME srl;Acme Holding SpA"\r\n'
        b'"202","Single","Appointment scheduled","20","Beta SpA"\r\n'
        b'"203","Spaced","Appointment scheduled","30"," Gamma SpA ; Delta"\r\n'))
    crm("import", path, "--profile", "hubspot")
    deals = by_name(crm)
    assert [deals[n]["customer"] for n in ("Multi", "Single", "Spaced")] == [
        "Acme Srl", "Beta SpA", "Gamma SpA"]
    assert crm.json("show", deals["Multi"]["id"])["customer_id"] == \
        crm.json("show", deals["Earlier deal"]["id"])["customer_id"]  # the account there
    names = [a["name"] for a in crm.json("account", "list")]
    assert not [n for n in names if ";" in n] and "Acme Holding SpA" not in names


def repo_profile(crm, name: str, text: str) -> None:
    """The data repo's own profile NAME, committed."""
    folder = crm.root / ".opp" / "import"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(text)
    crm.git("add", ".opp/import")
    crm.git("-c", "user.name=T", "-c", "user.email=t@t", "commit", "-qm", f"profile {name}")


@pytest.mark.parametrize("profile, message", [
    ("map: {Companies: customer}\nlists: {Companies: ''}\n",
     "lists: the separator of 'Companies' is empty"),
    ("map: {Id: ref}\nsame_name: {Id: middle}\n",
     "same_name: 'Id' takes first or last, not 'middle'"),
])
def test_a_profile_that_cannot_be_read_is_refused(crm, unchanged, tmp_path, profile, message):
    repo_profile(crm, "mine", profile)
    path = tmp_path / "deals.csv"
    path.write_text("name,customer,Companies,Id,Id\nA,Acme,Acme;Beta,short,long-a\n")
    with unchanged:
        r = crm("import", path, "--profile", "mine", code=1)
    assert message in r.stderr


# The header of a real weekly Salesforce opportunities export, as a public project's test
# copies it verbatim (VTEX-US-SE/Rocketlane-MCP, python/tests/test_sf_pipeline.py): an
# org's own columns among Salesforce's, no owner column, "Opportunity ID" twice (the
# 15-character id, then the 18-character one), amounts with their currency code before
# them, day-first dates and "-" in empty cells. The rows are made up in its shape.
REAL_SALESFORCE_HEADER = (
    "Assigned SE,Stage,Opportunity Name,Owner Role,Account Name,Fiscal Period,Amount,"
    "Probability (%),Age,Created Date,Type,Forecast Category,ACV Preview,"
    "ACV Preview (USD),Close Date (2),Close Date,Total Sales Cycle Age,Sales Region,"
    "Lost Reason,Why did we lose?,Opportunity ID,Opportunity ID")
REAL_SALESFORCE_ROWS = [
    'Anna Neri,Commit & Signing,Acme B2B Marketplace,EMEA Sales Leader,Acme Global,'
    'Q3-2026,"USD 485,000.00",90%,305,16/10/2025,New Client,Commit,"USD 431,666.67",'
    '"431,666.67",30/09/2026,30/09/2026,305,Middle East and Africa,-,-,006U600000ZFcGz,'
    '006U600000ZFcGzIAL',
    'Anna Neri,Qualification,Beta Merchandise,EMEA Sales Leader,Beta,Q4-2026,'
    '"USD 500,000.00",5%,293,28/10/2025,New Client,Not Forecasted,"USD 500,000.00",'
    '"500,000.00",31/12/2026,31/12/2026,293,Middle East and Africa,-,-,006U600000a552N,'
    '006U600000a552NIAQ',
    'Luca Blu,Proposal,Gamma Grocery,EMEA Sales Leader,Gamma Energy,Q4-2026,-,50%,46,'
    '02/07/2026,New Client,Best Case,-,-,-,-,46,Middle East and Africa,-,-,'
    '006U600000zOBdV,006U600000zOBdVIAW',
]


def test_a_real_salesforce_export_with_the_id_twice_and_dashes_for_blanks(
        crm, unchanged, tmp_path):
    """Day-first dates need --date-format, an org's own stage a --stage-map; then the
    first "Opportunity ID" is the ref (the second is named as ignored), "-" is an empty
    cell, and the code before an amount is the deal's currency, not the repo's."""
    path = tmp_path / "pipeline-weekly.csv"
    path.write_text("\n".join([REAL_SALESFORCE_HEADER, *REAL_SALESFORCE_ROWS, ""]))
    with unchanged:
        r = crm("import", path, "--profile", "salesforce", code=1)
    assert f"{path}:2: Stage: unknown stage 'Commit & Signing'" in r.stdout
    assert day_first_hint("30/09/2026") in r.stdout
    r = crm("import", path, "--profile", "salesforce", "--date-format", "DD/MM/YYYY",
            "--stage-map", "Commit & Signing=negotiation")
    assert "3 created" in r.stderr
    assert ("ignored column(s): Assigned SE, Owner Role, Type, Forecast Category, ACV "
            "Preview, ACV Preview (USD), Close Date (2), Total Sales Cycle Age, Sales "
            "Region, Why did we lose?, Opportunity ID (2) (import one") in r.stderr
    deals = by_name(crm)
    acme = crm.json("show", deals["Acme B2B Marketplace"]["id"])
    assert (acme["ref"], acme["amount"], acme["currency"], acme["stage"], acme["close_date"],
            acme["created"], acme["customer"]) == (
        "006U600000ZFcGz", "485000.00", "USD", "negotiation", "2026-09-30", "2025-10-16",
        "Acme Global")
    assert (deals["Beta Merchandise"]["stage"], deals["Beta Merchandise"]["currency"]) == (
        "qualification", "USD")
    gamma = deals["Gamma Grocery"]
    assert (gamma["stage"], gamma["amount"], gamma["close_date"], gamma["currency"]) == (
        "proposal", "0.00", None, "EUR")  # "-" is no amount, no date: the repo's currency
    again = crm("import", path, "--profile", "salesforce", "--date-format", "DD/MM/YYYY",
                "--stage-map", "Commit & Signing=negotiation")
    assert "nothing changed" in again.stderr


def test_an_amount_in_another_currency_than_its_row_s_is_refused(crm, unchanged, tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text('name,customer,amount,currency,objective\n'
                    'A,Acme,"USD 1,000.00",EUR,\n'
                    'B,Acme,"$2,000.00",,"EUR 2,500.00"\n'
                    'C,Acme,"XYZ 5.00",,\n')
    with unchanged:
        r = crm("import", path, "--locale", "en_US", code=1)
    assert (f"{path}:2: amount 'USD 1,000.00' is in USD, but currency says EUR; a deal has "
            "one currency") in r.stdout
    assert (f"{path}:3: objective 'EUR 2,500.00' is in EUR, but amount says USD; a deal "
            "has one currency") in r.stdout
    assert (f"{path}:4: amount 'XYZ 5.00' names XYZ, which is no ISO 4217 currency code"
            ) in r.stdout


def test_a_profile_s_same_name_may_take_the_last(crm, tmp_path):
    repo_profile(crm, "twice", "map: {Id: ref, Deal: name}\nsame_name: {Id: last}\n")
    path = tmp_path / "deals.csv"
    path.write_text("Deal,customer,Id,Id\nA,Acme,short,long-a\n")
    crm("import", path, "--profile", "twice")
    assert by_name(crm)["A"]["ref"] == "long-a"
