"""``opp edit``: change an opportunity's YAML by hand, with every check a command makes.

The file is copied to a draft under the git folder (``.git/opp-edit/``), the editor
opens the draft, and the saved draft is checked like any change (YAML, schema, the
id, every rule, the amount rules included) and committed as one change (``edit``),
written the way opp writes every file. An unchanged draft makes no commit. The data
file is never touched until the draft holds; an invalid draft is kept, its path in
the message, so that no typing is lost.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..domain import accounts as account_rules
from ..domain import opportunity
from ..env import today
from ..errors import DataError, OppError, RepoError
from . import accounts as store_accounts
from . import files, yamlio
from .files import OPPORTUNITIES_DIR
from .repo import Repo
from .transaction import opportunity_subject


@dataclass(frozen=True)
class Draft:
    """An opportunity file being edited: its id, its bytes before, the draft's path."""

    opp_id: str
    relpath: str
    original: bytes
    path: Path


@dataclass(frozen=True)
class Edited:
    """What ``finish`` did: the commit's subject, or None when nothing changed."""

    subject: str | None


def begin(repo: Repo, ref: str) -> Draft:
    """A draft of the opportunity ``ref`` names, to be opened in the editor."""
    opp_id = repo.resolve(ref)
    relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
    original = files.read_data_file(repo.root, relpath, yamlio.MAX_FILE_BYTES)
    if original is None:
        raise RepoError(f"{relpath} is missing")
    folder = repo.git_dir / "opp-edit"
    folder.mkdir(exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{opp_id}-", suffix=".yaml", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(original)
    return Draft(opp_id, relpath, original, Path(name))


def editor() -> str:
    """The editor command: ``$VISUAL``, else ``$EDITOR``, else vi (as git does)."""
    for name in ("VISUAL", "EDITOR"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return "vi"


def run_editor(draft: Draft) -> None:
    """Open the draft in the editor and wait; the command is read by the shell, so that
    ``EDITOR="code --wait"`` works, as with git."""
    command = editor()
    try:
        status = subprocess.call(["sh", "-c", f'{command} "$@"', command, str(draft.path)])
    except OSError as exc:
        raise RepoError(f"cannot start the editor '{command}': {exc.strerror or exc}; set "
                        "VISUAL or EDITOR") from None
    if status != 0:
        discard(draft)
        raise RepoError(f"the editor '{command}' exited with status {status}; nothing "
                        "changed")


def discard(draft: Draft) -> None:
    draft.path.unlink(missing_ok=True)


def finish(repo: Repo, draft: Draft) -> Edited:
    """Check the saved draft and commit it as one change; ``DataError`` (the draft kept)
    when it breaks anything, the file and history untouched."""
    try:
        text = draft.path.read_bytes()
    except OSError as exc:
        raise RepoError(f"cannot read the edited file {draft.path}: "
                        f"{exc.strerror or exc}") from None
    if text == draft.original:
        discard(draft)
        return Edited(None)
    loaded, node = yamlio.load(text, draft.relpath)
    result = repo.opportunity_errors(draft.relpath, _closing_today(repo, draft, loaded), node)
    if isinstance(result, list):
        raise result[0]
    with repo.change(draft.opp_id, "edit") as tx:
        now = files.read_data_file(repo.root, draft.relpath, yamlio.MAX_FILE_BYTES)
        if now != draft.original:
            raise RepoError(f"{draft.relpath} changed while it was being edited (another "
                            "opp command or git); nothing changed")
        before = tx.opportunity
        try:  # the rules of the typed commands: R17, R17a, accounts that exist
            result = _with_accounts(repo, before, opportunity.edited(
                before, result, repo.settings, today=today(),
                catalog_skus={item.sku for item in repo.catalog.products}))
        except DataError:
            raise
        except OppError as exc:  # a refusal of the draft: kept, like any invalid draft
            raise DataError(exc.message, draft.relpath) from None
        fields = [name for name in type(result).model_fields
                  if getattr(before, name) != getattr(result, name)]
        tx.opportunity = result
        tx.action = "edit " + ", ".join(fields) if fields else "edit"
        tx.subject = opportunity_subject(result, tx.action)
    discard(draft)
    return Edited(tx.subject if tx.writes and fields else None)


def _closing_today(repo: Repo, draft: Draft, loaded):
    """A draft that closes an open deal and leaves its close date empty closes it today,
    as ``opp stage`` does (R17a): the file's rules would refuse a won deal without a
    close date before the edit's own rules (``opportunity.edited``) could give it one."""
    if not isinstance(loaded, dict) or loaded.get("close_date") is not None:
        return loaded
    try:
        was, _ = yamlio.load(draft.original, draft.relpath)
        closes = repo.settings.stage(str(loaded.get("stage"))).kind != "open"
        opened = repo.settings.stage(str(was.get("stage"))).kind == "open"
    except (OppError, KeyError, AttributeError):
        return loaded  # the checks that follow say what is wrong
    return {**loaded, "close_date": today()} if closes and opened else loaded


def kept(draft: Draft, error: DataError) -> DataError:
    """The refusal of an invalid draft, saying where the edited text is kept."""
    where = f"line {error.line}: " if error.line else ""
    return DataError(f"{where}{error.message}; nothing changed; your edited text is kept in "
                     f"{draft.path}", draft.relpath)


def _with_accounts(repo: Repo, before, after):
    """The edited deal's customer, partners and competitors, each an account as the typed
    commands make it: a value the edit did not change stays; a new one is an account's
    id, or its exact name or alias (written as its id), unless the repo has no accounts
    yet (customers still text: opp init --upgrade). A contact's person must be one of
    the customer's people. ``NotFound`` or ``DataError`` otherwise."""
    directory = store_accounts.directory(repo)

    def account(value: str, old: set[str], what: str) -> str:
        if value in old or value in directory or not len(directory):
            return value
        return directory.resolve(value, what).id

    customer = account(after.customer, {before.customer}, "customer")
    partners = [p.model_copy(update={"account": account(
        p.account, {q.account for q in before.partners}, "partner")}) for p in after.partners]
    competitors = [c.model_copy(update={"account": account(
        c.account, {q.account for q in before.competitors}, "competitor")})
        for c in after.competitors]
    after = after.model_copy(update={"customer": customer, "partners": partners,
                                     "competitors": competitors})
    accounts = {i: store_accounts.load(repo, i) for i in account_rules.referenced(after)
                if i in directory}
    was = {d.message for d in account_rules.dangling(before, accounts)}
    new = [d for d in account_rules.dangling(after, accounts) if d.message not in was]
    if new:
        raise DataError(new[0].message, f"{OPPORTUNITIES_DIR}/{after.id}.yaml")
    return after
