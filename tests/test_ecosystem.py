"""opp among other tools: help, colour, --quiet, --version, `opp schema`, `opp completion`."""

import json
import re
from pathlib import Path

import click
import pytest

from oppcli.cli import cli

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ help, colour, quiet


def walk(command: click.Command, path: tuple = ()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


def test_every_command_has_help_with_an_example(crm):
    seen = 0
    for path, command in walk(cli):
        r = crm(*path, "--help")
        assert "Example" in r.stdout, f"opp {' '.join(path)} --help has no example"
        assert command.get_short_help_str().strip(), path
        seen += 1
    assert seen >= 20


def test_version():
    from conftest import Opp

    r = Opp(Path.cwd())("--version")
    assert re.fullmatch(r"opp \d+\.\d+\.\d+\S*\n", r.stdout)


def test_colour_only_on_a_terminal_and_never_with_no_color(crm):
    from click.testing import CliRunner

    def run(env=None, color=False):
        return CliRunner().invoke(cli, ["show", "nope"], env=env, color=color, prog_name="opp")

    assert run().stderr.startswith("error: no opportunity 'nope'")  # not a terminal
    assert "\x1b[" in run(color=True).stderr  # a terminal
    assert "\x1b[" not in run({"NO_COLOR": "1"}, color=True).stderr
    assert run({"NO_COLOR": "1"}, color=True).stderr.startswith("error: no opportunity")


def test_quiet_silences_notes_but_never_errors_or_data(crm):
    r = crm("catalog", "add", "X-1", "--name", "X", "--price", "1")
    assert "added X-1" in r.stderr
    r = crm("-q", "catalog", "add", "X-2", "--name", "X", "--price", "1")
    assert r.stderr == ""
    r = crm("--quiet", "new", "Deal", "--customer", "Acme")
    assert r.stderr == "" and len(r.stdout.strip()) == 8
    r = crm("-q", "list")
    assert "Deal" in r.stdout and r.stderr == ""
    r = crm("-q", "show", "nope", code=1)
    assert r.stderr.startswith("error: ")
    r = crm("validate", env={"OPP_QUIET": "1"})
    assert r.stderr == ""


# ------------------------------------------------------------------ opp schema, opp completion


def test_opp_schema_prints_the_committed_schemas(crm):
    for name in ("opportunity", "settings", "catalog"):
        r = crm("schema", name)
        assert r.stdout == (ROOT / "schemas" / f"{name}.schema.json").read_text()
        assert json.loads(r.stdout)["title"]
    assert crm("schema").stdout == crm("schema", "opportunity").stdout
    crm("schema", "nope", code=2)


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F"),
                                           ("zsh", "#compdef opp"), ("fish", "complete")])
def test_opp_completion_prints_the_script(crm, shell, marker):
    r = crm("completion", shell)
    assert "_OPP_COMPLETE" in r.stdout and marker in r.stdout
    crm("completion", "powershell", code=2)
