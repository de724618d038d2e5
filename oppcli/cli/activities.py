"""Activities: calls, visits, meetings, e-mails, tasks done or planned for a deal."""

from __future__ import annotations

import click

from .app import State, cli, pass_state
from .opportunities import changing
from .output import format_option
from .panels import (
    add_item,
    edit_item,
    item_fields,
    list_items,
    remove_item,
)
from .params import DATE, LINE, WORD


@cli.group()
def activity() -> None:
    """Activities: calls, visits, meetings, e-mails, tasks done for the deal.

    Types come from opp.yaml (activity_types). Activities can be added and
    changed on closed opportunities too (R17).

    \b
    Example:  opp activity list 4k7q --open
    """


@activity.command("add")
@click.argument("ref", metavar="ID")
@click.option("--type", "type_", required=True, type=WORD,
              help="An activity type of opp.yaml (call, visit, meeting, email, task…).")
@click.option("--subject", required=True, type=LINE, help="What it is about.")
@click.option("--date", "on", type=DATE, help="Its day, YYYY-MM-DD or e.g. tomorrow, +1w "
                                              "(default today; a later day plans it).")
@click.option("--done", is_flag=True, help="It has been done already.")
@click.option("--notes", help="Free notes (several lines allowed).")
@pass_state
def activity_add(state: State, ref: str, type_: str, subject: str, on, done: bool, notes) -> None:
    """Add an activity; prints its id alone on stdout.

    \b
    Example:  opp activity add 4k7q --type call --subject "Discovery call" --done
              opp activity add 4k7q --type meeting --subject "Demo" --date 2026-12-03
    """
    from ..env import today

    add_item(state, ref, "activities",
         item_fields(type=type_, subject=subject, date=on or today(), done=done, notes=notes,
                 author=state.repo.identity.name), "activity-add")


@activity.command("list")
@click.argument("ref", metavar="ID")
@click.option("--open", "only_open", is_flag=True, help="Only activities not done yet.")
@format_option("table", "json", "csv")
@pass_state
def activity_list(state: State, ref: str, only_open: bool, fmt: str) -> None:
    """List the activities of an opportunity by date.

    \b
    Example:  opp activity list 4k7q --open
    """
    list_items(state, ref, "activities", fmt, (lambda a: not a.done) if only_open else None,
          "no activity to do" if only_open else "")


@activity.command("done")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--date", "on", type=DATE, help="The day it was done (default: its date, or "
                                              "today for one planned later).")
@pass_state
def activity_done(state: State, ref: str, item: str, on) -> None:
    """Mark an activity done.

    \b
    Example:  opp activity done 4k7q a7
    """
    from ..domain import panels
    from ..env import today

    with changing(state, ref, "activity-done") as tx:
        tx.opportunity, before, after = panels.mark_done(tx.opportunity, item, today=today(),
                                                         on=on)
        tx.action = f"activity done: {after.type} \"{after.subject}\" on {after.date}"
        if before.date != after.date:
            tx.action += f" (was planned {before.date})"


@activity.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--type", "type_", type=WORD, help="New type.")
@click.option("--subject", type=LINE, help="New subject.")
@click.option("--date", "on", type=DATE, help="New day.")
@click.option("--done", is_flag=True, help="Mark it done.")
@click.option("--not-done", is_flag=True, help="Mark it not done.")
@click.option("--notes", help="New notes ('none' clears them).")
@pass_state
def activity_edit(state: State, ref: str, item: str, type_, subject, on, done: bool, not_done: bool,
                  notes) -> None:
    """Change an activity's type, subject, date, state or notes.

    \b
    Example:  opp activity edit 4k7q a7 --date 2026-12-10 --not-done
    """
    from ..errors import UsageError

    if done and not_done:
        raise UsageError("--done and --not-done contradict each other; give one of them")
    new_done = True if done else False if not_done else None
    edit_item(state, ref, item, "activities",
          item_fields(type=type_, subject=subject, date=on, done=new_done, notes=notes),
          "activity-edit")


@activity.command("remove")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@pass_state
def activity_remove(state: State, ref: str, item: str) -> None:
    """Remove an activity.

    \b
    Example:  opp activity remove 4k7q a7
    """
    remove_item(state, ref, item, "activities", "activity-remove")
