"""``opp timeline`` (R20) and ``opp undo``."""

from __future__ import annotations

import click

from .app import cli, note, pass_state
from .output import emit_json, format_option

_ARROW = "→"


def _when(entry: dict) -> str:
    from datetime import datetime

    at = datetime.fromisoformat(entry["at"])
    return f"{at:%Y-%m-%d}      " if entry["kind"] == "activity" else f"{at:%Y-%m-%d %H:%M}"


def _action(entry: dict, opp_id: str) -> str:
    """The commit subject without the '<id> <name>: ' every subject of this file starts with."""
    subject = entry["summary"]
    head, sep, rest = subject.partition(": ")
    if sep and head.split(" ", 1)[0] == opp_id and rest:
        return rest
    return subject


def _change_line(change: dict, creating: bool = False) -> str:
    field, old, new = change["field"], change["old"], change["new"]
    if "item" in change:
        panel, _, sub = field.partition(".")
        what = {"products": "product", "quotes": "quote", "contacts": "contact",
                "partners": "partner", "competitors": "competitor", "activities": "activity",
                "documents": "document", "notes": "note"}.get(panel, panel)
        if sub.startswith("lines"):
            what, sub = "quote line", sub[len("lines"):].lstrip(".")
        if not sub:
            return f"+ {what} {new}" if old is None else f"- {what} {old}"
        return f"{what} {change['label']}: {sub} {old or '-'} {_ARROW} {new or '-'}"
    if creating:
        return f"{field.replace('_', ' ')}: {new}"
    return f"{field.replace('_', ' ')}: {old if old is not None else '-'} {_ARROW} " \
           f"{new if new is not None else '-'}"


def render(entries: list[dict], opp_id: str) -> str:
    """The timeline for people: one block per entry, changes indented below."""
    lines = []
    for e in entries:
        when = _when(e)
        if e["kind"] == "change":
            lines.append(f"{when}  {e['author']}: {_action(e, opp_id)}")
            creating = all(c["old"] is None for c in e["changes"])
            lines.extend(f"      {_change_line(c, creating)}" for c in e["changes"])
        elif e["kind"] == "activity":
            by = f" ({e['author']})" if e["author"] else ""
            lines.append(f"{when}  activity{by}: {e['summary']}")
            if e.get("notes"):
                lines.extend(f"      {t}" for t in e["notes"].splitlines())
        else:
            lines.append(f"{when}  note by {e['author']}:")
            lines.extend(f"      {t}" for t in e["text"].splitlines())
    return "\n".join(lines)


@cli.command()
@click.argument("ref", metavar="ID")
@format_option("text", "json")
@pass_state
def timeline(state, ref: str, fmt: str) -> None:
    """Show an opportunity's story, oldest first: changes, activities and notes.

    Every change comes with its author, time and the fields that changed, old →
    new; activities and notes sit at their own dates. Changes come from the git
    history of the opportunity's file (followed across renames). A commit that
    only added an activity or a note is shown as that activity or note.

    \b
    Example:  opp timeline 4k7q
              opp timeline 4k7q --format json | jq '.[] | select(.kind == "note")'
    """
    from ..timeline import timeline as build

    repo = state.repo
    opp_id = repo.resolve(ref)
    entries = build(repo, opp_id)
    if fmt == "json":
        emit_json(entries)
    elif entries:
        click.echo(render(entries, opp_id))
    else:
        note(f"{opp_id} has no history yet (its file was never committed)")


@cli.command()
@pass_state
def undo(state) -> None:
    """Revert the last change made by opp, with a new commit that says what it undid.

    Only a commit of opp (with an Opp-Action trailer) is undone, and only when
    the files it touched have no uncommitted edits. The undo is itself a commit,
    so it shows in the timeline; undoing an undo re-applies the change (redo).

    \b
    Example:  opp undo && git log --oneline -2
    """
    from ..store import undo_last

    done = undo_last(state.repo)
    note(f"{done.revert_subject}  (reverts {done.commit[:8]})")
