"""``opp timeline`` (R20), ``opp undo`` and ``opp redo``."""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
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


def _named(what: str, text: str) -> str:
    """'quote q1' rather than 'quote quote q1' (a quote's label names it already)."""
    return text if text.startswith(what + " ") else f"{what} {text}"


def _change_line(change: dict, creating: bool = False) -> str:
    field, old, new = change["field"], change["old"], change["new"]
    if change.get("conflict"):
        return _conflict_line(change)
    if "item" in change:
        panel, _, sub = field.partition(".")
        what = {"products": "product", "quotes": "quote", "contacts": "contact",
                "partners": "partner", "competitors": "competitor", "activities": "activity",
                "documents": "document", "notes": "note"}.get(panel, panel)
        label = change.get("label") or ""
        if sub.startswith("lines"):
            # a quote's line: 'quote q1 line SRV-01' (its label is 'quote q1 SRV-01')
            words = label.split(" ", 2)
            owner = " ".join(words[:2]) if words[0] == "quote" and len(words) > 1 else "quote"
            what, sub = f"{owner} line", sub[len("lines"):].lstrip(".")
            label = words[2] if words[0] == "quote" and len(words) > 2 else label
        if not sub:
            return f"+ {_named(what, new)}" if old is None else f"- {_named(what, old)}"
        return f"{_named(what, label)}: {sub} {old or '-'} {_ARROW} {new or '-'}"
    if creating:
        return f"{field.replace('_', ' ')}: {new}"
    return f"{field.replace('_', ' ')}: {old if old is not None else '-'} {_ARROW} " \
           f"{new if new is not None else '-'}"


def _conflict_line(change: dict) -> str:
    """A value a merge settled: 'amount: 2500.00 → 3000.00 (conflict settled: ours
    2500.00, theirs 3000.00)'."""
    plain = {k: v for k, v in change.items() if k not in ("conflict", "ours", "theirs")}
    sides = f"conflict settled: ours {change['ours'] or '-'}, theirs {change['theirs'] or '-'}"
    if change["old"] == change["new"]:
        label = change.get("label")
        name = change["field"].replace("_", " ") + (f" {label}" if label else "")
        return f"{name}: kept {change['new'] or '-'} ({sides})"
    return f"{_change_line(plain)} ({sides})"


def render(entries: list[dict], opp_id: str) -> str:
    """The timeline for people: one block per entry, changes indented below."""
    lines = []
    for e in entries:
        when = _when(e)
        if e["kind"] == "change":
            extra = " (conflict resolution)" if e.get("resolution") else ""
            lines.append(f"{when}  {e['author']}: {_action(e, opp_id)}{extra}")
            if e.get("deleted"):
                lines.append("      the opportunity was deleted (its file removed)")
                continue
            # the file's creation: every deal has a name from then on (a later change from
            # none, say of the objective, still reads '- → 500.00')
            creating = any(c["field"] == "name" and c["old"] is None for c in e["changes"])
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
def timeline(state: State, ref: str, fmt: str) -> None:
    """Show an opportunity's story, oldest first: changes, activities and notes.

    Every change comes with its author, time and the fields that changed, old →
    new; activities and notes sit at their own dates. Changes come from the git
    history of the opportunity's file (followed across renames). A commit that
    only added an activity or a note is shown as that activity or note. A merge
    shows what it decided (conflicts it settled, flagged as such). A deleted
    opportunity's story, given its full id, ends with its deletion.

    \b
    Example:  opp timeline 4k7q
              opp timeline 4k7q --format json | jq '.[] | select(.kind == "note")'
    """
    from ..errors import NotFound
    from ..read.timeline import deleted_timeline
    from ..read.timeline import timeline as build

    repo = state.repo
    try:
        opp_id = repo.resolve(ref)
        entries = build(repo, opp_id, warn=note)
    except NotFound:
        gone = deleted_timeline(repo, ref)  # a deal deleted since, named in full
        if gone is None:
            raise
        entries = gone
        opp_id = ref.strip().casefold()
        note(f"{opp_id} was deleted; its story up to the deletion:")
    if fmt == "json":
        emit_json(entries)
    elif entries:
        click.echo(render(entries, opp_id))
    else:
        note(f"{opp_id} has no history yet (its file was never committed)")


@cli.command()
@pass_state
def undo(state: State) -> None:
    """Revert the most recent change made by opp that is not undone yet.

    Repeated, it walks further back, one change at a time. Each undo is a new
    commit that says what it undid, so it shows in the timeline and git log.
    It stops at a commit opp did not make (a hand commit, a merge), naming it,
    and never touches files with uncommitted edits. 'opp redo' re-applies.

    \b
    Example:  opp undo && opp undo && git log --oneline -3
    """
    from ..store.undo import undo_last

    done = undo_last(state.repo)
    note(f"{done.revert_subject}  (reverts {done.commit[:8]})")


@cli.command()
@pass_state
def redo(state: State) -> None:
    """Apply again the change the last 'opp undo' reverted, as a new commit.

    Repeated, it re-applies what successive undos reverted, most recent first.
    After any other change there is nothing to redo (exit 1).

    \b
    Example:  opp undo && opp redo
    """
    from ..store.undo import redo_last

    done = redo_last(state.repo)
    note(f"{done.revert_subject}  (reverts {done.commit[:8]})")
