"""Format names are the same everywhere (cli.md, "Formats"): a walk over the click
tree checks every --format option, then the formats run end to end."""

from __future__ import annotations

import csv
import io
import json

import click
import pytest

from oppcli.cli import cli

# listings and reports by name (cli.md); every '... list' command is a listing too
REPORTS = {"pipeline", "forecast", "changes", "insights", "attainment", "agenda", "backtest"}
LISTINGS = {"list", "conflicts", "export"} | REPORTS


def commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


def format_choices(command: click.Command) -> list[str] | None:
    for param in command.params:
        if "--format" in getattr(param, "opts", ()):
            return list(param.type.choices)
    return None


def test_every_format_option_names_formats_alike():
    seen = 0
    for path, command in commands(cli):
        choices = format_choices(command)
        if choices is None:
            continue
        seen += 1
        assert "table" in choices and "text" in choices, path
        if path in LISTINGS or path.endswith(" list"):
            assert {"json", "csv", "tsv"} <= set(choices), path
        if path in REPORTS:
            assert "markdown" in choices, path
        assert all(c == c.lower() for c in choices), path
    assert seen >= 20  # the walk found the commands


@pytest.fixture
def deal(crm, monkeypatch):
    monkeypatch.setenv("OPP_TODAY", "2026-11-26")
    opp_id = crm.new("Acme renewal", "--amount", "1200", "--close-date", "2026-12-15")
    crm("contact", "add", opp_id, "Anna Rossi", "--role", "buyer")
    crm("quote", "new", opp_id)
    return opp_id


def test_table_and_text_are_one_format(crm, deal):
    assert crm("show", deal, "--format", "table").stdout == crm("show", deal).stdout
    assert crm("list", "--format", "text").stdout == crm("list").stdout
    assert crm("pipeline", "--format", "text").stdout == crm("pipeline").stdout
    assert crm("timeline", deal, "--format", "TABLE").stdout == crm("timeline", deal).stdout
    assert crm("export", "--format", "text").stdout == crm("export", "--format", "table").stdout
    assert deal in crm("export", "--format", "table").stdout


@pytest.mark.parametrize("args", [
    ("list",), ("catalog", "list"), ("pipeline",), ("forecast",),
    ("changes", "--since", "2026-01-01"), ("agenda",), ("export",), ("conflicts",),
    ("contact", "list", "DEAL"), ("quote", "list", "DEAL"), ("activity", "list", "DEAL"),
])
def test_tsv_is_csv_with_tabs(crm, deal, args):
    args = tuple(deal if a == "DEAL" else a for a in args)
    as_csv = crm(*args, "--format", "csv").stdout
    as_tsv = crm(*args, "--format", "tsv").stdout
    rows = list(csv.reader(io.StringIO(as_csv)))
    assert rows and rows == list(csv.reader(io.StringIO(as_tsv), delimiter="\t"))
    assert "\t" in as_tsv.splitlines()[0] or len(rows[0]) == 1


def test_json_everywhere_it_is_listed(crm, deal):
    assert json.loads(crm("conflicts", "--format", "json").stdout) == []
    assert json.loads(crm("export", "--format", "json").stdout)[0]["id"] == deal


def test_an_unknown_format_names_the_choices(crm):
    r = crm("list", "--format", "xml", code=2)
    assert "'table', 'text', 'json', 'csv', 'tsv'" in r.stderr
