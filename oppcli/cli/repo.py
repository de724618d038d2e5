"""Commands about the data repo itself: init and validate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .app import State, checked_locale, cli, note, pass_state
from .output import emit_json, format_option
from .params import CURRENCY

if TYPE_CHECKING:
    from ..store.repo import Repo


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--currency", type=CURRENCY, help="The default currency (default EUR).")
@click.option("--upgrade", is_flag=True,
              help="In an existing data repo: refresh .opp/schemas/ and the schema line at "
                   "the top of every file, and turn customers written as text into "
                   "accounts, in one commit.")
@click.option("--locale", metavar="LOCALE",
              help="What people read is written this way (it, en, de...; default en); "
                   "with a catalogue for its language (it), the stages get its labels.")
@pass_state
def init(state: State, directory: str, currency: str | None, upgrade: bool,
         locale: str | None) -> None:
    """Create a data repo in DIRECTORY (default: here), with default settings.

    Runs 'git init' when DIRECTORY is not already in a git work tree, writes
    opp.yaml, catalog.yaml and the JSON Schemas editors use (.opp/schemas/),
    and makes one commit. With --upgrade, brings an existing data repo up to
    this opp instead (any change refreshes outdated schemas too).

    \b
    Example:  opp init crm && cd crm && opp catalog list
              opp init crm --locale it --currency EUR
              opp init --upgrade
    """
    from ..domain.model import settings_from
    from ..store.repo import Repo
    from ..store.setup import init as init_repo
    from ..store.setup import upgrade as upgrade_repo

    if upgrade:
        if currency or locale:
            raise click.UsageError("--currency and --locale are for a new data repo; change "
                                   "them with: opp config set currency CODE, opp config set "
                                   "locale LOCALE")
        repo = state.repo if directory == "." else Repo.find(directory)
        written, grouped, folded = upgrade_repo(repo)
        for g in grouped:
            made = "new account" if g.created else "account"
            spellings = "; ".join(f'"{s}"' for s in g.spellings)
            note(f"{made} {g.account_id} {g.name}: {spellings} ({g.deals} deal(s) as customer)")
        for line in folded:
            note(line)
        note(f"upgraded {len(written)} file(s) in {repo.root}" if written
             else f"{repo.root} is up to date")
        return
    settings = None
    if currency or locale:
        given: dict[str, Any] = {"currency": currency} if currency else {}
        settings = settings_from({**given,
                                  **(local_start(checked_locale(locale)) if locale else {})})
    repo = init_repo(Path(directory), settings)
    note(f"created an opp data repo in {repo.root}")


def local_start(locale: str) -> dict:
    """The settings of a new repo in ``locale``: that locale, and the default stages
    labelled in its language (Prospezione... in it) by the message catalogue; ids
    unchanged."""
    from ..domain.settings import DEFAULT_STAGES
    from ..reports.messages import translator

    _ = translator(locale)
    return {"locale": locale,
            "stages": [{**s.as_data(), "label": _(s.label)} for s in DEFAULT_STAGES]}


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option("text", "json")
@pass_state
def validate(state: State, paths: tuple[str, ...], fmt: str) -> None:
    """Check opp.yaml, catalog.yaml and every opportunity against the rules.

    Prints every problem as FILE:LINE:COLUMN: MESSAGE (or JSON with --format
    json) and exits 1 when there is any; exit 0 means every file holds. With
    PATHS, only those files are checked (as a pre-commit hook does), and all of
    them when opp.yaml is one; PATHS may sit in a data repo below the current
    folder (a git root above it), which is then the one checked.

    \b
    Example:  opp validate --format json
    """
    from ..read.validation import validate_repo

    repo = _repo_of(state, paths)
    errors, checked = validate_repo(repo, [Path(p) for p in paths] or None)
    if fmt == "json":
        emit_json({"errors": [{"path": e.path, "line": e.line, "column": e.column,
                               "message": e.message} for e in errors]})
    else:
        for e in errors:
            click.echo(str(e))
    if errors:
        files = len({e.path for e in errors})
        note(f"{len(errors)} problem(s) in {files} file(s) of {checked} checked")
    else:
        note(f"all {checked} file(s) valid")
    if errors:
        raise SystemExit(1)


def _repo_of(state: State, paths: tuple[str, ...]) -> Repo:
    """The repo of --repo, OPP_REPO or the current folder; failing that, the one holding
    the first of ``paths`` (a pre-commit hook runs at the git root, maybe above it)."""
    from ..errors import RepoError
    from ..store.repo import Repo, holds_settings

    try:
        return state.repo
    except RepoError:
        if state.repo_arg or not paths:
            raise
        for folder in Path(paths[0]).resolve().parents:
            if holds_settings(folder):
                return Repo(folder)
        raise
