"""The panels: contacts, partners, competitors, activities, documents, notes (R1, R2, R17).

Every panel has the same verbs: ``add`` (prints the new item's id alone on stdout),
``list``, ``edit``, ``remove``; activities add ``done``, documents ``attach``.
ITEM is an item's id or a unique prefix of it. Contacts, partners and competitors
of a closed opportunity are read-only; activities, documents and notes are not.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from .app import cli, note, pass_state
from .opportunities import changing
from .output import emit_csv, emit_json, format_option, table
from .params import DATE, LINE, WORD

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


def _fields(**given) -> dict:
    """The options actually given, as fields to change; '' and 'none' clear a field."""
    out = {}
    for key, value in given.items():
        if value is None:
            continue
        out[key] = _cleared(value) if isinstance(value, str) else value
    return out


def _add(state, ref: str, panel: str, fields: dict, kind: str) -> None:
    """Add an item as one commit; print its id on stdout."""
    from ..domain import panels
    from ..env import today

    with changing(state, ref, kind) as tx:
        tx.opportunity, item = panels.add(tx.opportunity, state.repo.settings, panel, fields,
                                          today=today())
        tx.action = f"add {panels.WORD[panel]} {panels.label(panel, item)}"
    click.echo(item.id)


def _edit(state, ref: str, item: str, panel: str, fields: dict, kind: str) -> None:
    """Change fields of an item as one commit."""
    from ..domain import panels
    from ..env import today

    with changing(state, ref, kind) as tx:
        tx.opportunity, before, after = panels.edit(tx.opportunity, state.repo.settings, panel,
                                                    item, fields, today=today())
        tx.action = _edit_words(panel, before, after)


def _edit_words(panel: str, before, after) -> str:
    from ..domain import panels
    from ..read.timeline import value_text

    what = panels.label(panel, before) if panel != "notes" else before.id
    parts = [f"{field} {_short(value_text(old))} -> {_short(value_text(new))}"
             for field, old, new in panels.changed_fields(before, after)]
    return f"edit {panels.WORD[panel]} {what}: " + (", ".join(parts) or "no change")


def _short(text: str | None) -> str:
    from ..domain.panels import excerpt

    return "none" if text is None else excerpt(text, 40)


def _remove(state, ref: str, item: str, panel: str, kind: str) -> None:
    from ..domain import panels

    with changing(state, ref, kind) as tx:
        tx.opportunity, removed = panels.remove(tx.opportunity, state.repo.settings, panel,
                                                item)
        tx.action = f"remove {panels.WORD[panel]} {panels.label(panel, removed)}"


def _list(state, ref: str, panel: str, fmt: str, keep: Callable | None = None,
          empty: str = "") -> None:
    """Print a panel as a table, JSON (the items as stored) or CSV."""
    repo = state.repo
    opp = repo.load(repo.resolve(ref))
    items = [i for i in getattr(opp, panel) if keep is None or keep(i)]
    if panel == "activities":
        items.sort(key=lambda a: a.date)
    rows = [i.model_dump(mode="json") for i in items]
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


def _list_and_remove(group: click.Group, name: str, panel: str) -> None:
    """Give a relations group its list and remove commands."""

    @group.command("list", help=f"List the {panel} of an opportunity.\n\n\b\n"
                                f"Example:  opp {name} list 4k7q --format json")
    @click.argument("ref", metavar="ID")
    @format_option("table", "json", "csv")
    @pass_state
    def list_items(state, ref: str, fmt: str) -> None:
        _list(state, ref, panel, fmt)

    @group.command("remove", help=f"Remove a {name} (ITEM: its id or a unique prefix).\n\n"
                                  f"\b\nExample:  opp {name} remove 4k7q x3m")
    @click.argument("ref", metavar="ID")
    @click.argument("item", metavar="ITEM")
    @pass_state
    def remove_item(state, ref: str, item: str) -> None:
        _remove(state, ref, item, panel, f"{name}-remove")


# ---------------------------------------------------------------- contacts


@cli.group()
def contact() -> None:
    """Contacts: referents at the customer, each with a role.

    Roles come from opp.yaml (roles.contacts). A closed opportunity's contacts
    are read-only until it is reopened.

    \b
    Example:  opp contact list 4k7q
    """


_list_and_remove(contact, "contact", "contacts")


@contact.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("name", type=LINE)
@click.option("--role", required=True, type=WORD, help="A role of opp.yaml's roles.contacts.")
@click.option("--email", type=LINE, help="E-mail address.")
@click.option("--phone", type=LINE, help="Phone number.")
@pass_state
def contact_add(state, ref: str, name: str, role: str, email, phone) -> None:
    """Add a contact; prints its id alone on stdout.

    \b
    Example:  opp contact add 4k7q "Jane Doe" --role decision-maker --email jane@acme.example
    """
    _add(state, ref, "contacts", _fields(name=name, role=role, email=email, phone=phone),
         "contact-add")


@contact.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--name", type=LINE, help="New name.")
@click.option("--role", type=WORD, help="New role.")
@click.option("--email", help="New e-mail ('none' clears it).")
@click.option("--phone", help="New phone ('none' clears it).")
@pass_state
def contact_edit(state, ref: str, item: str, name, role, email, phone) -> None:
    """Change a contact's name, role, e-mail or phone.

    \b
    Example:  opp contact edit 4k7q x3m --role buyer --phone none
    """
    _edit(state, ref, item, "contacts", _fields(name=name, role=role, email=email, phone=phone),
          "contact-edit")


# ---------------------------------------------------------------- partners


@cli.group()
def partner() -> None:
    """Partners: accounts that supply or support the sale, each with a role.

    Roles come from opp.yaml (roles.partners). A closed opportunity's partners
    are read-only until it is reopened.

    \b
    Example:  opp partner list 4k7q --format json
    """


_list_and_remove(partner, "partner", "partners")


@partner.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("account", type=LINE)
@click.option("--role", required=True, type=WORD, help="A role of opp.yaml's roles.partners.")
@pass_state
def partner_add(state, ref: str, account: str, role: str) -> None:
    """Add a partner; prints its id alone on stdout.

    \b
    Example:  opp partner add 4k7q "Globex" --role reseller
    """
    _add(state, ref, "partners", _fields(account=account, role=role), "partner-add")


@partner.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--account", type=LINE, help="New account name.")
@click.option("--role", type=WORD, help="New role.")
@pass_state
def partner_edit(state, ref: str, item: str, account, role) -> None:
    """Change a partner's account or role.

    \b
    Example:  opp partner edit 4k7q p2 --role integrator
    """
    _edit(state, ref, item, "partners", _fields(account=account, role=role), "partner-edit")


# ---------------------------------------------------------------- competitors


@cli.group()
def competitor() -> None:
    """Competitors: companies offering similar products.

    Roles, optional, come from opp.yaml (roles.competitors). A closed
    opportunity's competitors are read-only until it is reopened.

    \b
    Example:  opp competitor list 4k7q
    """


_list_and_remove(competitor, "competitor", "competitors")


@competitor.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("account", type=LINE)
@click.option("--role", type=WORD, help="A role of opp.yaml's roles.competitors.")
@click.option("--products", type=LINE, help="What they offer.")
@click.option("--notes", help="Free notes (several lines allowed).")
@pass_state
def competitor_add(state, ref: str, account: str, role, products, notes) -> None:
    """Add a competitor; prints its id alone on stdout.

    \b
    Example:  opp competitor add 4k7q "Initech" --role incumbent --products "CRM Suite"
    """
    _add(state, ref, "competitors",
         _fields(account=account, role=role, products=products, notes=notes),
         "competitor-add")


@competitor.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--account", type=LINE, help="New account name.")
@click.option("--role", help="New role ('none' clears it).")
@click.option("--products", help="What they offer ('none' clears it).")
@click.option("--notes", help="Free notes ('none' clears them).")
@pass_state
def competitor_edit(state, ref: str, item: str, account, role, products, notes) -> None:
    """Change a competitor's account, role, products or notes.

    \b
    Example:  opp competitor edit 4k7q c9 --notes "cut prices by 20 % in May"
    """
    _edit(state, ref, item, "competitors",
          _fields(account=account, role=role, products=products, notes=notes),
          "competitor-edit")


# ---------------------------------------------------------------- activities


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
@click.option("--date", "on", type=DATE, help="Its day, YYYY-MM-DD (default today; a later "
                                              "day plans it).")
@click.option("--done", is_flag=True, help="It has been done already.")
@click.option("--notes", help="Free notes (several lines allowed).")
@pass_state
def activity_add(state, ref: str, type_: str, subject: str, on, done: bool, notes) -> None:
    """Add an activity; prints its id alone on stdout.

    \b
    Example:  opp activity add 4k7q --type call --subject "Discovery call" --done
              opp activity add 4k7q --type meeting --subject "Demo" --date 2026-12-03
    """
    from ..env import today

    _add(state, ref, "activities",
         _fields(type=type_, subject=subject, date=on or today(), done=done, notes=notes,
                 author=state.repo.identity.name), "activity-add")


@activity.command("list")
@click.argument("ref", metavar="ID")
@click.option("--open", "only_open", is_flag=True, help="Only activities not done yet.")
@format_option("table", "json", "csv")
@pass_state
def activity_list(state, ref: str, only_open: bool, fmt: str) -> None:
    """List the activities of an opportunity by date.

    \b
    Example:  opp activity list 4k7q --open
    """
    _list(state, ref, "activities", fmt, (lambda a: not a.done) if only_open else None,
          "no activity to do" if only_open else "")


@activity.command("done")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--date", "on", type=DATE, help="The day it was done (default: its date, or "
                                              "today for one planned later).")
@pass_state
def activity_done(state, ref: str, item: str, on) -> None:
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
def activity_edit(state, ref: str, item: str, type_, subject, on, done: bool, not_done: bool,
                  notes) -> None:
    """Change an activity's type, subject, date, state or notes.

    \b
    Example:  opp activity edit 4k7q a7 --date 2026-12-10 --not-done
    """
    from ..errors import UsageError

    if done and not_done:
        raise UsageError("--done and --not-done contradict each other; give one of them")
    done = True if done else False if not_done else None
    _edit(state, ref, item, "activities",
          _fields(type=type_, subject=subject, date=on, done=done, notes=notes),
          "activity-edit")


@activity.command("remove")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@pass_state
def activity_remove(state, ref: str, item: str) -> None:
    """Remove an activity.

    \b
    Example:  opp activity remove 4k7q a7
    """
    _remove(state, ref, item, "activities", "activity-remove")


# ---------------------------------------------------------------- documents


@cli.group()
def doc() -> None:
    """Documents: files kept with the deal under documents/<ID>/, tracked by git.

    Documents can be attached and removed on closed opportunities too (R17).

    \b
    Example:  opp doc list 4k7q
    """


@doc.command("attach")
@click.argument("ref", metavar="ID")
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=True, allow_dash=False))
@click.option("--title", type=LINE, help="A title (default: the file's name).")
@click.option("--large", is_flag=True, help="Store a file over 10 MB anyway.")
@pass_state
def doc_attach(state, ref: str, file: str, title, large: bool) -> None:
    """Copy a file into documents/<ID>/ and list it; prints the document's id.

    The copy gets a name opp makes (the document id and the file's extension),
    so no user text becomes a path; a symlink is copied as its content. Folders,
    devices and FIFOs are refused. Files over 10 MB are refused unless --large:
    git keeps them in every clone forever (consider a shared drive or git LFS).
    The file and the opportunity change in one commit.

    \b
    Example:  opp doc attach 4k7q ~/offers/acme-offer.pdf --title "Offer v2"
    """
    import hashlib
    import os

    from ..domain import panels
    from ..env import today
    from ..store.files import files_in, read_regular_file

    name = os.path.basename(file.rstrip("/")) or file
    data = read_regular_file(os.path.expanduser(file),
                             lambda size: panels.check_document_size(size, file, large))
    repo = state.repo
    with repo.change(ref, "doc-attach") as tx:
        opp = tx.opportunity
        tx.opportunity, document = panels.add_document(
            opp, source_name=name, title=title, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), today=today(),
            taken=files_in(repo, panels.document_folder(opp.id)))
        tx.write_bytes(document.path, data)
        tx.action = f"attach document {panels.label('documents', document)}"
    note(f"{opp.id}: {tx.action} as {document.path}")
    click.echo(document.id)


@doc.command("list")
@click.argument("ref", metavar="ID")
@format_option("table", "json", "csv")
@pass_state
def doc_list(state, ref: str, fmt: str) -> None:
    """List the documents of an opportunity: title, path, size, sha256.

    Paths are relative to the data repo's root.

    \b
    Example:  opp doc list 4k7q --format json
    """
    _list(state, ref, "documents", fmt)


@doc.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--title", required=True, type=LINE, help="The new title.")
@pass_state
def doc_edit(state, ref: str, item: str, title: str) -> None:
    """Change a document's title (the stored file stays as it is).

    \b
    Example:  opp doc edit 4k7q d4 --title "Offer v3"
    """
    _edit(state, ref, item, "documents", {"title": title}, "doc-edit")


@doc.command("remove")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@pass_state
def doc_remove(state, ref: str, item: str) -> None:
    """Remove a document and delete its file, in one commit.

    \b
    Example:  opp doc remove 4k7q d4
    """
    from pathlib import PurePosixPath

    from ..domain import panels
    from ..store.files import files_in

    repo = state.repo
    with repo.change(ref, "doc-remove") as tx:
        tx.opportunity, document = panels.remove(tx.opportunity, repo.settings, "documents",
                                                 item)
        path = panels.removable_path(tx.opportunity, document)
        if path:
            tx.refuse_hand_edits([path])
            if path in files_in(repo, str(PurePosixPath(path).parent)):
                tx.write(path, None)
        tx.action = f"remove document {panels.label('documents', document)}"
    note(f"{tx.opportunity.id}: {tx.action}")
    if not path:
        note(f"note: {document.path} is not a file opp stored; it was left in place")


# ---------------------------------------------------------------- notes


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

        text = sys.stdin.read()
    return text


@note_group.command("add", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("text")
@pass_state
def note_add(state, ref: str, text: str) -> None:
    """Add a note (TEXT '-' reads it from stdin); prints its id alone on stdout.

    The note records its author (your git identity, else OPP_USER, else your
    user name) and the time, to the second with your time zone.

    \b
    Example:  opp note 4k7q "Call Jane back on Monday"
              git log -1 --format=%B | opp note add 4k7q -
    """
    from ..domain import panels
    from ..env import now

    body = _note_text(text)
    with changing(state, ref, "note") as tx:
        tx.opportunity, added = panels.add_note(tx.opportunity, author=state.repo.identity.name,
                                                text=body, at=now())
        tx.action = f"note {panels.label('notes', added)}"
    click.echo(added.id)


@note_group.command("list")
@click.argument("ref", metavar="ID")
@format_option("table", "json", "csv", "text")
@pass_state
def note_list(state, ref: str, fmt: str) -> None:
    """List the notes of an opportunity, oldest first.

    The table (or its alias text) shows each note under its date, author and id.

    \b
    Example:  opp note list 4k7q
    """
    _list(state, ref, "notes", fmt)


@note_group.command("edit", cls=TextArgsCommand)
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.argument("text")
@pass_state
def note_edit(state, ref: str, item: str, text: str) -> None:
    """Replace a note's text (TEXT '-' reads it from stdin); author and time stay.

    \b
    Example:  opp note edit 4k7q n5 "Call Jane back on Tuesday"
    """
    body = _note_text(text).replace("\r\n", "\n")
    _edit(state, ref, item, "notes", {"text": body}, "note-edit")


@note_group.command("remove")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@pass_state
def note_remove(state, ref: str, item: str) -> None:
    """Remove a note.

    \b
    Example:  opp note remove 4k7q n5
    """
    _remove(state, ref, item, "notes", "note-remove")
