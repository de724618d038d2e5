"""Commands about the data repo itself: init and validate."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from .app import cli, note, pass_state
from .output import emit_json, format_option
from .params import CURRENCY


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--currency", type=CURRENCY, help="The default currency (default EUR).")
def init(directory: str, currency: Optional[str]) -> None:
    """Create a data repo in DIRECTORY (default: here), with default settings.

    Runs 'git init' when DIRECTORY is not already in a git work tree, writes
    opp.yaml and catalog.yaml, and makes one commit.

    \b
    Example:  opp init crm && cd crm && opp catalog list
    """
    from ..model import Settings
    from ..store import init as init_repo

    settings = Settings(currency=currency) if currency else None
    repo = init_repo(Path(directory), settings)
    note(f"created an opp data repo in {repo.root}")


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@format_option("text", "json")
@pass_state
def validate(state, paths: tuple[str, ...], fmt: str) -> None:
    """Check opp.yaml, catalog.yaml and every opportunity against the rules.

    Prints every problem as FILE:LINE:COLUMN: MESSAGE (or JSON with --format
    json) and exits 1 when there is any; exit 0 means every file holds. With
    PATHS, only those files are checked (as a pre-commit hook does).

    \b
    Example:  opp validate --format json
    """
    from ..validation import validate_repo

    repo = state.repo
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
