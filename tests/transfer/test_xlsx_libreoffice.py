"""The xlsx opp exports opens cleanly in LibreOffice: converted to CSV by ``soffice
--headless`` it holds the cells of ``opp export``'s CSV, money as numbers shown with
two decimals, dates as dates, a text starting with '=' as text (never computed).

Skipped where LibreOffice is not installed (Debian: libreoffice-calc-nogui, about 280
MB, so CI does not install it)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from decimal import Decimal

import pytest

from oppcli import transfer

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
MONEY = ("amount", "objective")

pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not "
                                                        "installed")


def convert(tmp_path, xlsx, shown: bool) -> list[dict]:
    """The first sheet of ``xlsx`` as LibreOffice writes it to CSV: comma, UTF-8, cells
    as shown (their number format applied) or as stored."""
    out = tmp_path / ("shown" if shown else "stored")
    # Text CSV filter: comma, quote, UTF-8 (76), from line 1, ..., save as shown
    options = f"44,34,76,1,,0,false,true,{str(shown).lower()},false,false"
    result = subprocess.run(
        [str(SOFFICE), f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
         "--convert-to", f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(out),
         str(xlsx)], capture_output=True, text=True, timeout=180)
    converted = out / (xlsx.stem + ".csv")
    assert result.returncode == 0 and converted.is_file(), result.stderr + result.stdout
    return list(csv.DictReader(io.StringIO(converted.read_text(encoding="utf-8"))))


def test_the_exported_xlsx_opens_in_libreoffice_as_the_csv_reads(crm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    crm.new("Alpha", "--customer", "Caffè Rossi", "--amount", "1234.5", "--close-date",
            "2027-01-15", "--objective", "20000")
    crm.new("=1+1", "--customer", "Acme; =HYPERLINK(\"x\")", "--amount", "0.1")
    beta = crm.new("Beta", "--amount", "0")
    crm("add-product", beta, "SRV-01")
    crm("close", crm.new("Gamma", "--amount", "99.99"), "--won", "--date", "2026-11-01")
    xlsx = tmp_path / "pipeline.xlsx"
    crm("export", "--format", "xlsx", "-o", xlsx)
    expected = [{k: transfer.unguard_cell(v) for k, v in row.items()}
                for row in csv.DictReader(io.StringIO(crm("export").stdout))]

    stored = convert(tmp_path, xlsx, shown=False)
    assert list(stored[0]) == list(transfer.OPPORTUNITY_FIELDS)
    assert len(stored) == len(expected) == 4
    for got, want in zip(stored, expected):
        for name in transfer.OPPORTUNITY_FIELDS:
            if name in MONEY and want[name]:
                assert Decimal(got[name]) == Decimal(want[name]), (name, got, want)
            else:  # text as text (=1+1 is not 2), dates as opp writes them
                assert got[name] == want[name], (name, got, want)

    shown = convert(tmp_path, xlsx, shown=True)
    by_name = {row["name"]: row for row in shown}
    assert by_name["Alpha"]["amount"] in ("1,234.50", "1.234,50")  # as the locale groups
    assert by_name["Alpha"]["objective"] in ("20,000.00", "20.000,00")
    assert by_name["=1+1"]["amount"] in ("0.10", "0,10")
    assert by_name["Beta"]["amount"] in ("1200.00", "1,200.00", "1.200,00")
    assert by_name["Alpha"]["close_date"] == "2027-01-15"  # a date cell, shown yyyy-mm-dd
    assert by_name["Gamma"]["close_date"] == "2026-11-01"
