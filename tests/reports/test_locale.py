"""The locale: what people read is written its way (Babel), what scripts read never
changes; the quote document speaks the message catalogue's language."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from babel.numbers import parse_decimal

from oppcli.domain.l10n import check_locale, day_human
from oppcli.domain.model import settings_from
from oppcli.domain.money import fixed_human, money_human, number_human
from oppcli.domain.settings import DEFAULT_STAGES, Settings
from oppcli.reports import messages, quote_document

ITALIAN_LABELS = ["Prospezione", "Qualificazione", "Proposta", "Negoziazione",
                  "Chiusa vinta", "Chiusa persa"]


def test_money_for_people_in_a_locale():
    assert money_human(D("1234.5"), "EUR", "it") == "1.234,50 €"
    assert money_human(D("1234.5"), None, "it") == "1.234,50"
    assert money_human(D("1234.5"), "EUR", "en") == "1,234.50 EUR"  # opp's classic look
    assert money_human(D("0.005"), "EUR", "de") == "0,01 €"  # half-up to the cent
    assert money_human(D("1234567.5"), "EUR", "fr") == "1 234 567,50 €"  # plain spaces
    assert number_human(D("1.5"), "it") == "1,5" and number_human(D("2"), "it") == "2"
    # percentages and means of days keep their one decimal, written the locale's way
    assert [fixed_human(D(x), "it") for x in ("66.7", "0.0", "1234.5", "27")] == [
        "66,7", "0,0", "1.234,5", "27"]
    assert fixed_human(D("66.7"), "en") == "66.7"
    assert day_human(date(2027, 1, 15), "it") == "15 gennaio 2027"
    assert day_human(date(2027, 1, 15), "en") == "2027-01-15"


@pytest.mark.parametrize("text", ["xx", "it_XX_Y_Z", "", "../it", "it;rm"])
def test_unknown_locales_are_refused(text):
    with pytest.raises(ValueError, match="locale"):
        check_locale(text)
    assert check_locale("it-CH") == "it_CH" and check_locale(" it ") == "it"


def test_init_in_italian_writes_italian_labels_with_the_same_ids(tmp_path, monkeypatch):
    from conftest import Opp

    root = tmp_path / "crm"
    opp = Opp(root)
    opp("init", str(root), "--locale", "it")
    text = (root / "opp.yaml").read_text()
    assert "locale: it\n" in text
    monkeypatch.chdir(root)
    got = opp.json("config", "get", "stages")
    assert [s["label"] for s in got] == ITALIAN_LABELS
    assert [s["id"] for s in got] == [s.id for s in DEFAULT_STAGES]
    opp("init", str(tmp_path / "bad"), "--locale", "klingon", code=2)
    assert not (tmp_path / "bad" / "opp.yaml").exists()


def test_tables_follow_the_locale_and_json_csv_never_do(crm):
    opp_id = crm.new("Rinnovo", "--amount", "12500", "--customer", "Rossi Srl")
    en = crm("list").stdout
    assert "12,500.00 EUR" in en
    for args, env in ((("--locale", "it"), None), ((), {"OPP_LOCALE": "it"})):
        assert "12.500,00 €" in crm(*args, "list", env=env).stdout
        assert "12.500,00 €" in crm(*args, "show", opp_id, env=env).stdout
        assert crm(*args, "list", "--format", "json", env=env).stdout == \
            crm("list", "--format", "json").stdout
        assert crm(*args, "list", "--format", "csv", env=env).stdout == \
            crm("list", "--format", "csv").stdout
        assert crm(*args, "export", env=env).stdout == crm("export").stdout
    crm("config", "set", "locale", "it")
    assert "locale: it\n" in (crm.root / "opp.yaml").read_text()
    assert "12.500,00 €" in crm("list").stdout
    assert "12,500.00 EUR" in crm("--locale", "en", "list").stdout  # the option wins
    r = crm("--locale", "zz", "list", code=2)
    assert "--locale" in r.stderr and "zz" in r.stderr
    crm("config", "set", "locale", "zz", code=2)
    assert crm("list", env={"OPP_LOCALE": "nope"}, code=2).stderr.count("OPP_LOCALE") == 1


def test_italian_tables_parse_back_with_babel(crm):
    for name, amount in (("A", "1234.50"), ("B", "999999.99"), ("C", "0.10")):
        crm.new(name, "--amount", amount)
    text = crm("--locale", "it", "pipeline").stdout
    shown = re.findall(r"(\d[\d.]*,\d\d) €", text)
    assert shown, text
    values = {parse_decimal(s, locale="it", strict=True) for s in shown}
    assert D("1001234.59") in values  # the open amount of the three
    md = crm("--locale", "it", "forecast", "--format", "markdown").stdout
    assert any(parse_decimal(s, locale="it", strict=True) == D("1001234.59")
               for s in re.findall(r"(\d[\d.]*,\d\d)", md))


def test_the_dashboard_speaks_the_locale(crm, tmp_path):
    crm.new("A", "--amount", "1234.50")
    out = tmp_path / "d.html"
    crm("--locale", "it", "dashboard", "-o", out)
    assert "1.234,50" in out.read_text()


def _quote(crm):
    opp_id = crm.new("Rinnovo", "--customer", "Rossi Srl")
    crm("add-product", opp_id, "SRV-01", "--qty", "1.5", "--discount", "10")
    quote = crm("quote", "new", opp_id).stdout.strip()
    return opp_id, quote


def test_the_quote_document_in_italian(crm, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2027-01-15")
    opp_id, quote = _quote(crm)
    md = crm("quote", "print", opp_id, quote, "--lang", "it").stdout
    for words in (f"# Preventivo {quote}", "**Cliente:** Rossi Srl", "Quantità",
                  "Prezzo unitario (EUR)", "Sconto", "Totale (EUR)", "**Totale**",
                  "1,5", "1.200,00", "10 %", "1.620,00", "**1.620,00 €**",
                  "bozza (non ancora inviato)", "Importi in EUR"):
        assert words in md, words
    assert "Quote" not in md and "Unit price" not in md
    assert "del 15 gennaio 2027" in md  # the date the locale's way
    # the locale decides when --lang is not given; --lang wins over it
    assert crm("--locale", "it", "quote", "print", opp_id, quote).stdout == md
    en = crm("--locale", "it", "quote", "print", opp_id, quote, "--lang", "en").stdout
    assert f"# Quote {quote}" in en and "1,620.00 EUR" in en
    assert crm("quote", "show", opp_id, quote, "--format", "markdown",
               env={"OPP_LOCALE": "it"}).stdout == md
    crm("quote", "send", opp_id, quote)
    sent = crm("quote", "print", opp_id, quote, "--lang", "it_CH").stdout
    assert "inviato il" in sent and "Preventivo" in sent
    r = crm("quote", "print", opp_id, quote, "--lang", "de", code=2)
    assert "en, it" in r.stderr
    crm("quote", "print", opp_id, quote, "--lang", "qq", code=2)
    r = crm("--locale", "de", "quote", "print", opp_id, quote)
    assert "# Quote" in r.stdout and "1.620,00 €" in r.stdout and "de" in r.stderr


def test_show_writes_quantities_and_discounts_as_the_quote_does(crm):
    opp_id = crm.new("Rinnovo", "--customer", "Rossi Srl")
    crm("add-product", opp_id, "SRV-01", "--qty", "1.5", "--discount", "12.5")
    quote = crm("quote", "new", opp_id).stdout.strip()
    crm("config", "set", "locale", "it")
    line = next(x for x in crm("show", opp_id).stdout.splitlines() if "SRV-01" in x)
    assert line.split()[-5:] == ["1,5", "1.200,00", "12,5", "%", "1.575,00"]
    assert "12,5 %" in crm("quote", "print", opp_id, quote, "--lang", "it").stdout
    line = next(x for x in crm("quote", "show", opp_id, quote).stdout.splitlines()
                if "SRV-01" in x)  # the quote's card too (it wrote 1.5 beside 1.200,00)
    assert line.split()[-5:] == ["1,5", "1.200,00", "12,5", "%", "1.575,00"]
    line = next(x for x in crm("--locale", "en", "show", opp_id).stdout.splitlines()
                if "SRV-01" in x)
    assert line.split()[-5:] == ["1.5", "1,200.00", "12.5", "%", "1,575.00"]
    product = crm.json("show", opp_id)["products"][0]  # JSON never changes
    assert (product["quantity"], product["discount"]) == ("1.5", "12.5")


def test_every_word_of_the_document_is_in_every_catalogue():
    """A word added to the document without its translation fails here: the catalogues
    hold every msgid the code asks for (and the default stages' labels)."""
    path = quote_document.__file__
    wanted = {m[1] for m in extract_from_file("python", path, keywords={"_": None})}
    wanted |= {s.label for s in DEFAULT_STAGES}
    assert "Unit price ({currency})" in wanted
    for po in messages.LOCALES_DIR.glob("*.po"):
        with po.open("rb") as f:
            catalog = read_po(f)
        have = {m.id: m.string for m in catalog if m.id}
        assert wanted <= set(have), (po.name, wanted - set(have))
        for msgid in wanted:
            assert have[msgid], (po.name, msgid)
            assert set(re.findall(r"\{\w+\}", msgid)) == set(
                re.findall(r"\{\w+\}", have[msgid])), (po.name, msgid)


def test_a_third_language_is_one_more_file(monkeypatch, tmp_path):
    for po in messages.LOCALES_DIR.glob("*.po"):
        (tmp_path / po.name).write_bytes(po.read_bytes())
    german = (tmp_path / "it.po").read_text().replace("Preventivo", "Angebot")
    (tmp_path / "de.po").write_text(german.replace("Language: it", "Language: de"))
    monkeypatch.setattr(messages, "LOCALES_DIR", tmp_path)
    messages.translations.cache_clear()
    try:
        assert messages.languages() == ["de", "en", "it"]
        assert messages.translator("de")("Quote") == "Angebot"
    finally:
        messages.translations.cache_clear()


def test_the_settings_take_a_locale():
    assert Settings().locale == "en"
    assert settings_from({"locale": "it_IT"}).locale == "it_IT"
    with pytest.raises(ValueError, match="locale"):
        settings_from({"locale": "xx"})


def test_win_rates_are_written_the_locale_way(crm):
    for name, how in (("A", "--won"), ("B", "--won"), ("C", "--lost")):
        crm("close", crm.new(name, "--amount", "100"), how)
    assert "66,7 %" in crm("--locale", "it", "pipeline").stdout
    assert "66.7 %" in crm("--locale", "en", "pipeline").stdout
    assert crm.json("pipeline")["totals"][0]["win_rate"] == 0.6667  # JSON never changes


def test_italian_elides_the_article_before_a_day_read_with_a_vowel():
    from oppcli.reports.quote_document import elided

    assert elided("q1, del 11 settembre 2026", "it") == "q1, dell'11 settembre 2026"
    assert elided("inviato il 8 marzo 2027", "it_CH") == "inviato l'8 marzo 2027"
    assert elided("accettato il 1 giugno 2027", "it") == "accettato l'1 giugno 2027"
    assert elided("inviato il 18 marzo 2027", "it") == "inviato il 18 marzo 2027"
    assert elided("q8, del 12 maggio 2027", "it") == "q8, del 12 maggio 2027"
    assert elided("sent on 11 September", "en") == "sent on 11 September"
