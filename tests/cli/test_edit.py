"""opp edit ID: the YAML in $VISUAL, else $EDITOR, else vi, checked like any change and
committed as one; scripts stand in for the editor."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def editors(tmp_path, monkeypatch):
    folder = tmp_path / "editors"
    folder.mkdir()
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    return folder


def sed(folder: Path, name: str, expression: str) -> Path:
    return script(folder, name, f"sed -i -e '{expression}' \"$1\"")


def test_edit_commits_one_checked_change(crm, editors, monkeypatch):
    deal = crm.new("Acme renewal", "--amount", "100")
    commits = crm.commits()
    monkeypatch.setenv("EDITOR", str(sed(editors, "ed.sh", "s/^amount: .*/amount: 250.00/")))
    r = crm("edit", deal)
    assert crm.commits() == commits + 1 and crm.status() == ""
    assert crm.json("show", deal)["amount"] == "250.00"
    assert crm.git("log", "-1", "--format=%s").strip() == f"{deal} Acme renewal: edit amount"
    assert "Opp-Action: edit" in crm.git("log", "-1", "--format=%b")
    assert "edit amount" in r.stderr
    # the timeline shows it like any change
    last = crm.json("timeline", deal)[-1]
    assert last["changes"] == [{"field": "amount", "old": "100.00", "new": "250.00"}]
    assert not list((crm.root / ".git" / "opp-edit").iterdir())  # no draft left


def test_visual_then_editor_then_vi(crm, editors, monkeypatch):
    deal = crm.new("Deal", "--amount", "1")
    monkeypatch.setenv("VISUAL", str(sed(editors, "visual.sh", "s/^name: .*/name: By visual/")))
    monkeypatch.setenv("EDITOR", str(sed(editors, "editor.sh", "s/^name: .*/name: By editor/")))
    crm("edit", deal)
    assert crm.json("show", deal)["name"] == "By visual"
    monkeypatch.delenv("VISUAL")
    crm("edit", deal)
    assert crm.json("show", deal)["name"] == "By editor"
    monkeypatch.delenv("EDITOR")
    sed(editors, "vi", "s/^name: .*/name: By vi/")
    monkeypatch.setenv("PATH", f"{editors}{os.pathsep}{os.environ['PATH']}")
    crm("edit", deal)
    assert crm.json("show", deal)["name"] == "By vi"


def test_an_editor_command_with_arguments(crm, editors, monkeypatch):
    deal = crm.new("Deal")
    monkeypatch.setenv("EDITOR", "sed -i -e 's/^owner: .*/owner: bob/'")
    crm("edit", deal)
    assert crm.json("show", deal)["owner"] == "bob"


def test_an_unchanged_file_makes_no_commit(crm, editors, monkeypatch, unchanged):
    deal = crm.new("Deal")
    monkeypatch.setenv("EDITOR", "true")
    with unchanged:
        r = crm("edit", deal)
    assert "no change" in r.stderr
    # a comment or a blank line changes no value: no commit either
    monkeypatch.setenv("EDITOR", str(script(editors, "c.sh", 'echo "# note" >> "$1"')))
    with unchanged:
        crm("edit", deal)


def test_a_typed_amount_on_a_deal_with_products_is_refused(crm, editors, monkeypatch,
                                                            unchanged):
    deal = crm.new("Deal")
    crm("add-product", deal, "SRV-01", "--qty", "2")
    monkeypatch.setenv("EDITOR", str(sed(editors, "a.sh", "s/^amount: .*/amount: 5000.00/")))
    with unchanged:
        r = crm("edit", deal, code=1)
    assert "should be 2400.00" in r.stderr and "R4" in r.stderr
    assert "nothing changed" in r.stderr
    kept = Path(r.stderr.rsplit("kept in ", 1)[1].strip())
    assert kept.is_file() and "amount: 5000.00" in kept.read_text()
    assert crm.json("show", deal)["amount"] == "2400.00"


@pytest.mark.parametrize("expression, message", [
    ("s/^stage: .*/stage: [oops/", "YAML"),
    ("s/^stage: .*/stage: nowhere/", "stage"),
    ("s/^id: .*/id: zzzzzzzz/", "does not match the file name"),
    ("s/^amount: .*/amount: \"12\"/", "amount"),
    ("$a surprise: 1", "unknown field"),
])
def test_an_invalid_file_changes_nothing_and_keeps_the_text(crm, editors, monkeypatch,
                                                           unchanged, expression, message):
    deal = crm.new("Deal", "--amount", "10")
    monkeypatch.setenv("EDITOR", str(sed(editors, "bad.sh", expression)))
    with unchanged:
        r = crm("edit", deal, code=1)
    assert message.lower() in r.stderr.lower()
    assert f"opportunities/{deal}.yaml" in r.stderr
    kept = Path(r.stderr.rsplit("kept in ", 1)[1].strip())
    assert kept.read_text() != crm.file(deal).read_text()


def test_a_failing_editor_changes_nothing(crm, editors, monkeypatch, unchanged):
    deal = crm.new("Deal")
    monkeypatch.setenv("EDITOR", "false")
    with unchanged:
        r = crm("edit", deal, code=1)
    assert "exited with status 1" in r.stderr


def test_a_change_made_meanwhile_wins_over_the_edit(crm, editors, monkeypatch, unchanged):
    deal = crm.new("Deal")
    # the "editor" changes the deal through opp while the draft is open
    body = (f"opp_repo={crm.root}\n"
            f"sed -i -e 's/^owner: .*/owner: bob/' \"$1\"\n"
            f"cd {crm.root} && git -c user.name=H -c user.email=h@x commit -q --allow-empty "
            f"-m meanwhile && sed -i -e 's/^name: .*/name: Meanwhile/' "
            f"opportunities/{deal}.yaml && git -c user.name=H -c user.email=h@x commit -qam x")
    monkeypatch.setenv("EDITOR", str(script(editors, "race.sh", body)))
    r = crm("edit", deal, code=1)
    assert "changed while it was being edited" in r.stderr and "kept in" in r.stderr
    assert crm.json("show", deal)["name"] == "Meanwhile"


# ---------------------------------------------------------------- the typed commands' rules


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-20")
    return "2026-11-20"


def _kept(stderr: str) -> Path:
    kept = Path(stderr.rsplit("kept in ", 1)[1].strip())
    assert kept.is_file()
    return kept


def test_a_stage_that_closes_sets_the_close_date_to_today(crm, editors, monkeypatch, today):
    deal = crm.new("A", "--amount", "1000", "--close-date", "tomorrow")
    monkeypatch.setenv("EDITOR", str(sed(editors, "won.sh", "s/^stage: .*/stage: closed-won/")))
    crm("edit", deal)
    shown = crm.json("show", deal)
    assert (shown["status"], shown["close_date"], shown["amount"]) == ("won", today, "1000.00")
    assert crm.git("log", "-1", "--format=%s").strip() == f"{deal} A: edit stage, close_date"


def test_closing_a_deal_without_a_close_date_by_hand_closes_it_today(crm, editors,
                                                                    monkeypatch, today):
    deal = crm.new("No date", "--amount", "10")
    monkeypatch.setenv("EDITOR", str(sed(editors, "won0.sh", "s/^stage: .*/stage: closed-won/")))
    crm("edit", deal)
    shown = crm.json("show", deal)
    assert (shown["status"], shown["close_date"]) == ("won", today)


def test_a_quotes_status_and_a_products_sku_are_their_commands(crm, editors, monkeypatch,
                                                                 unchanged, today):
    """R14 and R9 by hand: accepting a quote in the file (the deal stayed open, its
    products untouched) and a product line naming no catalog product are refused."""
    deal = crm.new("Q", "--customer", "Acme")
    crm("add-product", deal, "SRV-01")
    quote = crm("quote", "new", deal).stdout.strip()
    crm("quote", "send", deal, quote)
    for name, expression, words in (
            ("accept.sh", f"s/^  status: sent/  status: accepted/; "
             f"s/^  closed: null/  closed: {today}/", "opp close-quote"),
            ("back.sh", "s/^  status: sent/  status: draft/; s/^  sent: .*/  sent: null/",
             "opp close-quote"),
            ("sku.sh", "s/^  sku: SRV-01$/  sku: NOT-THERE/",
             "'NOT-THERE' is not in the catalog")):
        monkeypatch.setenv("EDITOR", str(sed(editors, name, expression)))
        with unchanged:
            r = crm("edit", deal, code=1)
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, name
    crm("catalog", "remove", "SRV-01")  # a line kept as it was may outlive its product
    monkeypatch.setenv("EDITOR", str(sed(editors, "name.sh", "s/^name: Q$/name: Q2/")))
    crm("edit", deal)
    assert crm.json("show", deal)["name"] == "Q2"


def test_closing_lost_by_hand_is_closing_lost_as_opp_close_does(crm, editors, monkeypatch,
                                                                today):
    deal = crm.new("B", "--close-date", "+2w")
    monkeypatch.setenv("EDITOR", str(sed(editors, "lost.sh",
                                         "s/^stage: .*/stage: closed-lost/")))
    crm("edit", deal)
    shown = crm.json("show", deal)
    assert (shown["status"], shown["close_date"], shown["lost_reason"]) == ("lost", today, None)
    # a close date and a reason given in the edit are taken, as --date and --reason are
    other = crm.new("C", "--close-date", "+2w")
    monkeypatch.setenv("EDITOR", str(sed(
        editors, "lost2.sh", "s/^stage: .*/stage: closed-lost/; "
        "s/^close_date: .*/close_date: 2026-11-02/; s/^lost_reason: .*/lost_reason: Price/")))
    crm("edit", other)
    shown = crm.json("show", other)
    assert (shown["close_date"], shown["lost_reason"]) == ("2026-11-02", "price")


def test_closing_by_hand_on_a_future_day_is_refused(crm, editors, monkeypatch, today,
                                                   unchanged):
    deal = crm.new("B", "--close-date", "+2w")
    monkeypatch.setenv("EDITOR", str(sed(
        editors, "future.sh", "s/^stage: .*/stage: closed-won/; "
        "s/^close_date: .*/close_date: 2026-12-24/")))
    with unchanged:
        r = crm("edit", deal, code=1)
    assert "close date 2026-12-24 is in the future" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "stage: closed-won" in _kept(r.stderr).read_text()


@pytest.mark.parametrize("expression, words", [
    ("s/^objective: .*/objective: 99.00/", "before you change its objective"),
    ("s/^name: .*/name: Renamed/", "before you change its name"),
    ("s/^stage: .*/stage: proposal/", "opp reopen"),
])
def test_a_closed_deal_takes_no_hand_edit_but_to_its_panels(crm, editors, monkeypatch,
                                                           unchanged, expression, words):
    deal = crm.new("A", "--amount", "1000")
    crm("close", deal, "--won")
    monkeypatch.setenv("EDITOR", str(sed(editors, "closed.sh", expression)))
    with unchanged:
        r = crm("edit", deal, code=1)
    assert f"opportunity {deal} is closed" in r.stderr and words in r.stderr
    assert "nothing changed" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    _kept(r.stderr)


def test_a_closed_deal_takes_a_note_by_hand(crm, editors, monkeypatch):
    deal = crm.new("A", "--amount", "1000")
    crm("note", deal, "first")
    crm("close", deal, "--won")
    monkeypatch.setenv("EDITOR", str(sed(editors, "note.sh", "s/text: first/text: amended/")))
    crm("edit", deal)
    assert [n["text"] for n in crm.json("show", deal)["notes"]] == ["amended"]


def test_a_customer_by_hand_must_be_an_account(crm, editors, monkeypatch, unchanged):
    deal = crm.new("A", "--customer", "Alpha srl")
    crm("account", "add", "Beta SpA")
    monkeypatch.setenv("EDITOR", str(sed(editors, "cust.sh",
                                         "s/^customer: .*/customer: abcdefgh/")))
    with unchanged:
        r = crm("edit", deal, code=1)
    assert "no customer 'abcdefgh'" in r.stderr and "opp account list" in r.stderr
    _kept(r.stderr)
    crm("validate")
    # a name or alias of an account is taken, and written as its id
    monkeypatch.setenv("EDITOR", str(sed(editors, "beta.sh",
                                         "s/^customer: .*/customer: beta spa/")))
    crm("edit", deal)
    shown = crm.json("show", deal)
    assert shown["customer"] == "Beta SpA"
    assert f"customer: {shown['customer_id']}" in crm.file(deal).read_text()


def test_a_contact_by_hand_must_be_one_of_the_customers_people(crm, editors, monkeypatch,
                                                               unchanged):
    deal = crm.new("A", "--customer", "Alpha srl")
    crm("contact", "add", deal, "Jane", "--role", "buyer")
    monkeypatch.setenv("EDITOR", str(sed(editors, "person.sh",
                                         "s/^  person: .*/  person: zzzzzz/")))
    with unchanged:
        r = crm("edit", deal, code=1)
    assert "person zzzzzz (Jane) is not one of Alpha srl's people" in r.stderr
