"""Notes and messages between colleagues about a deal; ``opp note ID TEXT`` adds one."""

from __future__ import annotations

import click

from .app import State, cli, pass_state
from .opportunities import changing
from .output import format_option
from .panels import (
    TextArgsCommand,
    edit_item,
    list_items,
    remove_item,
)


class _NoteGroup(click.Group):
    """``opp note ID TEXT`` is short for ``opp note add ID TEXT``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx, incomplete):
        """``opp note <TAB>``: the commands, and the ids the short form takes."""
        from .completion import opportunities

        found = super().shell_complete(ctx, incomplete)
        if not incomplete.startswith("-"):
            found += opportunities(ctx, None, incomplete)
        return found


@cli.group("note", cls=_NoteGroup, subcommand_metavar="ID TEXT | COMMAND [ARGS]...")
def note_group() -> None:
    """Notes: messages about the deal, with who wrote them and when.

    'opp note ID TEXT' adds one (short for 'opp note add ID TEXT'). Notes can be
    added on closed opportunities too (R17).

    \b
    Example:  opp note 4k7q "Customer asked for a 10 % discount; see with Bob"
              opp note list 4k7q
    """


def _note_text(text: str) -> str:
    if text == "-":
        import sys

        from ..errors import UsageError

        data = sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"standard input is not UTF-8 text (byte {exc.start + 1}); save "
                             "it as UTF-8 and try again") from None
    return text


@note_group.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("text")
@pass_state
def note_add(state: State, ref: str, text: str) -> None:
    """Add a note (TEXT '-' reads it from stdin); prints its id alone on stdout.

    The note records its author (your git identity, else OPP_USER, else your
    user name) and the time, to the second with your time zone.

    \b
    Example:  opp note 4k7q "Call Jane back on Monday"
              git log -1 --format=%B | opp note add 4k7q -
    """
    from ..env import now

    body = _note_text(text)
    with changing(state, ref, "note") as tx:
        from ..domain import panels  # here: the models load first, while git answers

        tx.opportunity, added = panels.add_note(tx.opportunity, author=state.repo.identity.name,
                                                text=body, at=now())
        tx.action = f"note {panels.label('notes', added)}"
    click.echo(added.id)


@note_group.command("list")
@click.argument("ref", metavar="ID")
@format_option("table", "json", "csv", "text")
@pass_state
def note_list(state: State, ref: str, fmt: str) -> None:
    """List the notes of an opportunity, oldest first.

    The table (or its alias text) shows each note under its date, author and id.

    \b
    Example:  opp note list 4k7q
    """
    list_items(state, ref, "notes", fmt)


@note_group.command("edit", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.argument("text")
@pass_state
def note_edit(state: State, ref: str, item: str, text: str) -> None:
    """Replace a note's text (TEXT '-' reads it from stdin); author and time stay.

    \b
    Example:  opp note edit 4k7q n5 "Call Jane back on Tuesday"
    """
    body = _note_text(text).replace("\r\n", "\n")
    edit_item(state, ref, item, "notes", {"text": body}, "note-edit")


@note_group.command("remove")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@pass_state
def note_remove(state: State, ref: str, item: str) -> None:
    """Remove a note.

    \b
    Example:  opp note remove 4k7q n5
    """
    remove_item(state, ref, item, "notes", "note-remove")
