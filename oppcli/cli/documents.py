"""Documents: files copied into ``documents/<ID>/`` and listed on the opportunity."""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
from .output import format_option
from .panels import (
    edit_item,
    list_items,
)
from .params import LINE


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
def doc_attach(state: State, ref: str, file: str, title, large: bool) -> None:
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
def doc_list(state: State, ref: str, fmt: str) -> None:
    """List the documents of an opportunity: title, path, size, sha256.

    Paths are relative to the data repo's root.

    \b
    Example:  opp doc list 4k7q --format json
    """
    list_items(state, ref, "documents", fmt)


@doc.command("edit")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@click.option("--title", required=True, type=LINE, help="The new title.")
@pass_state
def doc_edit(state: State, ref: str, item: str, title: str) -> None:
    """Change a document's title (the stored file stays as it is).

    \b
    Example:  opp doc edit 4k7q d4 --title "Offer v3"
    """
    edit_item(state, ref, item, "documents", {"title": title}, "doc-edit")


@doc.command("remove")
@click.argument("ref", metavar="ID")
@click.argument("item", metavar="ITEM")
@pass_state
def doc_remove(state: State, ref: str, item: str) -> None:
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
