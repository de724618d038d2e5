"""``opp index``: look at or rebuild the index of parsed files kept under ``.git/``."""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
from .output import emit_json, format_option


@cli.group("index")
def index_group() -> None:
    """The index of parsed opportunities under .git/ that makes reports fast.

    It is a cache: reports give the same answer without it (OPP_NO_INDEX=1
    bypasses it), and opp rebuilds it by itself whenever it is missing,
    damaged or written by another version.

    \b
    Example:  opp index status
              opp index rebuild
    """


def _print(info: dict, fmt: str) -> None:
    if fmt == "json":
        emit_json(info)
        return
    click.echo(f"path      {info['path']}")
    click.echo(f"enabled   {'yes' if info['enabled'] else 'no (OPP_NO_INDEX is set)'}")
    click.echo(f"size      {info['bytes']:,} bytes")
    for key, words in (("files", "working-tree files known"),
                       ("blobs", "file contents parsed"), ("settings", "opp.yaml versions"),
                       ("touches", "files' last commit days (for the agenda)")):
        if key in info:
            click.echo(f"{key:<9} {info[key]:,} {words}")
    if info.get("corrupt"):
        click.echo("damaged: the next report rebuilds it")


@index_group.command("status")
@format_option("text", "json")
@pass_state
def index_status(state: State, fmt: str) -> None:
    """Where the index is, how big, and how many files and contents it knows.

    \b
    Example:  opp index status --format json
    """
    from ..read.index import db

    _print(db.status(state.repo), fmt)


@index_group.command("rebuild")
@format_option("text", "json")
@pass_state
def index_rebuild(state: State, fmt: str) -> None:
    """Throw the index away and build it again from every file (never needed for
    correctness; it frees the space of contents no longer in use).

    Refuses, as reports do, while a file is invalid; the index keeps what it
    parsed meanwhile.

    \b
    Example:  opp index rebuild
    """
    from ..errors import UsageError
    from ..read.index import db, worktree

    if not db.enabled():
        raise UsageError("OPP_NO_INDEX is set: opp does not use the index now")
    _print(worktree.rebuild(state.repo), fmt)
    note("index rebuilt")
