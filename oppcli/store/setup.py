"""Creating a data repo (``opp init``), bringing one up to this opp (``upgrade``), and
installing opp's merge driver into a clone's git config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import __version__
from ..domain.settings import Settings
from ..env import today
from ..errors import DataError, RepoError
from . import files, journal
from .accounts import Grouped, accounts_from_text
from .driver import GITATTRIBUTES, ensure_merge_driver, missing_attributes
from .files import ACCOUNTS_DIR, CATALOG_FILE, OPPORTUNITIES_DIR, QUOTAS_FILE, SETTINGS_FILE
from .git import git
from .repo import Repo, yamlio
from .transaction import Transaction, refuse_during_merge


def init(path: Path, settings: Settings | None = None, catalog: Any = None) -> Repo:
    """Create a data repo at ``path`` (``git init`` when it is not in a work tree); one commit."""
    from ..domain.model import Catalog

    path = Path(path).expanduser()
    if path.is_dir() and (path / SETTINGS_FILE).exists():
        Repo(path.resolve())._settled()  # an init killed halfway is undone first
    if (path / SETTINGS_FILE).exists():
        raise RepoError(f"{path} is already an opp data repo ({SETTINGS_FILE} exists)")
    if path.exists() and not path.is_dir():
        raise RepoError(f"{path} exists and is not a folder")
    path.mkdir(parents=True, exist_ok=True)
    inside = git(path, "rev-parse", "--is-inside-work-tree", check=False)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        git(path, "init", "-q")
    repo = Repo(path.resolve())
    with repo.lock():
        refuse_during_merge(repo.git_dir)
        journal.refuse_git_operation(repo.git_dir)
        tx = Transaction(repo, "init: opp data repo", kind="init")
        tx.save_settings(settings or Settings())
        tx.save_model(CATALOG_FILE, catalog or Catalog())
        existing = (files.read_data_file(repo.root, ".gitattributes", 1 << 20, error=RepoError)
                    or b"").decode("utf-8", "replace")
        if "merge=opp" not in existing:
            glue = "" if not existing or existing.endswith("\n") else "\n"
            tx.write(".gitattributes", existing + glue + GITATTRIBUTES)
        tx.commit()
    ensure_merge_driver(repo.root)
    return repo










def upgrade(repo: Repo) -> tuple[list[str], list[Grouped], list[str]]:
    """Bring a data repo's files up to this opp: its JSON Schema copies, the schema
    line at the top of opp.yaml, catalog.yaml and every opportunity (the rest of each
    file is left as it is), and accounts for the customers still written as text (#20).
    One commit, or none when all are current; the paths written, the accounts the
    customer texts were grouped into, and the twin relations folded (in words)."""
    from .schemas import with_header

    with repo.transaction() as tx:
        tx.kind = "upgrade"
        tx.subject = f"upgrade: JSON Schemas and file headers of opp {__version__}"
        changed = {}
        for relpath in [SETTINGS_FILE, CATALOG_FILE, QUOTAS_FILE,
                        *(f"{OPPORTUNITIES_DIR}/{i}.yaml" for i in repo.ids()),
                        *(f"{ACCOUNTS_DIR}/{i}.yaml" for i in repo.account_ids())]:
            data = files.read_data_file(repo.root, relpath, yamlio.MAX_FILE_BYTES)
            if data is None:
                continue
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"cannot read: {exc}", relpath) from None
            fixed = with_header(text, relpath)
            if fixed != text:
                changed[relpath] = fixed
        if changed:
            tx.refuse_hand_edits(list(changed))
        for relpath, text in changed.items():
            tx.write(relpath, text)
        attributes = (files.read_data_file(repo.root, ".gitattributes", 1 << 20,
                                           error=RepoError) or b"").decode("utf-8", "replace")
        missing = missing_attributes(attributes)  # accounts (#20), quotas (#23) by field
        if missing:
            glue = "" if not attributes or attributes.endswith("\n") else "\n"
            tx.write(".gitattributes", attributes + glue + "".join(f"{line}\n"
                                                                   for line in missing))
        # the customer is a record, and a deal names each party once (#20)
        grouped, folded = accounts_from_text(tx, today())
        if grouped:
            tx.subject += f"; {len(grouped)} account(s) from the customers' names"
        if folded:
            tx.subject += f"; {len(folded)} twin partner(s), competitor(s), contact(s) folded"
        tx.writes.update(repo.schema_refresh(force=True))
    return list(tx.writes), grouped, folded
