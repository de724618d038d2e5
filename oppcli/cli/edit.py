"""``opp edit ID``: the opportunity's YAML in $VISUAL or $EDITOR, checked and committed
like any change (store/edit.py does the work)."""

from __future__ import annotations

import sys

import click

from .app import State, cli, note, pass_state


@cli.command()
@click.argument("ref", metavar="ID")
@pass_state
def edit(state: State, ref: str) -> None:
    """Edit an opportunity's YAML file in $VISUAL, else $EDITOR, else vi.

    On save, the file is checked like any change (YAML, schema, every rule, the
    amount rules included: a typed amount on a deal with products is refused),
    held to the typed commands' rules (a stage that closes sets the close date
    to today unless the edit gives a past one; a closed deal takes changes to
    notes, documents and activities only; a new customer must be an account; a
    quote is sent and answered by its commands only; a product line added or
    changed names a catalog product), and committed as one change; an unchanged
    file makes no commit. When the file is invalid, on a terminal opp says why
    and offers to edit it again;
    otherwise it exits 1, nothing changed, and the message names the file that
    keeps the edited text.

    \b
    Example:  opp edit 4k7q
              EDITOR="code --wait" opp edit 4k7q
    """
    from ..errors import DataError, RepoError
    from ..store.edit import begin, finish, kept, run_editor

    repo = state.repo
    draft = begin(repo, ref)
    while True:
        run_editor(draft)
        try:
            done = finish(repo, draft)
        except DataError as exc:
            if sys.stdin.isatty() and click.confirm(f"{exc}\nEdit again?", default=True,
                                                     err=True):
                continue
            raise kept(draft, exc) from None
        except RepoError as exc:
            raise RepoError(f"{exc.message}; your edited text is kept in {draft.path}") \
                from None
        break
    if done.subject is None:
        note(f"{draft.opp_id}: no change; nothing committed")
    else:
        note(done.subject)
