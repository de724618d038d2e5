"""The data repo: finding it and reading its files (settings, catalog, opportunities),
each checked in full. Changes go through ``store.transaction``.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.settings import Settings
from ..domain.stages import near
from ..env import lock_timeout
from ..errors import DataError, NotFound, RepoError, UsageError
from . import files, journal, locking, mergestate
from .driver import ensure_merge_driver
from .files import ACCOUNTS_DIR, CATALOG_FILE, OPPORTUNITIES_DIR, QUOTAS_FILE, SETTINGS_FILE
from .git import Identity, Started, git, git_config, git_true, holding, identity

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .transaction import Transaction


class _LazyYamlio:
    """``yamlio`` (and PyYAML) imported on first use: reports served by the index never
    parse YAML, and start faster without it."""

    def __getattr__(self, name: str):
        from . import yamlio as module

        return getattr(module, name)


yamlio = _LazyYamlio()


_WHOLE_ID = re.compile(r"[0-9a-z]{4,32}")  # the form of an opportunity id (model.OppId)


class _IdsOnDisk:
    def __init__(self, folder: Path):
        self.folder = folder

    def __contains__(self, opp_id: object) -> bool:
        return os.path.lexists(self.folder / f"{opp_id}.yaml")


def holds_settings(folder: Path) -> bool:
    """Whether ``folder`` has an ``opp.yaml``; one that is not a regular file (a symbolic
    link, which could point at /dev/zero or out of the repo, a FIFO, a device) is
    refused, naming it, rather than passed over for a repo further up."""
    path = folder / SETTINGS_FILE
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    if not stat.S_ISREG(mode):
        raise RepoError(f"{path}: is {files.kind(mode)}, not a regular file; opp reads only "
                        "regular files inside the data repo (replace it with the file itself)")
    return True


class Repo:
    """A data repo: a folder with ``opp.yaml`` inside a git work tree."""

    past = False  # True for the repo as of a past commit (read.history.Snapshot)

    def __init__(self, root: Path):
        self.root = Path(root)
        # called after each commit of a change with the files it wrote (path: bytes), so
        # that a cache above storage (the index) learns them; never allowed to fail it
        self.on_commit: list[Callable[[Repo, dict[str, bytes]], None]] = []
        # every account as plain data (or as the ``Directory`` of them), read by a cache
        # above storage (the index) when one is installed; ``store.accounts.directory``
        # parses every file otherwise
        self.accounts_reader: Callable[[Repo], Any] | None = None
        self.config_read: Started | None = None  # git's settings, asked early (early.py)

    # -------------------------------------------------------- finding

    @classmethod
    def find(cls, explicit: str | None = None) -> Repo:
        """``--repo``/``OPP_REPO`` when given, else the nearest folder up with ``opp.yaml``."""
        if explicit:
            root = Path(explicit).expanduser()
            if not holds_settings(root):
                full = root.resolve()
                above = next((f for f in full.parents if holds_settings(f)), None)
                if above is not None:
                    hint = f"it is inside the data repo {above}; use --repo {above}"
                elif root.exists() and not root.is_dir():
                    hint = "it is a file; give the folder that holds opp.yaml"
                else:
                    hint = f"create one with: opp init {root}"
                raise RepoError(f"{root} is not an opp data repo (no {SETTINGS_FILE}); {hint}")
            ensure_merge_driver(root.resolve())
            return cls(root.resolve())._settled()
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if holds_settings(folder):
                ensure_merge_driver(folder)
                return cls(folder)._settled()
        raise RepoError(f"not inside an opp data repo (no {SETTINGS_FILE} here or above); "
                        "create one with 'opp init DIR', or point at one with --repo DIR "
                        "or OPP_REPO")

    def _settled(self) -> Repo:
        """This repo, once a change under way is done or an interrupted one repaired."""
        journal.settle(self)
        return self

    @cached_property
    def git_dir(self) -> Path:
        dot_git = self.root / ".git"
        if dot_git.is_dir():
            return dot_git
        out = git(self.root, "rev-parse", "--absolute-git-dir", check=False)
        if out.returncode != 0:
            raise RepoError(f"{self.root} has {SETTINGS_FILE} but is not in a git work tree; "
                            "run 'git init' there, then 'git add -A && git commit'")
        return Path(out.stdout.strip())

    @cached_property
    def place(self) -> tuple[str, Path]:
        """Where the data repo sits in its git work tree: its folder from the top
        (``''`` or ``sub/``, as paths in git's index begin) and the top itself."""
        out = git(self.root, "rev-parse", "--show-prefix", "--show-toplevel").stdout
        prefix, top = (out.split("\n") + [""])[:2]
        return prefix.strip(), Path(top.strip() or self.root)

    @cached_property
    def identity(self) -> Identity:
        return identity(self.root, self.git_config)

    @cached_property
    def git_config(self) -> dict[str, str]:
        started, self.config_read = self.config_read, None  # read early (``early.py``)
        return git_config(self.root, started.results()[0] if started else None)

    def quick_objects(self) -> dict[str, str]:
        """git options that write new objects uncompressed (zlib's level 0, stored) unless
        the user chose a level: a commit's new tree for a folder of 100,000 files is 4.1 MB
        of names and binary ids, which the default level compresses in 0.14 s, level 1 in
        0.09 s to 2.9 MB, and level 0 copies in 0.04 s (#9, #25: git's trace2 of write-tree,
        2026-12-05). It stays loose only until opp packs it (``pack_chance``), and
        ``git repack`` compresses with its own level; every git and libgit2 reads level 0."""
        if {"core.compression", "core.loosecompression"} & set(self.git_config):
            return {}
        return {"core.looseCompression": "0"}

    def plain_commit(self, hooks: str | None = None) -> bool:
        """Whether a commit may be made with git's plumbing (write-tree, commit-tree,
        update-ref), which skips refreshing the stat data of every file in the index:
        only when no commit hook would run and no signature is asked for. ``hooks``:
        what ``git rev-parse --git-path hooks`` printed, when the caller asked already."""
        events = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
        if git_true(self.git_config.get("commit.gpgsign", "")):
            return False
        if any(event.strip() in events for key, value in self.git_config.items()
               if key.startswith("hook.") for event in value.split("\n")):
            return False  # a hook set in git's config (git 2.54 and later)
        # git's own answer: core.hooksPath (relative, ~) or the common dir's hooks/
        if hooks is None:
            hooks = git(self.root, "rev-parse", "--git-path", "hooks", check=False).stdout
        where = hooks.strip()
        folder = self.root / (where or ".git/hooks")
        return not any(os.access(folder / name, os.X_OK) for name in events)

    # -------------------------------------------------------- reading

    def path_of(self, opp_id: str) -> Path:
        return self.root / OPPORTUNITIES_DIR / f"{opp_id}.yaml"

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_yaml(self, relpath: str, *, required: bool = True) -> tuple[Any, Any]:
        # a regular file only, of bounded size: never a link out of the repo, never a FIFO
        data = files.read_data_file(self.root, relpath, yamlio.MAX_FILE_BYTES)
        if data is None:
            if required:
                raise DataError("file is missing", relpath)
            return None, None
        return yamlio.quick_load(data, relpath)

    def parse_model(self, model: type, relpath: str, data: Any, node: Any):
        """Validate ``data`` with ``model``; the first failure as a ``DataError`` at its line."""
        errors = self.model_errors(model, relpath, data, node)
        if isinstance(errors, list):
            raise errors[0]
        return errors

    @staticmethod
    def model_errors(model: type[BaseModel], relpath: str, data: Any, node: Any):
        """The model instance, or a list of ``DataError`` (one per broken field)."""
        from pydantic import ValidationError

        try:
            return model.model_validate(data)
        except ValidationError as exc:
            out = []
            for err in exc.errors():
                loc = tuple(err["loc"])
                line, column = yamlio.locate(node, loc, key=err["type"] == "extra_forbidden")
                where = ".".join(str(p) for p in loc)
                message = err["msg"]
                if err["type"] == "extra_forbidden":
                    message = "unknown field"
                elif message.startswith("Value error, "):
                    message = message[len("Value error, "):]
                out.append(DataError(f"{where}: {message}" if where else message, relpath,
                                     line, column))
            return out

    @cached_property
    def settings(self) -> Settings:
        from ..domain.model import SettingsFile

        data, node = self.read_yaml(SETTINGS_FILE)
        return self.parse_model(SettingsFile, SETTINGS_FILE, data, node).value()

    def settings_bytes(self) -> bytes | None:
        """The bytes of ``opp.yaml``; None when they cannot be read (``settings`` says why)."""
        try:  # the one careful reader: no link, no FIFO, bounded
            return files.read_data_file(self.root, SETTINGS_FILE, files.MAX_FILE_BYTES)
        except DataError:
            return None

    def settings_from_bytes(self, data: bytes) -> Settings:
        """``settings`` parsed from these very bytes of ``opp.yaml`` (the ones the index
        keys its copy on), and kept as ``settings``."""
        from ..domain.model import SettingsFile

        loaded, node = yamlio.quick_load(data, SETTINGS_FILE)  # as ``settings`` reads them
        settings = self.parse_model(SettingsFile, SETTINGS_FILE, loaded, node).value()
        self.__dict__["settings"] = settings
        return settings

    @cached_property
    def catalog(self):
        from ..domain.model import Catalog

        data, node = self.read_yaml(CATALOG_FILE, required=False)
        if data is None:
            return Catalog()
        return self.parse_model(Catalog, CATALOG_FILE, data, node)

    @cached_property
    def quotas(self):
        """``quotas.yaml`` checked (empty when there is none)."""
        from ..domain.model import Quotas

        data, node = self.read_yaml(QUOTAS_FILE, required=False)
        if data is None:
            return Quotas()
        return self.parse_model(Quotas, QUOTAS_FILE, data, node)

    def ids(self) -> list[str]:
        """Every opportunity id, from the file names, sorted."""
        folder = self.root / OPPORTUNITIES_DIR
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted(n[:-5] for n in names if n.endswith(".yaml") and not n.startswith("."))

    def account_ids(self) -> list[str]:
        """Every account id, from the file names of ``accounts/``, sorted."""
        try:
            names = os.listdir(self.root / ACCOUNTS_DIR)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(n[:-5] for n in names if n.endswith(".yaml") and not n.startswith("."))

    def taken_ids(self) -> _IdsOnDisk:
        """The ids in use, as a container asked one id at a time (``in``): a new id is
        checked against the files without listing them all."""
        return _IdsOnDisk(self.root / OPPORTUNITIES_DIR)

    def named_file(self, ref: str) -> str | None:
        """The file of a whole id when it exists (no listing), else None: what a change
        of ``ref`` will write, known before it takes the lock."""
        key = ref.strip().casefold()
        if _WHOLE_ID.fullmatch(key) and key in self.taken_ids():
            return f"{OPPORTUNITIES_DIR}/{key}.yaml"
        return None

    def resolve(self, ref: str) -> str:
        """The id an id or unique prefix names; refuses unknown and ambiguous ones."""
        key = ref.strip().casefold()
        if not key:
            raise UsageError("the opportunity id is empty")
        if self.named_file(key):
            return key  # a whole id: no need to list 100,000 names (#9)
        all_ids = self.ids()
        if key in all_ids:
            return key
        matches = [i for i in all_ids if i.startswith(key)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise NotFound(f"no opportunity '{ref}'{near(key, all_ids)}; list them with: opp list")
        shown = []
        for i in matches[:10]:
            try:
                shown.append(f"{i} ({self.load(i).name})")
            except DataError:
                shown.append(i)
        more = f" and {len(matches) - 10} more" if len(matches) > 10 else ""
        raise NotFound(f"'{ref}' matches {len(matches)} opportunities: {', '.join(shown)}{more}; "
                       "type more of the id")

    def load_errors(self, relpath: str):
        """An opportunity file checked in full: the model, or every ``DataError`` it has."""
        try:
            data, node = self.read_yaml(relpath)
        except DataError as exc:
            return [exc]
        return self.opportunity_errors(relpath, data, node)

    def opportunity_errors(self, relpath: str, data: Any, node: Any):
        """Loaded YAML checked as the opportunity file ``relpath``: its schema, its id and
        every rule; the model, or every ``DataError`` it has."""
        from ..domain.checks import problems
        from ..domain.model import Opportunity

        result = self.model_errors(Opportunity, relpath, data, node)
        if isinstance(result, list):
            return result
        errors = []
        expected = Path(relpath).name[:-5]
        if result.id != expected:
            line, column = yamlio.locate(node, ("id",))
            errors.append(DataError(f"id '{result.id}' does not match the file name "
                                    f"{expected}.yaml", relpath, line, column))
        for problem in problems(result, self.settings):
            line, column = yamlio.locate(node, problem.loc)
            errors.append(DataError(problem.message, relpath, line, column))
        return errors or result

    def load(self, opp_id: str):
        """One opportunity, fully checked; ``DataError`` naming file and line otherwise."""
        relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
        if not os.path.lexists(self.root / relpath):
            raise NotFound(f"no opportunity '{opp_id}'; list them with: opp list")
        result = self.load_errors(relpath)
        if isinstance(result, list):
            raise result[0]
        return result

    def load_all(self) -> list:
        """Every opportunity; refuses (names the file) rather than skip an invalid one."""
        return [self.load(i) for i in self.ids()]

    def peek(self, opp_id: str, size: int = 4096) -> str:
        """The start of an opportunity file, unchecked: cheap look-ups (shell completion)."""
        data = files.read_data_file(self.root, f"{OPPORTUNITIES_DIR}/{opp_id}.yaml",
                                      yamlio.MAX_FILE_BYTES) or b""
        return data[:size].decode("utf-8", errors="replace")

    # -------------------------------------------------------- JSON Schemas (editors)

    def schema_refresh(self, force: bool = False) -> dict[str, bytes]:
        """The repo's copies of opp's JSON Schemas (.opp/schemas/) to write, by path: those
        that differ from this opp's, when one is missing or older (always with ``force``)."""
        from . import schemas

        have = {}
        for name in schemas.SCHEMA_FILES:
            try:
                data = files.read_data_file(self.root, f"{schemas.REPO_SCHEMA_DIR}/{name}",
                                              yamlio.MAX_FILE_BYTES)
                have[name] = None if data is None else data.decode("utf-8")
            except (DataError, UnicodeDecodeError):
                have[name] = None
        if not (force or schemas.outdated(have)):
            return {}
        return {f"{schemas.REPO_SCHEMA_DIR}/{name}": text.encode("utf-8")
                for name, text in schemas.rendered().items() if text != have[name]}

    # -------------------------------------------------------- changing

    @contextmanager
    def lock(self) -> Iterator[None]:
        """An exclusive lock on the repo; the kernel frees it if the holder dies."""
        path = self.git_dir / "opp.lock"
        try:
            fh = open(path, "a+")  # noqa: SIM115 - held open for the lock's whole life
        except OSError as exc:
            raise RepoError(f"cannot lock the data repo ({path}): {exc.strerror}; opp needs to "
                            "write there to change anything (is it read-only?)") from None
        try:
            timeout = lock_timeout()
            deadline = time.monotonic() + timeout
            while True:
                if locking.try_lock(fh):
                    break
                if time.monotonic() > deadline:
                    raise RepoError(f"another opp is still changing this repo after "
                                    f"{timeout:.0f} s; try again (OPP_LOCK_TIMEOUT "
                                    "sets the wait)")
                time.sleep(0.02)
            with holding(fh.fileno()):
                journal.recover(self)  # a change killed halfway is undone first
                mergestate.recover(self.git_dir, self.root)  # and a sync killed in its merge
                yield
        finally:
            fh.close()

    # the transaction machinery (and with it YAML and pydantic) loads only for commands
    # that change data: reports served by the index never import it

    def transaction(self, subject: str = "") -> AbstractContextManager[Transaction]:
        """Lock, let the caller stage writes, then write and commit them all or nothing."""
        from .transaction import transaction

        return transaction(self, subject)

    def change(self, ref: str, kind: str, action: str = ""
               ) -> AbstractContextManager[Transaction]:
        """A change to one opportunity: ``tx.opportunity`` is loaded under the lock.

        ``kind`` names the command (the ``Opp-Action`` trailer), ``action`` the change
        in words for the subject; the body may refine it once it knows the result.
        """
        from .transaction import change

        return change(self, ref, kind, action)


