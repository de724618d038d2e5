"""``opp catalog import`` of European price lists, as ``opp import`` reads European
files: a semicolon CSV in cp1252 with euro signs and accents, an xlsx written by
openpyxl, the locale by option, opp.yaml or OPP_LOCALE; refusals at their line with
nothing written."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import Workbook

from oppcli import transfer
from oppcli.domain.model import Catalog, CatalogItem

LISTINO = [["Codice", "Descrizione", "Prezzo", "Unità"],
           ["CAF-01", "Caffè in grani", "€ 12,00", "kg"],
           ["MAC-PRO", "Macchina espresso", "1.234,50", "pz"],
           ["SRV-01", "Assistenza", "€ 1.300,00", ""],
           ["TAZ", "Tazzine (6 pz.)", "9,9", ""]]
MAPS = ["--map", "Codice=sku", "--map", "Descrizione=name", "--map", "Prezzo=price",
        "--map", "Unità=unit"]


def write_cp1252(path, rows):
    with open(path, "w", encoding="cp1252", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
    return path


def catalog_of(crm):
    return {p["sku"]: p for p in crm.json("catalog", "list")}


def test_prices_are_read_as_the_reading_says():
    table = transfer.Table(["sku", "name", "price"],
                           [(2, ["A", "Alpha", "1.234,50"]), (3, ["B", "Beta", D("7.5")]),
                            (4, ["C", "Gamma", "€ 12"])])
    columns = transfer.map_columns(table.header, transfer.CATALOG_FIELDS,
                                   transfer.CATALOG_ALIASES)
    plan = transfer.plan_catalog_import(table, columns, Catalog(),
                                        transfer.Reading.of("it", None))
    assert not plan.errors
    assert [(p.sku, p.price) for p in plan.created] == [
        ("A", D("1234.50")), ("B", D("7.50")), ("C", D("12.00"))]
    plain = transfer.plan_catalog_import(table, columns, Catalog())
    assert [(e.line, "--locale it" in e.message) for e in plain.errors] == [
        (2, True), (4, True)]
    # a typed number is never read as text: a date typed in the price column is refused
    dated = transfer.Table(["sku", "price"], [(2, ["A", date(2027, 1, 1)])])
    plan = transfer.plan_catalog_import(
        dated, transfer.map_columns(dated.header, transfer.CATALOG_FIELDS,
                                    transfer.CATALOG_ALIASES),
        Catalog(products=[CatalogItem(sku="A", name="A", price=D(1))]))
    assert "is a date" in plan.errors[0].message


def test_a_price_in_another_currency_than_the_catalog_s_is_refused():
    table = transfer.Table(["sku", "name", "price"],
                           [(2, ["A", "Alpha", "€ 12"]), (3, ["B", "Beta", "USD 7,50"]),
                            (4, ["C", "Gamma", "XYZ 1"])])
    columns = transfer.map_columns(table.header, transfer.CATALOG_FIELDS,
                                   transfer.CATALOG_ALIASES)
    plan = transfer.plan_catalog_import(table, columns, Catalog(),
                                        transfer.Reading.of("it", None), "EUR")
    assert [(e.line, e.message) for e in plan.errors] == [
        (3, "price 'USD 7,50' is in USD, but the catalog's prices are in EUR (opp.yaml's "
            "currency)"),
        (4, "price 'XYZ 1' names XYZ, which is no ISO 4217 currency code; write the "
            "amount's code, such as EUR, USD, GBP or CHF")]


def test_a_european_price_list_in_cp1252(crm, unchanged, tmp_path):
    path = write_cp1252(tmp_path / "listino.csv", LISTINO)
    with unchanged:
        r = crm("catalog", "import", path, *MAPS, code=1)  # the header: à
        assert r.stderr == (f"error: {path}:1: not valid UTF-8 (byte 0xe0); a file saved by "
                            "Excel on Windows is often cp1252: import it with --encoding "
                            "cp1252\n")
        r = crm("catalog", "import", path, *MAPS, "--encoding", "cp1252", code=1)  # no locale
        assert [line.split(": ")[0] for line in r.stdout.splitlines()] == [
            f"{path}:{n}" for n in (2, 3, 4, 5)]
        assert "1.234,50" in r.stdout and "--locale it" in r.stdout
        assert r.stderr == f"error: 4 problem(s) in 4 row(s) of {path}; nothing was imported\n"
    dry = crm.json("catalog", "import", path, *MAPS, "--encoding", "cp1252", "--locale", "it",
                   "--dry-run")
    assert (dry["created"], dry["updated"], dry["errors"]) == (3, 1, [])
    before = crm.commits()
    r = crm("catalog", "import", path, *MAPS, "--encoding", "cp1252", "--locale", "it",
            "--delimiter", ";")
    assert "3 created, 1 updated, 0 unchanged; one commit" in r.stderr
    assert crm.commits() == before + 1
    cat = catalog_of(crm)
    assert (cat["CAF-01"]["name"], cat["CAF-01"]["price"], cat["CAF-01"]["unit"]) == (
        "Caffè in grani", "12.00", "kg")
    assert cat["MAC-PRO"]["price"] == "1234.50" and cat["TAZ"]["price"] == "9.90"
    assert (cat["SRV-01"]["name"], cat["SRV-01"]["price"], cat["SRV-01"]["unit"]) == (
        "Assistenza", "1300.00", "year")  # a blank cell keeps what the catalog has
    # the repo's locale and OPP_LOCALE read it too, with no --locale: nothing changes
    crm("config", "set", "locale", "it")
    head = crm.head()
    r = crm("catalog", "import", path, *MAPS, "--encoding", "cp1252")
    assert "0 created, 0 updated, 4 unchanged; no commit" in r.stderr and crm.head() == head
    # the catalog's own CSV (plain 1234.50) imports back into the it repo unchanged
    own = crm("catalog", "list", "--format", "csv").stdout
    assert "1234.50" in own
    r = crm("catalog", "import", "-", input=own)
    assert "0 created, 0 updated, 6 unchanged; no commit" in r.stderr and crm.head() == head
    crm("config", "set", "locale", "en")
    head = crm.head()
    r = crm("catalog", "import", path, *MAPS, "--encoding", "cp1252", env={"OPP_LOCALE": "it"})
    assert "4 unchanged; no commit" in r.stderr and crm.head() == head


def test_ambiguous_prices_are_refused_never_guessed(crm, unchanged, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,name,price\nA,Alpha,10\nB,Beta,1.234\nC,Gamma,\"1,234\"\n")
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    lines = r.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{path}:3", f"{path}:4"]
    assert lines[0].endswith("price '1.234' is ambiguous: a dot grouping thousands, or three "
                             "decimals? Write it without grouping (1234), or import with "
                             "--locale it if the file writes 1.234,50")
    assert "price '1,234' is ambiguous" in lines[1]
    with unchanged:  # the options are checked before the file is read: usage errors
        crm("catalog", "import", path, "--locale", "xx", code=2)
        crm("catalog", "import", path, "--encoding", "nope", code=2)
        crm("catalog", "import", path, "--delimiter", "ab", code=2)
        crm("catalog", "import", path, "--sheet", "Foglio1", code=2)  # a CSV has no sheets
        crm("catalog", "import", path, "--date-format", "DD/MM/YYYY", code=2)  # no dates
    with unchanged:  # in it, 1,234 has three decimals: refused too, never rounded
        r = crm("catalog", "import", path, "--locale", "it", code=1)
    assert r.stdout.startswith(f"{path}:4: price '1,234'")
    path.write_text("sku,name,price\nA,Alpha,10\nB,Beta,1.234\n")
    crm("catalog", "import", path, "--locale", "it")  # in it, 1.234 is 1234
    assert catalog_of(crm)["B"]["price"] == "1234.00"


def test_a_price_list_in_xlsx(crm, unchanged, tmp_path):
    book = Workbook()
    book.active.title = "Riepilogo"
    book.active.append(["nothing to import here"])
    page = book.create_sheet("Listino")
    page.append(["Codice", "Descrizione", "Prezzo", "Unità"])
    page.append(["CAF-01", "Caffè in grani", 12, "kg"])            # typed numbers
    page.append(["MAC-PRO", "Macchina espresso", 1234.5, "pz"])
    page.append(["TAZ", "Tazzine", "9,90", None])                 # text, the locale's way
    page.append([None, None, None, None])                         # skipped
    page.append([1001, "Codice numerico", 0.1 + 0.2, None])       # a number as a SKU
    path = tmp_path / "listino.xlsx"
    book.save(path)
    with unchanged:
        r = crm("catalog", "import", path, *MAPS, "--sheet", "Listino", code=1)
        assert r.stdout.startswith(f"{path}:4: Prezzo '9,90'") and "--locale it" in r.stdout
        crm("catalog", "import", path, *MAPS, "--sheet", "Listino", "--encoding", "cp1252",
            code=2)  # an xlsx has no encoding
        r = crm("catalog", "import", path, *MAPS, "--sheet", "Nope", code=2)
        assert "Riepilogo, Listino" in r.stderr
    crm("catalog", "import", path, *MAPS, "--sheet", "Listino", "--locale", "it")
    cat = catalog_of(crm)
    assert [(s, cat[s]["price"]) for s in ("CAF-01", "MAC-PRO", "TAZ", "1001")] == [
        ("CAF-01", "12.00"), ("MAC-PRO", "1234.50"), ("TAZ", "9.90"), ("1001", "0.30")]
    bad = Workbook()
    bad.active.append(["sku", "name", "price"])
    bad.active.append(["OK", "Ok", 5])
    bad.active.append(["X", "Three decimals", 1.234])
    bad.active.append(["Y", "A date", date(2027, 1, 1)])
    bad.save(tmp_path / "bad.xlsx")
    with unchanged:
        r = crm("catalog", "import", tmp_path / "bad.xlsx", code=1)
    assert [line.split(": ")[0] for line in r.stdout.splitlines()] == [
        f"{tmp_path / 'bad.xlsx'}:3", f"{tmp_path / 'bad.xlsx'}:4"]


@pytest.mark.parametrize("cell", ["1.234,5,0", "€€ 5", "12,345"])
def test_malformed_prices_with_a_locale(crm, unchanged, tmp_path, cell):
    path = tmp_path / "p.csv"
    path.write_text(f"sku;name;price\nA;Alpha;{cell}\n")
    with unchanged:
        r = crm("catalog", "import", path, "--locale", "it", code=1)
    assert r.stdout.startswith(f"{path}:2: price '{cell}'")


def test_an_italian_price_list_needs_no_map(crm, tmp_path):
    """What the manual and 'opp catalog import --help' show: an Italian listino
    (Codice;Descrizione;Prezzo;Unità, cp1252, € 1.234,50) imports with --locale it and
    --encoding cp1252 alone. A description is the product's name only when no column
    names it: beside a Nome column it is left out, and the import says so."""
    path = write_cp1252(tmp_path / "listino.csv", LISTINO)
    r = crm("catalog", "import", path, "--locale", "it", "--encoding", "cp1252")
    assert "3 created, 1 updated" in r.stderr and "ignored" not in r.stderr
    cat = catalog_of(crm)
    assert (cat["CAF-01"]["name"], cat["CAF-01"]["price"], cat["CAF-01"]["unit"]) == (
        "Caffè in grani", "12.00", "kg")
    assert cat["MAC-PRO"]["price"] == "1234.50"
    other = write_cp1252(tmp_path / "listino-2.csv", [
        ["Codice articolo", "Nome prodotto", "Descrizione", "Prezzo di listino", "U.M."],
        ["TAZ", "Tazzine", "Sei tazzine in porcellana", "€ 10,50", "conf"]])
    r = crm("catalog", "import", other, "--locale", "it", "--encoding", "cp1252")
    assert "note: ignored column(s): Descrizione" in r.stderr
    assert (catalog_of(crm)["TAZ"]["name"], catalog_of(crm)["TAZ"]["price"],
            catalog_of(crm)["TAZ"]["unit"]) == ("Tazzine", "10.50", "conf")
    english = tmp_path / "price-list.csv"
    english.write_text("Item Code,Description,Unit Price\nLIC-10,Licence pack,89.90\n")
    crm("catalog", "import", english)
    assert (catalog_of(crm)["LIC-10"]["name"], catalog_of(crm)["LIC-10"]["price"]) == (
        "Licence pack", "89.90")


def test_a_price_written_the_us_way_suggests_the_us_locale(crm, unchanged, tmp_path):
    """1,234.50 has a comma but is no European number: the hint names --locale en,
    which reads it, not --locale it, which would refuse it again."""
    path = tmp_path / "us.csv"
    path.write_text('sku,name,price\nA,Alpha,"1,234.50"\nB,Beta,"$12,500.00"\nC,Gamma,"12,5"\n')
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    lines = r.stdout.splitlines()
    assert lines[0].endswith("price '1,234.50' has a thousands separator; write it without "
                             "one, with a dot for decimals, e.g. 1234.50; a file written the "
                             "US way (1,234.50) imports with --locale en")
    assert "US way" in lines[1] and "--locale it" not in lines[0] + lines[1]
    assert "--locale it" in lines[2]
    path.write_text('sku,name,price\nA,Alpha,"1,234.50"\nB,Beta,"$12,500.00"\n')
    with unchanged:  # dollars, as en writes them: not the catalog's euros
        r = crm("catalog", "import", path, "--locale", "en", code=1)
    assert "price '$12,500.00' is in USD, but the catalog's prices are in EUR" in r.stdout
    path.write_text('sku,name,price\nA,Alpha,"1,234.50"\nB,Beta,"€12,500.00"\n')
    crm("catalog", "import", path, "--locale", "en")
    assert (catalog_of(crm)["A"]["price"], catalog_of(crm)["B"]["price"]) == ("1234.50", "12500.00")


def test_a_price_with_three_decimals_in_an_xlsx_names_its_cell_and_the_fix(crm, unchanged,
                                                                           tmp_path):
    """A number cell holding 12.345 (shown 12.35 by its format) is refused, never rounded:
    opp rounds half-up to the cent only what it computes (R10). The message names the
    sheet, the cell, the value held and the value to type; once typed, it imports."""
    book = Workbook()
    page = book.active
    page.title = "Listino"
    page.append(["Codice", "Nome", "Prezzo", "Unità"])
    page.append(["CAF-01", "Caffè in grani", 12.345, "kg"])
    page.append(["TAZ", "Tazzine", 9.9, None])
    page.append(["ZUC", "Zucchero", 2.675, "kg"])  # 2.67499… as a float; 2.675 shown
    for row in (2, 3, 4):
        page.cell(row=row, column=3).number_format = "0.00"
    path = tmp_path / "listino.xlsx"
    book.save(path)
    rule = ("(the sheet may show it rounded): money has at most 2 decimals, and opp rounds "
            "only the totals it computes, never a number it reads; make the cell")
    with unchanged:
        r = crm("catalog", "import", path, code=1)
        assert r.stdout.splitlines() == [
            f"{path}:2: Prezzo (cell C2 of sheet 'Listino') holds 12.345 {rule} 12.35 in "
            "the sheet",
            f"{path}:4: Prezzo (cell C4 of sheet 'Listino') holds 2.675 {rule} 2.68 in "
            "the sheet"]
        assert r.stderr == f"error: 2 problem(s) in 2 row(s) of {path}; nothing was imported\n"
        r = crm("catalog", "import", path, "--format", "json", code=1)
        assert [e["line"] for e in json.loads(r.stdout)["errors"]] == [2, 4]
    page["C2"], page["C4"] = 12.35, 2.68  # as the message says
    book.save(path)
    crm("catalog", "import", path)
    cat = catalog_of(crm)
    assert (cat["CAF-01"]["price"], cat["TAZ"]["price"], cat["ZUC"]["price"]) == (
        "12.35", "9.90", "2.68")
    # text cells with more than two decimals are refused the same way, as the file has them
    text = tmp_path / "listino.csv"
    text.write_text("sku;name;price\nA;Alpha;12,3456\n", encoding="utf-8")
    with unchanged:
        r = crm("catalog", "import", text, "--locale", "it", code=1)
    assert r.stdout == (f"{text}:2: price '12,3456' has more than 2 decimals: opp rounds only "
                        "the totals it computes, never a number it reads; round it to cents "
                        "in the file\n")


def _with_a_cover(path, *, listino="Listino", first="Copertina"):
    """A price list whose first sheet is a cover: a title and a date, no header."""
    book = Workbook()
    cover = book.active
    cover.title = first
    cover.append(["Listino prezzi 2027"])
    cover.append([])
    cover.append(["Aggiornato al", date(2027, 1, 1)])
    page = book.create_sheet(listino)
    page.append(["Codice", "Nome", "Prezzo", "Unità"])
    page.append(["CAF-01", "Caffè in grani", 12, "kg"])
    notes = book.create_sheet("Note")
    notes.append(["Prezzi IVA esclusa"])
    book.save(path)
    return path


def test_a_cover_sheet_first_names_the_sheets_and_suggests_sheet(crm, unchanged, tmp_path):
    path = _with_a_cover(tmp_path / "listino.xlsx")
    with unchanged:
        r = crm("catalog", "import", path, code=1)
        assert r.stdout == ""
        assert r.stderr == (f"error: {path}:1: sheet 'Copertina' has no header opp reads "
                            "(its first row: 'Listino prezzi 2027'); sheet 'Listino' has one: "
                            "import it with --sheet Listino (the file's sheets: Copertina, "
                            "Listino, Note)\n")
        # following the first message's other advice, --map, says the same
        r = crm("catalog", "import", path, "--map", "Codice=sku", code=2)
        assert r.stderr.startswith("error: --map: the file has no column 'Codice'")
        assert "sheet 'Listino' has one: import it with --sheet Listino" in r.stderr
    crm("catalog", "import", path, "--sheet", "Listino")
    assert catalog_of(crm)["CAF-01"]["price"] == "12.00"
    # a sheet name with a space is quoted as a shell needs it
    spaced = _with_a_cover(tmp_path / "spaced.xlsx", listino="Listino 2027")
    with unchanged:
        r = crm("catalog", "import", spaced, code=1)
    assert "import it with --sheet 'Listino 2027' (the file's sheets" in r.stderr
    crm("catalog", "import", spaced, "--sheet", "Listino 2027")
    # no sheet with a header opp reads: the sheets are named all the same
    book = Workbook()
    book.active.append(["Listino prezzi 2027"])
    book.create_sheet("Articoli").append(["Cod.", "Descr. breve", "€"])
    book.save(tmp_path / "other.xlsx")
    with unchanged:
        r = crm("catalog", "import", tmp_path / "other.xlsx", code=1)
    assert r.stderr == (f"error: {tmp_path / 'other.xlsx'}:1: sheet 'Sheet' has no header opp "
                        "reads (its first row: "
                        "'Listino prezzi 2027'); name the sheet to read with --sheet NAME, or "
                        "its columns with --map COLUMN=FIELD (the file's sheets: Sheet, "
                        "Articoli)\n")
    # an empty first sheet
    book = Workbook()
    book.active.title = "Foglio1"
    book.create_sheet("Listino").append(["sku", "name", "price"])
    book.save(tmp_path / "empty.xlsx")
    with unchanged:
        r = crm("catalog", "import", tmp_path / "empty.xlsx", code=1)
    assert r.stderr == (f"error: {tmp_path / 'empty.xlsx'}: sheet 'Foglio1' is empty; the "
                        "file's sheets are Foglio1, Listino: name the one to read with --sheet "
                        "NAME (e.g. --sheet Listino)\n")
    # a workbook of one sheet, or a CSV, has no other sheet to suggest
    book = Workbook()
    book.active.append(["Listino prezzi 2027"])
    book.save(tmp_path / "one.xlsx")
    with unchanged:
        r = crm("catalog", "import", tmp_path / "one.xlsx", code=1)
    assert "no column of the header ('Listino prezzi 2027')" in r.stderr
    assert "--sheet" not in r.stderr


def _titled(path, rows, title=("Listino prezzi 2027",), blank=1):
    """A sheet with a title row and ``blank`` empty rows above its header."""
    book = Workbook()
    book.active.title = "Listino"
    book.active.append(list(title))
    for _ in range(blank):
        book.active.append([])
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def test_a_price_list_with_a_title_above_its_header(crm, unchanged, tmp_path):
    """A listino's title (row 1) and an empty row stand above its header (row 3): opp
    reads the header where it is, and its messages give the sheet's own row numbers. A
    dry run says what the import does."""
    path = _titled(tmp_path / "listino.xlsx", [
        ["Codice", "Descrizione", "Prezzo"],
        ["CAF-01", "Caffè in grani", 12],
        ["MAC-PRO", "Macchina espresso", "1.234,50"]])
    with unchanged:
        r = crm("catalog", "import", path, "--locale", "it", "--dry-run", "--format", "json")
    dry = json.loads(r.stdout)
    crm("catalog", "import", path, "--locale", "it")
    cat = catalog_of(crm)
    assert {s: (cat[s]["name"], cat[s]["price"]) for s in ("CAF-01", "MAC-PRO")} == {
        "CAF-01": ("Caffè in grani", "12.00"), "MAC-PRO": ("Macchina espresso", "1234.50")}
    assert [(e["line"], e["sku"], e["price"]) for e in dry["rows"]] == [
        (4, "CAF-01", "12.00"), (5, "MAC-PRO", "1234.50")]
    # an error in a data row names the sheet's row; --map names columns opp does not know
    bad = _titled(tmp_path / "bad.xlsx", [
        ["Cod.", "Articolo", "Importo €"],
        ["TAZ", "Tazzine", 9.9],
        ["X", "Three decimals", 1.234]], title=("Listino", "2027"), blank=2)
    with unchanged:
        r = crm("catalog", "import", bad, "--map", "Cod.=sku", "--map", "Articolo=name",
                "--map", "Importo €=price", code=1)
    assert r.stdout.startswith(f"{bad}:6: Importo € (cell C6 of sheet 'Listino') holds 1.234")
    assert "TAZ" not in catalog_of(crm)


def test_a_first_row_of_many_cells_is_a_header_or_nothing(crm, unchanged, tmp_path):
    """A first row of more than two filled cells is no title: when opp reads none of
    them, the sheet is refused as before, even with a header below it."""
    path = _titled(tmp_path / "listino.xlsx", [
        ["Codice", "Descrizione", "Prezzo"],
        ["CAF-01", "Caffè in grani", 12]], title=("Listino", "2027", "Riservato"))
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    assert r.stderr == (f"error: {path}:1: no column of the header ('Listino', '2027', "
                        "'Riservato') is one opp reads; the header, the first row that is "
                        "not blank, names the columns (sku, name, price, unit), or --map "
                        "COLUMN=FIELD says which gives what\n")
    # nor is a header looked for below a row of many cells, nor past the tenth row
    crowded = _titled(tmp_path / "crowded.xlsx", [
        ["a", "b", "c"], ["Codice", "Descrizione", "Prezzo"], ["CAF-01", "Caffè", 12]])
    far = _titled(tmp_path / "far.xlsx", [
        ["Codice", "Descrizione", "Prezzo"], ["CAF-01", "Caffè", 12]], blank=9)
    with unchanged:
        for other in (crowded, far):
            r = crm("catalog", "import", other, code=1)
            assert r.stderr.startswith(f"error: {other}:1: no column of the header "
                                       "('Listino prezzi 2027') is one opp reads")
    # a CSV file is read from its first row, title or not
    text = tmp_path / "listino.csv"
    text.write_text("Listino prezzi 2027\n\nCodice;Descrizione;Prezzo\nCAF-01;Caffè;12\n")
    with unchanged:
        r = crm("catalog", "import", text, code=1)
    assert r.stderr.startswith(f"error: {text}:1: no column of the header ('Listino "
                               "prezzi 2027')")


def test_a_cover_sheet_first_and_a_title_above_the_other_sheets_header(crm, unchanged,
                                                                       tmp_path):
    """The sheet to suggest has a title above its header: it is still the one named."""
    path = tmp_path / "listino.xlsx"
    book = Workbook()
    book.active.title = "Copertina"
    book.active.append(["Listino prezzi 2027"])
    page = book.create_sheet("Listino")
    for row in (["Listino prezzi 2027"], [], ["Codice", "Nome", "Prezzo"],
                ["CAF-01", "Caffè in grani", 12]):
        page.append(row)
    book.save(path)
    with unchanged:
        r = crm("catalog", "import", path, code=1)
    assert "sheet 'Listino' has one: import it with --sheet Listino" in r.stderr
    crm("catalog", "import", path, "--sheet", "Listino")
    assert catalog_of(crm)["CAF-01"]["price"] == "12.00"
