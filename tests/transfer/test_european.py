"""European files end to end: a semicolon CSV in cp1252 with euro signs and accents, an
xlsx written by openpyxl with typed and text cells, HubSpot and Salesforce exports,
import profiles; round trips; refusals with their line and nothing written."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import Workbook, load_workbook

from oppcli import transfer
from oppcli.domain.settings import Settings

EU_ROWS = [["Nome", "Cliente", "Importo", "Data chiusura", "Fase"],
           ["Caffè Rossi", "Società Dolci", "€ 1.234,50", "15/01/2027", "proposal"],
           ["Secondo", "Bar Sport", "12.500,00", "31/12/2026", "qualification"],
           ["Terzo", "Perù Srl", "1234,5", "2027-02-01", ""]]
EU_MAPS = ["--map", "Nome=name", "--map", "Cliente=customer", "--map", "Importo=amount",
           "--map", "Data chiusura=close_date", "--map", "Fase=stage"]


def write_cp1252(path, rows):
    with open(path, "w", encoding="cp1252", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
    return path


def by_name(crm):
    return {o["name"]: o for o in crm.json("list")}


# ---------------------------------------------------------------- reading


def test_numbers_and_dates_of_a_locale():
    it = transfer.Reading.of("it", None)
    assert it.date_format == "DD/MM/YYYY"
    for text, value in (("1.234,50", "1234.50"), ("1234,50", "1234.50"),
                        ("€ 1.234,50", "1234.50"), ("1.234,50 €", "1234.50"),
                        ("12.500,00", "12500.00"), ("1.234", "1234.00"), ("EUR 7", "7.00"),
                        # plain, as opp exports: never a number grouped the it way
                        ("2314.69", "2314.69"), ("1.50", "1.50"), ("0.00", "0.00")):
        assert it.money(text, "amount") == D(value), text
    assert it.day("15/01/2027", "d") == date(2027, 1, 15)
    assert it.day("2027-01-15", "d") == date(2027, 1, 15)  # ISO always
    assert transfer.Reading.of("en_US", None).day("1/15/2027", "d") == date(2027, 1, 15)
    assert transfer.Reading.of("de", None).money("1.234,50", "a") == D("1234.50")
    assert transfer.Reading.of("de", None).day("15.01.2027", "d") == date(2027, 1, 15)
    assert transfer.Reading.of("fr", None).money("1 234,50", "a") == D("1234.50")
    # typed cells are taken as typed, whatever the locale
    assert it.money(D("1234.5"), "a") == D("1234.50")
    assert it.day(date(2027, 1, 15), "d") == date(2027, 1, 15)


@pytest.mark.parametrize("reading, text, words", [
    (transfer.Reading(), "1.234", "ambiguous"),
    (transfer.Reading(), "1,234", "ambiguous"),
    (transfer.Reading(), "1.234,50", "--locale it"),
    (transfer.Reading(), "€ 12", "--locale it"),
    (transfer.Reading.of("it", None), "1234.5", "the it way"),
    (transfer.Reading.of("it", None), "1234.5", "--locale en if the file writes 1,234.50"),
    (transfer.Reading.of("it", None), "1,234.50", "--locale en"),
    (transfer.Reading.of("it", None), "2314.690", "nor plain with two decimals"),
    (transfer.Reading.of("it", None), "12.34.567,00", "such as 1.234,50, nor"),
    (transfer.Reading.of("it", None), "1.23,4", "the it way"),
    (transfer.Reading.of("it", None), "dodici", "the it way"),
    (transfer.Reading.of("it", None), "1,005", "more than 2 decimals"),
])
def test_numbers_that_are_refused(reading, text, words):
    with pytest.raises(ValueError, match=words):
        reading.money(text, "amount")


def test_a_refusal_never_suggests_moving_the_decimal_point():
    # Babel would suggest 231.469 (two hundred thousand) for 2314.690: no guess at all
    with pytest.raises(ValueError) as info:
        transfer.Reading.of("it", None).money("2314.690", "amount")
    assert "did you mean" not in str(info.value) and "231.469" not in str(info.value)


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_the_export_of_an_italian_repo_imports_back_exactly(crm, tmp_path, fmt):
    """CSV and TSV never change with the locale: an it repo reads its own export back,
    into itself (nothing changes) and into another it repo (the same deals)."""
    crm("config", "set", "locale", "it")
    crm.new("Uno", "--customer", "ACME S.r.l.", "--amount", "2314.69", "--close-date",
            "2027-01-15", "--objective", "1000.50")
    crm.new("Due", "--customer", "Bar Sport", "--amount", "1234", "--stage", "proposal")
    crm("close", crm.new("Tre", "--amount", "0.10"), "--won", "--date", "2026-11-01")
    out = tmp_path / f"all.{fmt}"
    crm("export", "--format", fmt, "-o", out)
    assert "2314.69" in out.read_text() and "1234.00" in out.read_text()
    before, head = crm.json("export"), crm.head()
    assert "0 created, 0 updated, 3 unchanged" in crm("import", out, "--dry-run").stderr
    assert "nothing changed (3 unchanged); no commit" in crm("import", out).stderr
    assert crm.head() == head
    from conftest import Opp

    other = Opp(tmp_path / "other")
    other("init", str(other.root), "--locale", "it")
    other("--repo", other.root, "import", out)
    left_out = ("customer_id", "timeline", "stage_label")  # labels: init --locale it
    assert [{k: v for k, v in o.items() if k not in left_out}
            for o in other.json("--repo", other.root, "export")] == [
        {k: v for k, v in o.items() if k not in left_out} for o in before]


@pytest.mark.parametrize("fmt, text", [("DD/MM/YYYY", "31/02/2027"),
                                       ("DD/MM/YYYY", "12/31/2026"),
                                       ("MM/DD/YYYY", "31/12/2026"),
                                       ("DD.MM.YYYY", "15/01/2027")])
def test_impossible_dates_are_refused(fmt, text):
    with pytest.raises(ValueError, match=f"written {fmt}"):
        transfer.Reading(None, fmt).day(text, "close_date")


def test_encodings_and_boms():
    text = "name;amount\nCaffè;€ 5\n"
    assert transfer.decode(text.encode("cp1252"), "cp1252") == text
    assert transfer.decode(b"\xef\xbb\xbf" + text.encode()) == text
    assert transfer.decode(text.encode("utf-16")) == text  # Excel's "Unicode text"
    assert transfer.decode(b"\xef\xbb\xbf" + text.encode(), "cp1252") == text  # the BOM wins
    with pytest.raises(transfer.OppError if hasattr(transfer, "OppError") else Exception,
                       match="--encoding cp1252") as info:
        transfer.decode(b"a\nb\n" + text.encode("cp1252"))
    assert info.value.line == 4
    with pytest.raises(Exception, match="no such encoding"):
        transfer.decode(b"x", "klingon")
    assert transfer.check_delimiter("tab") == "\t" and transfer.check_delimiter(";") == ";"
    with pytest.raises(Exception, match="one character"):
        transfer.check_delimiter(";;")


# ---------------------------------------------------------------- real files


def test_a_european_excel_csv_in_cp1252(crm, unchanged, tmp_path):
    path = write_cp1252(tmp_path / "excel.csv", EU_ROWS)
    with unchanged:
        r = crm("import", path, *EU_MAPS, code=1)  # not UTF-8: the line and the option
        assert f"{path}:2: not valid UTF-8" in r.stderr and "--encoding cp1252" in r.stderr
        r = crm("import", path, "--encoding", "cp1252", *EU_MAPS, code=1)  # no locale
        assert "12.500,00" in r.stdout and "--locale it" in r.stdout
        assert ":2:" in r.stdout and ":3:" in r.stdout
    crm("import", path, "--encoding", "cp1252", "--locale", "it", *EU_MAPS)
    deals = by_name(crm)
    assert deals["Caffè Rossi"]["customer"] == "Società Dolci"
    assert deals["Caffè Rossi"]["amount"] == "1234.50"
    assert deals["Caffè Rossi"]["close_date"] == "2027-01-15"
    assert deals["Secondo"]["amount"] == "12500.00"
    assert deals["Secondo"]["close_date"] == "2026-12-31"
    assert deals["Terzo"]["amount"] == "1234.50" and deals["Perù Srl" and "Terzo"]
    # the repo's locale does it too, with no option
    crm("config", "set", "locale", "it")
    crm("import", path, "--encoding", "cp1252", *EU_MAPS, "--dry-run")


def test_a_customer_cell_is_the_account_it_names_not_its_spelling(crm, tmp_path):
    """Two spellings of one account: the re-import of the same file changes nothing and
    commits nothing; a cell naming another account (by alias or id) moves the deal."""
    crm("config", "set", "locale", "it")
    rows = [["name", "customer", "stage", "amount", "close_date", "ref"],
            ["A", "ACME S.r.l.", "proposal", "1.234,50", "15/01/2027", "R1"],
            ["B", "ACME srl", "negotiation", "€ 2.000,00", "28/02/2027", "R2"]]
    path = write_cp1252(tmp_path / "c.csv", rows)
    assert "2 created" in crm("import", path, "--encoding", "cp1252").stderr
    [acme] = crm.json("account", "list")
    head = crm.head()
    dry = crm("import", path, "--encoding", "cp1252", "--dry-run")
    assert "0 created, 0 updated, 2 unchanged" in dry.stderr
    again = crm("import", path, "--encoding", "cp1252")
    assert "nothing changed (2 unchanged); no commit" in again.stderr
    assert crm.head() == head and crm.status() == ""
    other = crm("account", "add", "Beta SpA", "--alias", "Beta Milano").stdout.strip()
    rows[1][1], rows[2][1] = "beta milano", acme["id"]
    report = crm.json("import", write_cp1252(tmp_path / "d.csv", rows), "--encoding",
                      "cp1252")
    assert [(r["ref"], r["action"], r["changed"]) for r in report["rows"]] == [
        ("R1", "update", ["customer"]), ("R2", "unchanged", [])]
    deals = {o["ref"]: o for o in crm.json("list")}
    assert (deals["R1"]["customer"], deals["R2"]["customer"]) == ("Beta SpA", "ACME S.r.l.")
    assert crm.json("show", deals["R1"]["id"])["customer_id"] == other
    assert len(crm.json("account", "list")) == 2  # no account made from a spelling


def test_refusals_name_their_line_and_write_nothing(crm, unchanged, tmp_path):
    rows = [["name", "customer", "amount", "close_date"],
            ["ok", "A", "10", "2027-01-01"],
            ["amb", "B", "1.234", "2027-01-01"],
            ["bad date", "C", "5", "31/02/2027"]]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n")
    with unchanged:
        r = crm("import", path, code=1)
        assert f"{path}:3: amount '1.234' is ambiguous" in r.stdout
        r = crm("import", path, "--date-format", "DD/MM/YYYY", code=1)
        assert f"{path}:4: close_date '31/02/2027' is not a real date" in r.stdout
        crm("import", path, "--date-format", "YY", code=2)
        crm("import", path, "--encoding", "nope", code=2)
        crm("import", path, "--delimiter", "ab", code=2)
        crm("import", path, "--locale", "xx", code=2)
        r = crm("import", path, "--profile", "nope", code=2)
        assert "hubspot, salesforce" in r.stderr
        crm("import", path, "--sheet", "Foglio1", code=2)  # a CSV has no sheets


def _workbook(path):
    book = Workbook()
    page = book.active
    page.title = "Trattative"
    page.append(["name", "customer", "amount", "close_date", "ref", "stage"])
    page.append(["Typed", "Acme", 1234.5, datetime(2027, 1, 15), 1001, "proposal"])
    page.append(["Text", "Beta", "2500.00", "2027-03-01", "R-2", None])
    page.append([None, None, None, None, None, None])  # a blank row is skipped
    page.append(["Float", "Gamma", 0.1 + 0.2, date(2026, 12, 31), 1003, None])
    page.append(["Integer", "Delta", 7, None, 1004, None])
    other = book.create_sheet("Altro")
    other.append(["name", "customer"])
    other.append(["From the second sheet", "Z"])
    book.save(path)
    return path


def test_an_xlsx_with_typed_and_text_cells(crm, tmp_path):
    path = _workbook(tmp_path / "deals.xlsx")
    crm("import", path)
    deals = by_name(crm)
    assert deals["Typed"]["amount"] == "1234.50" and deals["Typed"]["close_date"] == "2027-01-15"
    assert crm.json("show", deals["Typed"]["id"])["ref"] == "1001"
    assert deals["Text"]["amount"] == "2500.00" and deals["Text"]["close_date"] == "2027-03-01"
    assert deals["Float"]["amount"] == "0.30"  # 0.30000000000000004 as the sheet shows it
    assert deals["Integer"]["amount"] == "7.00"
    crm("import", path, "--sheet", "Altro")
    assert "From the second sheet" in by_name(crm)
    # as Excel names sheets: case ignored (it allows no two names differing in case only)
    assert "would be 1 created" in crm("import", path, "--sheet", "altro ", "--dry-run").stderr
    r = crm("import", path, "--sheet", "Nope", code=2)
    assert "Trattative, Altro" in r.stderr
    crm("import", path, "--encoding", "cp1252", code=2)


def test_xlsx_refusals_give_the_row_numbers(crm, unchanged, tmp_path):
    book = Workbook()
    page = book.active
    page.append(["name", "customer", "amount", "close_date"])
    page.append(["ok", "A", 10, date(2027, 1, 1)])
    page.append([None, None, None, None])
    page.append(["money as date", "B", datetime(2027, 1, 1), None])
    page.append(["date as number", "C", 5, 46000])
    page.append(["three decimals", "D", 1.234, None])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with unchanged:
        r = crm("import", path, code=1)
    lines = r.stdout.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:4", f"{path}:5", f"{path}:6"]
    assert "is a date" in lines[0] and "not a date" in lines[1]
    assert lines[2] == (f"{path}:6: amount (cell C6 of sheet 'Sheet') holds 1.234 (the sheet "
                        "may show it rounded): money has at most 2 decimals, and opp rounds "
                        "only the totals it computes, never a number it reads; make the cell "
                        "1.23 in the sheet")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    with unchanged:
        assert "not a readable xlsx" in crm("import", tmp_path / "broken.xlsx", code=1).stderr


def test_a_cover_sheet_before_the_deals_suggests_the_sheet(crm, unchanged, tmp_path):
    """An xlsx whose first sheet is a cover (a title, no header) is refused naming the
    sheets and the one whose header opp reads; --sheet imports it."""
    path = _workbook(tmp_path / "deals.xlsx")
    book = load_workbook(path)
    cover = book.create_sheet("Copertina", 0)
    cover.append(["Pipeline Q1 2027", None, "Riservato"])
    book.save(path)
    with unchanged:
        r = crm("import", path, code=1)
    assert r.stdout == ""
    assert r.stderr == (f"error: {path}:1: sheet 'Copertina' has no header opp reads (its "
                        "first row: 'Pipeline Q1 2027', 'Riservato'); sheets 'Trattative', 'Altro' "
                        "have one: name one with --sheet NAME (the file's sheets: Copertina, "
                        "Trattative, Altro)\n")
    crm("import", path, "--sheet", "Trattative")
    assert "Typed" in by_name(crm)


def test_export_xlsx_and_import_it_again(crm, tmp_path):
    a = crm.new("Alpha", "--amount", "1234.50", "--close-date", "2027-01-15",
                "--objective", "2000")
    b = crm.new("Beta =1+1", "--amount", "0")
    crm("add-product", b, "SRV-01")
    crm("close", crm.new("Gamma", "--amount", "99.99"), "--won", "--date", "2026-11-01")
    out = tmp_path / "all.xlsx"
    r = crm("export", "--format", "xlsx", "-o", out)
    assert r.stdout == "" and "3 opportunities" in r.stderr
    crm("export", "--format", "xlsx", code=2)  # xlsx needs a file
    page = load_workbook(out).active
    header = [c.value for c in page[1]]
    assert header == list(transfer.OPPORTUNITY_FIELDS)
    rows = {r[header.index("name")].value: r for r in page.iter_rows(min_row=2)}
    amount = rows["Alpha"][header.index("amount")]
    assert amount.value == 1234.5 and amount.number_format == "#,##0.00"
    assert amount.data_type == "n"
    day = rows["Alpha"][header.index("close_date")]
    assert day.is_date and day.value.date() == date(2027, 1, 15)
    assert rows["Beta =1+1"][header.index("name")].data_type == "s"  # never a formula
    # the same deals come back: into this repo nothing changes, into a new one all of them
    before = crm.json("export")
    r = crm("import", out)
    assert "nothing changed" in r.stderr
    csv_out = tmp_path / "all.csv"
    crm("export", "-o", csv_out)
    assert csv_out.read_text() == crm("export").stdout
    crm("export", "--format", "tsv", "-o", tmp_path / "all.tsv")
    assert "\t" in (tmp_path / "all.tsv").read_text()
    from conftest import Opp

    other = Opp(tmp_path / "other")
    other("init", str(other.root))
    other("--repo", other.root, "catalog", "add", "SRV-01", "--name", "Support plan",
          "--price", "1200", "--unit", "year")
    other("--repo", other.root, "import", out)
    after = other.json("--repo", other.root, "export")
    # the same deals; their customers are accounts the import made anew (new ids)
    left_out = ("activities", "notes", "products", "timeline", "customer_id")
    strip = [{k: v for k, v in o.items() if k not in left_out} for o in before]
    assert [{k: v for k, v in o.items() if k not in left_out} for o in after] == strip
    assert a in {o["id"] for o in after}


HUBSPOT = """Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Pipeline,\
Associated Company,Create Date,Deal Type,Last Activity Date
1001,Acme upgrade,Appointment Scheduled,2027-01-15 00:00,Giulia Bianchi,12500,Sales Pipeline,\
Acme Srl,2026-10-01 09:12,newbusiness,
1002,Beta renewal,contractsent,2026-12-31,Marco Verdi,4300.5,Sales Pipeline,,2026-09-15,\
existingbusiness,2026-11-02
1003,Gamma lost,Closed Lost,2026-11-01,Marco Verdi,900,Sales Pipeline,Gamma SpA,2026-08-01,\
newbusiness,
1004,Delta won,closedwon,2026-10-20,Giulia Bianchi,1500,Sales Pipeline,Delta,2026-07-01,,
1005,Eps,Qualified To Buy,,Giulia Bianchi,,Sales Pipeline,Eps,2026-07-01,,
1006,Zeta,decisionmakerboughtin,,Giulia Bianchi,,Sales Pipeline,Zeta,2026-07-01,,
1007,Eta,presentationscheduled,,Giulia Bianchi,,Sales Pipeline,Eta,2026-07-01,,
"""


def test_a_hubspot_export_with_its_profile_and_no_other_flag(crm, tmp_path):
    path = tmp_path / "hubspot-crm-exports-all-deals.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HUBSPOT.encode())
    r = crm("import", path, "--profile", "hubspot")
    assert "7 created" in r.stderr
    deals = by_name(crm)
    assert [deals[n]["stage"] for n in ("Acme upgrade", "Beta renewal", "Gamma lost",
                                        "Delta won", "Eps", "Zeta", "Eta")] == [
        "prospecting", "negotiation", "closed-lost", "closed-won", "qualification",
        "negotiation", "proposal"]
    assert deals["Beta renewal"]["customer"] == "(no company)"
    assert deals["Beta renewal"]["amount"] == "4300.50"
    assert deals["Acme upgrade"]["owner"] == "Giulia Bianchi"
    assert crm.json("show", deals["Acme upgrade"]["id"])["ref"] == "1001"
    # weekly: the same export again changes nothing
    assert "nothing changed" in crm("import", path, "--profile", "hubspot").stderr


SALESFORCE = """"Opportunity Owner","Account Name","Opportunity Name","Stage","Fiscal Period",\
"Amount","Probability (%)","Age","Close Date","Created Date","Next Step","Lead Source","Type"
"Anna Neri","Acme Srl","Acme - 200 licenze","Needs Analysis","Q1-2027","$12,500.00","20","34",\
"1/15/2027","10/1/2026","","Web","New Customer"
"Anna Neri","Beta SpA","Beta rinnovo","Id. Decision Makers","Q4-2026","4,300.50","60","80",\
"12/31/2026","9/1/2026","","Partner","Existing Customer"
"Luca Blu","Gamma","Gamma","Proposal/Price Quote","Q4-2026","900","75","10","12/1/2026",\
"11/1/2026","","",""
"Luca Blu","Delta","Delta","Closed Won","Q4-2026","1,500.00","100","10","10/20/2026",\
"9/1/2026","","",""
"Luca Blu","Eps","Eps","Value Proposition","","","50","","","9/1/2026","","",""
"Luca Blu","Zeta","Zeta","Perception Analysis","","","70","","","9/1/2026","","",""
"Luca Blu","Eta","Eta","Negotiation/Review","","","90","","","9/1/2026","","",""
"Luca Blu","Theta","Theta","Prospecting","","","10","","","9/1/2026","","",""
"Luca Blu","Iota","Iota","Closed Lost","","","0","","10/1/2026","9/1/2026","","",""
"Luca Blu","Kappa","Kappa","Qualification","","","10","","","9/1/2026","","",""
"""


def test_a_salesforce_export_with_its_profile(crm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    path = tmp_path / "report.csv"
    path.write_text(SALESFORCE)
    crm("import", path, "--profile", "salesforce")
    deals = by_name(crm)
    assert deals["Acme - 200 licenze"]["amount"] == "12500.00"
    assert deals["Acme - 200 licenze"]["close_date"] == "2027-01-15"
    assert deals["Beta rinnovo"]["amount"] == "4300.50"
    assert [deals[n]["stage"] for n in ("Acme - 200 licenze", "Beta rinnovo", "Gamma",
                                        "Delta", "Eps", "Zeta", "Eta", "Theta", "Iota",
                                        "Kappa")] == [
        "qualification", "proposal", "proposal", "closed-won", "proposal", "proposal",
        "negotiation", "prospecting", "closed-lost", "qualification"]
    # an Italian user's export: its own locale wins over the profile's
    it = tmp_path / "it.csv"
    it.write_text('"Opportunity Name","Account Name","Amount","Close Date","Stage"\n'
                  '"Omega","Omega Srl","1.234,50","15/01/2027","Negotiation/Review"\n')
    crm("import", it, "--profile", "salesforce", "--locale", "it")
    assert by_name(crm)["Omega"]["close_date"] == "2027-01-15"


def test_repo_profiles_win_and_are_listed(crm, tmp_path, unchanged):
    folder = crm.root / ".opp" / "import"
    folder.mkdir(parents=True)
    (folder / "gestionale.yaml").write_text(
        "map:\n  Nome: name\n  Cliente: customer\n  Importo: amount\n  Chiusura: close_date\n"
        "  Fase: stage\n  Note: null\nstage_map:\n  Trattativa: negotiation\n"
        "defaults:\n  owner: ufficio vendite\nlocale: it\ndelimiter: ';'\nencoding: cp1252\n")
    (folder / "hubspot.yaml").write_text("map:\n  Deal Name: name\n")
    crm.git("add", ".opp/import")
    crm.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "profiles")
    listed = crm.json("import", "profiles")
    assert listed == [{"name": "gestionale", "source": ".opp/import/gestionale.yaml"},
                      {"name": "hubspot", "source": ".opp/import/hubspot.yaml"},
                      {"name": "salesforce", "source": "built-in"}]
    assert "gestionale" in crm("import", "profiles").stdout
    path = write_cp1252(tmp_path / "g.csv", [
        ["Nome", "Cliente", "Importo", "Chiusura", "Fase", "Note"],
        ["Caffè", "Società", "€ 1.234,50", "15/01/2027", "Trattativa", "x"]])
    r = crm("import", path, "--profile", "gestionale")
    assert "ignored" not in r.stderr
    deal = by_name(crm)["Caffè"]
    assert (deal["amount"], deal["stage"], deal["owner"], deal["close_date"]) == (
        "1234.50", "negotiation", "ufficio vendite", "2027-01-15")
    # the command line adds to the profile and wins over it
    path = write_cp1252(tmp_path / "h.csv", [["Nome", "Cliente", "Valore"],
                                             ["Due", "Altro", "7,00"]])
    crm("import", path, "--profile", "gestionale", "--map", "Valore=amount", "--default",
        "owner=io")
    assert (by_name(crm)["Due"]["amount"], by_name(crm)["Due"]["owner"]) == ("7.00", "io")
    (folder / "rotto.yaml").write_text("mappa: {}\n")
    head = crm.head()
    r = crm("import", path, "--profile", "rotto", code=1)
    assert crm.head() == head
    assert "rotto.yaml" in r.stderr and "unknown key 'mappa'" in r.stderr


def test_the_profiles_shipped_parse_and_cover_the_standard_stages():
    hub = transfer.find_profile("hubspot", None)
    for name in ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                 "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"):
        assert name in hub.stage_map
    for header in ("Deal Name", "Amount", "Close Date", "Deal Stage", "Deal owner",
                   "Associated Company"):
        assert header in hub.maps
    sf = transfer.find_profile("salesforce", None)
    assert set(sf.stage_map) == {"Prospecting", "Qualification", "Needs Analysis",
                                 "Value Proposition", "Id. Decision Makers",
                                 "Perception Analysis", "Proposal/Price Quote",
                                 "Negotiation/Review", "Closed Won", "Closed Lost"}
    stages = {s.id for s in Settings().stages}
    assert set(hub.stage_map.values()) <= stages and set(sf.stage_map.values()) <= stages
    assert json.dumps(sorted(n for n, _ in transfer.available(None))) == \
        '["hubspot", "salesforce"]'


def test_a_deal_list_with_a_title_above_its_header(crm, unchanged, tmp_path):
    """A deal list whose title and an empty row stand above its header (row 3) imports,
    its columns named by opp's aliases or by --map; a dry run says the same; an error
    names the sheet's row."""
    book = Workbook()
    page = book.active
    page.title = "Trattative"
    page.append(["Trattative aperte", "Q1 2027"])
    page.append([])
    page.append(["Nome", "Cliente", "Importo", "Data chiusura", "Fase"])
    page.append(["Caffè Rossi", "Società Dolci", 1234.5, date(2027, 1, 15), "proposal"])
    page.append(["Secondo", "Bar Sport", "12.500,00", "31/12/2026", "qualification"])
    path = tmp_path / "trattative.xlsx"
    book.save(path)
    with unchanged:
        r = crm("import", path, *EU_MAPS, "--locale", "it", "--dry-run")
    assert "2 created" in r.stderr
    crm("import", path, *EU_MAPS, "--locale", "it")
    deals = by_name(crm)
    assert [(deals[n]["customer"], deals[n]["amount"], deals[n]["close_date"])
            for n in ("Caffè Rossi", "Secondo")] == [
        ("Società Dolci", "1234.50", "2027-01-15"), ("Bar Sport", "12500.00", "2026-12-31")]
    page.append(["Terzo", "Perù Srl", "1.234", "31/02/2027", "proposal"])
    page.delete_rows(4, 2)
    page.insert_rows(1)  # the title now on row 2: the header on 4, the bad row on 5
    page["A1"] = "Riservato"
    english = book.create_sheet("Deals")
    english.append(["Open deals"])
    english.append(["name", "customer", "amount"])
    english.append(["Quarto", "Acme", 99.5])
    book.save(path)
    with unchanged:
        r = crm("import", path, *EU_MAPS, "--locale", "it", code=1)
    assert r.stdout.startswith(f"{path}:5: ")
    crm("import", path, "--sheet", "Deals")
    assert by_name(crm)["Quarto"]["amount"] == "99.50"
