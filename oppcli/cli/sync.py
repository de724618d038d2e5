"""Team sync: ``opp sync``, ``opp conflicts``, ``opp resolve`` and git's merge driver."""

from __future__ import annotations

from typing import Optional

import click

from .app import cli, note, pass_state
from .output import emit_json, format_option, table


@cli.command()
@pass_state
def sync(state) -> None:
    """Exchange changes with the git remote: fetch, merge, push.

    Merges the current branch's upstream (else origin/BRANCH) field by field
    and item by item, then pushes; a new branch is pushed and tracked. Commits
    nothing but the merge. Refuses with uncommitted changes to tracked files.
    On a true conflict (both sides changed the same field differently) it stops,
    names each one, and leaves the merge for 'opp resolve'.

    \b
    Example:  git remote add origin git@example.com:team/crm.git   # once
              opp sync
    """
    from ..sync import sync as run

    for line in run(state.repo):
        note(line)


@cli.command()
@format_option("table", "json")
@pass_state
def conflicts(state, fmt: str) -> None:
    """List the conflicts a sync or git pull left: opportunity, field, both values.

    \b
    Example:  opp conflicts --format json
    """
    from ..sync import conflict_rows

    rows = conflict_rows(state.repo)
    if fmt == "json":
        emit_json([{k: v for k, v in r.items() if k != "shown"} for r in rows])
    elif not rows:
        note("no conflicts")
    else:
        click.echo(table([[r["id"] or r["path"], r["name"] or "", r["field"] or "(whole file)",
                           r["shown"]["base"], r["shown"]["ours"], r["shown"]["theirs"]]
                          for r in rows],
                         ["id", "name", "field", "base", "ours (here)", "theirs (there)"]))
        note(f"settle each with, e.g.: {rows[0]['resolve']}")


@cli.command()
@click.argument("ref", metavar="ID")
@click.argument("field", metavar="[FIELD]", required=False)
@click.option("--ours", "side", flag_value="ours", help="Keep this clone's value.")
@click.option("--theirs", "side", flag_value="theirs", help="Keep the other side's value.")
@click.option("--value", metavar="VALUE", help="Set this value instead (one field; "
              "'none' clears it).")
@pass_state
def resolve(state, ref: str, field: Optional[str], side: Optional[str],
            value: Optional[str]) -> None:
    """Settle a conflict left by a sync: keep ours, theirs, or a new value.

    ID is the opportunity (or 'catalog', 'settings', or a file path); FIELD is
    one field as 'opp conflicts' lists it; without FIELD the choice settles
    every conflict of that file. When none is left, the merge is committed:
    run 'opp sync' again to share it.

    \b
    Example:  opp resolve 4k7q amount --theirs
              opp resolve 4k7q close_date --value 2027-01-31
    """
    from ..sync import resolve as run

    for line in run(state.repo, ref, field, side, value):
        note(line)


@cli.command("merge-driver", hidden=True)
@click.argument("base")
@click.argument("ours")
@click.argument("theirs")
@click.argument("path")
def merge_driver(base: str, ours: str, theirs: str, path: str) -> int:
    """Git's merge driver for opp files (set up by opp itself; not for people).

    \b
    Example:  git config merge.opp.driver "python -m oppcli merge-driver %O %A %B %P"
    """
    from pathlib import Path

    from ..sync import run_merge_driver

    return run_merge_driver(Path(base), Path(ours), Path(theirs), path)
