"""Team sync: ``opp sync``, ``opp conflicts``, ``opp resolve`` and git's merge driver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option, table

if TYPE_CHECKING:
    from ..domain.settings import Settings


@cli.command()
@pass_state
def sync(state: State) -> None:
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
    from ..store.exchange import sync as run

    for line in run(state.repo):
        note(line)


@cli.command()
@format_option("table", "json", "csv")
@pass_state
def conflicts(state: State, fmt: str) -> None:
    """List the conflicts a sync or git pull left: opportunity, field, both values.

    Fields that a rule ties together (a deal won by a quote on one side, a product
    added on the other) are one conflict, with the rule below the table.

    \b
    Example:  opp conflicts --format json
    """
    from ..store.sync import conflict_rows

    rows = conflict_rows(state.repo)
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv([{**{k: r[k] for k in ("id", "path", "name", "field", "rule", "resolve")},
                   "fields": " ".join(r["fields"] or ()), **r["shown"]} for r in rows],
                 ["id", "path", "name", "field", "fields", "base", "ours", "theirs", "rule",
                  "resolve"])
    elif not rows:
        from ..store.mergestate import waiting

        left = waiting(state.repo.git_dir)
        note("no conflicts" + (f"; {left}" if left else ""))
    else:
        def field(row: dict) -> str:
            if not row["field"]:
                return "(whole file)"
            tied = row["fields"]
            return row["field"] + (f" (with {', '.join(tied)})" if tied else "")

        click.echo(table([[r["id"] or r["path"], r["name"] or "", field(r),
                           r["shown"]["base"] or "-", r["shown"]["ours"], r["shown"]["theirs"]]
                          for r in rows],
                         ["id", "name", "field", "base", "ours (here)", "theirs (there)"]))
        for r in rows:
            if r["rule"]:
                click.echo(f"{r['id'] or r['path']} {field(r)}: {r['rule']}")
        note(f"settle each with, e.g.: {rows[0]['resolve']}")


@cli.command()
@click.argument("ref", metavar="ID")
@click.argument("field", metavar="[FIELD]", required=False)
@click.option("--ours", is_flag=True, help="Keep this clone's value.")
@click.option("--theirs", is_flag=True, help="Keep the other side's value.")
@click.option("--value", metavar="VALUE", help="Set this value instead (one field; "
              "'none' clears it), written as for the command that sets that field.")
@pass_state
def resolve(state: State, ref: str, field: str | None, ours: bool, theirs: bool,
            value: str | None) -> None:
    """Settle a conflict left by a sync: keep ours, theirs, or a new value.

    ID is the opportunity (or 'catalog', 'settings', 'quotas', or a file path);
    FIELD is one field as 'opp conflicts' lists it; without FIELD the choice settles
    every conflict of that file. A --value is read as the commands read that
    field: money and quantities with a dot, dates YYYY-MM-DD, a stage by id or
    label. When none is left, the merge is committed: run 'opp sync' again to
    share it.

    \b
    Example:  opp resolve 4k7q amount --theirs
              opp resolve 4k7q close_date --value 2027-01-31
    """
    from ..errors import UsageError
    from ..store.sync import resolve as run

    given = [name for name, on in (("--ours", ours), ("--theirs", theirs),
                                   ("--value", value is not None)) if on]
    if len(given) != 1:
        raise UsageError("give one of --ours, --theirs or --value"
                         + (f", not {' and '.join(given)} together" if given else
                            " to say what to keep"))
    side = "ours" if ours else "theirs" if theirs else None
    for line in run(state.repo, ref, field, side, value, parse=parse_conflict_value):
        note(line)


_MONEY_FIELDS = ("amount", "objective", "price", "unit_price")
# the fields no file of opp leaves empty ('none' clears the others)
_REQUIRED = ("amount", "price", "unit_price", "quantity", "name", "customer", "stage",
             "currency", "owner", "description", "subject", "type", "text", "account",
             "path", "date", "created", "added")
_DATE_FIELDS = ("close_date", "date", "created", "sent", "closed", "added")
_YES, _NO = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def parse_conflict_value(kind: str, path: tuple, text: str, settings: Settings) -> Any:
    """``--value`` as the command that sets the field reads it: the same parsers, the
    same messages (``UsageError``, exit 2); 'none' clears. ``path`` is the conflict's
    (field names and item ids); the last name says what the value is."""
    from decimal import Decimal

    from ..domain.money import parse_decimal, parse_money
    from ..domain.stages import resolve_stage
    from ..errors import UsageError
    from .params import CURRENCY, DISCOUNT, LINE, QUANTITY, WORD, parse_date

    name = str(path[-1]) if path else ""
    words = name.replace("_", " ")
    raw = text.strip()
    if raw.casefold() in ("none", "null", ""):
        if name in _REQUIRED:  # as opp set says it
            raise UsageError(f"invalid {words}: {words} cannot be empty")
        return None
    try:
        if name in _MONEY_FIELDS:
            return parse_money(raw, words)
        if name == "quantity":
            return QUANTITY.convert(raw, None, None)
        if name == "discount":
            return DISCOUNT.convert(raw, None, None)
        if name == "date" and path[:1] == ("notes",):
            from datetime import datetime

            try:
                return datetime.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"'{raw}' is not a time; write it as "
                                 "YYYY-MM-DDTHH:MM:SS+01:00") from None
        if name in _DATE_FIELDS:
            return parse_date(raw)
        if name == "currency":
            return CURRENCY.convert(raw, None, None)
        if name in ("stage", "default_stage"):
            return resolve_stage(settings, raw).id
        if name in ("done", "catalog", "quotes") and (name == "done" or path[:1] == ("modules",)):
            if raw.casefold() in _YES + _NO:
                return raw.casefold() in _YES
            raise ValueError(f"'{raw}' is not yes or no")
        if name == "probability":
            number = parse_decimal(raw, words, places=0, minimum=Decimal(0),
                                   maximum=Decimal(100))
            return int(number)
        if name == "size" and path[:1] == ("documents",):
            return int(parse_decimal(raw, words, places=0, minimum=Decimal(0)))
        if name in ("text", "notes"):
            return text  # several lines allowed
        if name in ("role", "type", "kind", "unit"):
            return WORD.convert(raw, None, None)
        return LINE.convert(raw, None, None)
    except (ValueError, click.BadParameter) as exc:
        message = exc.message if isinstance(exc, click.BadParameter) else str(exc)
        raise UsageError(f"invalid {words or 'value'}: {message}") from None


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

    from ..store.sync import run_merge_driver

    return run_merge_driver(Path(base), Path(ours), Path(theirs), path)
