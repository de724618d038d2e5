"""The panels: contacts, partners, competitors, activities, documents, notes (R1, R2, R17).

Every panel has the same verbs: ``add`` (prints the new item's id alone on stdout),
``list``, ``edit``, ``remove``; activities add ``done``, documents ``attach``.
ITEM is an item's id or a unique prefix of it. Contacts, partners and competitors
of a closed opportunity are read-only; activities, documents and notes are not.
"""


from __future__ import annotations

from collections.abc import Callable

import click

from .app import State, note, pass_state
from .opportunities import changing
from .output import emit_csv, emit_json, format_option, table

COLUMNS = {
    "contacts": ["id", "name", "role", "email", "phone"],
    "partners": ["id", "account", "role"],
    "competitors": ["id", "account", "role", "products", "notes"],
    "activities": ["id", "date", "type", "subject", "done", "author", "notes"],
    "documents": ["id", "title", "path", "size", "sha256", "added"],
    "notes": ["id", "date", "author", "text"],
}


class TextArgsCommand(click.Command):
    """A command whose free-text arguments may start with '-' (``opp note ID "-5% agreed"``).

    Click would read ``-5% agreed`` as short options. Here every argument that is not
    one of this command's options (nor an option's value) is passed after ``--``, so
    it stays text; a ``--word`` that is no option still gets click's "No such option"
    (a mistyped option is likelier than text spelled like one).
    """

    def parse_args(self, ctx, args):
        takes_value = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not param.is_flag and not param.count
        options: list[str] = []
        texts: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                texts += args[i:]
                break
            name = arg.split("=", 1)[0] if arg.startswith("--") else arg
            if name in takes_value:
                options.append(arg)
                if takes_value[name] and "=" not in arg and i < len(args):
                    options.append(args[i])
                    i += 1
            elif arg.startswith("--") and len(arg) > 2 and " " not in name:
                options.append(arg)  # click says "No such option", with a suggestion
            else:
                texts.append(arg)
        return super().parse_args(ctx, [*options, "--", *texts] if texts else options)


def _cleared(value: str | None) -> str | None:
    """'none' (or an empty value) clears an optional field."""
    return None if value is None or value.strip().lower() in ("", "none") else value


def item_fields(**given) -> dict:
    """The options actually given, as fields to change; '' and 'none' clear a field."""
    out = {}
    for key, value in given.items():
        if value is None:
            continue
        out[key] = _cleared(value) if isinstance(value, str) else value
    return out


def add_item(state: State, ref: str, panel: str, fields: dict, kind: str,
             create: bool | None = None) -> None:
    """Add an item as one commit; print its id on stdout. A relation's account or
    person is resolved, or created in the same commit (said on stderr)."""
    from ..domain import panels
    from ..env import today
    from ..store.accounts import directory, linked, named

    made: list[str] = []
    with changing(state, ref, kind) as tx:
        found = None
        if panel in panels.RELATIONS:
            fields, made = linked(tx, panel, fields, today=today(), create=create)
            found = directory(state.repo)
        tx.opportunity, item = panels.add(tx.opportunity, state.repo.settings, panel, fields,
                                          today=today(), directory=found)
        tx.action = f"add {panels.WORD[panel]} {panels.label(panel, named(state.repo, item))}"
    for line in made:
        note(line)
    click.echo(item.id)


def edit_item(state: State, ref: str, item: str, panel: str, fields: dict, kind: str,
              create: bool | None = None) -> None:
    """Change fields of an item as one commit (a relation's new account or person
    resolved as ``add_item`` resolves it)."""
    from ..domain import panels
    from ..env import today
    from ..store.accounts import directory, linked, named

    made: list[str] = []
    with changing(state, ref, kind) as tx:
        found = None
        if panel in panels.RELATIONS:
            fields, made = linked(tx, panel, fields, today=today(), create=create)
            found = directory(state.repo)
        tx.opportunity, before, after = panels.edit(tx.opportunity, state.repo.settings, panel,
                                                    item, fields, today=today(),
                                                    directory=found)
        tx.action = _edit_words(panel, named(state.repo, before), named(state.repo, after))
    for line in made:
        note(line)


def _edit_words(panel: str, before, after) -> str:
    from ..domain import panels
    from ..domain.versions import value_text

    what = panels.label(panel, before) if panel != "notes" else before.id
    parts = [f"{field} {_short(value_text(old))} -> {_short(value_text(new))}"
             for field, old, new in panels.changed_fields(before, after)]
    return f"edit {panels.WORD[panel]} {what}: " + (", ".join(parts) or "no change")


def _short(text: str | None) -> str:
    from ..domain.panels import excerpt

    return "none" if text is None else excerpt(text, 40)


def remove_item(state: State, ref: str, item: str, panel: str, kind: str) -> None:
    from ..domain import panels
    from ..store.accounts import named

    with changing(state, ref, kind) as tx:
        tx.opportunity, removed = panels.remove(tx.opportunity, state.repo.settings, panel,
                                                item)
        shown = panels.label(panel, named(state.repo, removed))
        tx.action = f"remove {panels.WORD[panel]} {shown}"


def list_items(state: State, ref: str, panel: str, fmt: str, keep: Callable | None = None,
          empty: str = "") -> None:
    """Print a panel as a table, JSON (the items as stored, accounts by name with their
    ids) or CSV."""
    from ..domain.accounts import relation_rows
    from ..domain.panels import RELATIONS
    from ..store.accounts import directory

    repo = state.repo
    opp = repo.load(repo.resolve(ref))
    items = [i for i in getattr(opp, panel) if keep is None or keep(i)]
    if panel == "activities":
        items.sort(key=lambda a: a.date)
    rows = [i.model_dump(mode="json") for i in items]
    if panel in RELATIONS:  # accounts by name with their ids, people by id (#20)
        rows = relation_rows(panel, rows, directory(repo))
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv([{k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()}
                  for row in rows], COLUMNS[panel])
    elif not rows:
        note(empty or f"{opp.id} has no {panel}")
    elif panel == "notes":
        for n in items:
            click.echo(f"{n.date:%Y-%m-%d %H:%M} {n.author} [{n.id}]")
            click.echo("\n".join(f"  {line}" for line in n.text.splitlines()))
    else:
        shown = [c for c in COLUMNS[panel]
                 if c not in ("sha256", "notes") or panel == "competitors"]
        data = []
        for row in rows:
            if panel == "activities":
                row = {**row, "done": "done" if row["done"] else "to do"}
            data.append([row.get(c) for c in shown])
        align = ["right" if c == "size" else "left" for c in shown]
        click.echo(table(data, ["state" if c == "done" else c for c in shown], align=align))


def list_and_remove(group: click.Group, name: str, panel: str) -> None:
    """Give a relations group its list and remove commands."""

    @group.command("list", help=f"List the {panel} of an opportunity.\n\n\b\n"
                                f"Example:  opp {name} list 4k7q --format json")
    @click.argument("ref", metavar="ID")
    @format_option("table", "json", "csv")
    @pass_state
    def list_command(state: State, ref: str, fmt: str) -> None:
        list_items(state, ref, panel, fmt)

    @group.command("remove", help=f"Remove a {name} (ITEM: its id or a unique prefix).\n\n"
                                  f"\b\nExample:  opp {name} remove 4k7q x3m")
    @click.argument("ref", metavar="ID")
    @click.argument("item", metavar="ITEM")
    @pass_state
    def remove_command(state: State, ref: str, item: str) -> None:
        remove_item(state, ref, item, panel, f"{name}-remove")
