"""The data repo: finding it, loading its files, and changing them one commit at a time.

This module alone knows where files live, how they are read and written, the lock,
and git. Every change goes through ``Repo.transaction`` (or its shorthand
``Repo.change`` for one opportunity): under an exclusive lock it loads fresh data,
refuses to overwrite uncommitted hand edits, lets the caller change the models,
checks every rule, writes atomically and commits exactly the files it wrote. An
exception anywhere restores the files and leaves history untouched.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import re
import shlex
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import journal
from .env import lock_timeout, now, today  # noqa: F401  (the clock, read in one place)
from .errors import DataError, NotFound, RepoError, RuleError, UsageError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .model import Opportunity, Settings

M = TypeVar("M", bound="BaseModel")


class _LazyYamlio:
    """``yamlio`` (and PyYAML) imported on first use: reports served by the index never
    parse YAML, and start faster without it."""

    def __getattr__(self, name: str) -> Any:
        from . import yamlio as module

        return getattr(module, name)


yamlio = _LazyYamlio()

SETTINGS_FILE = "opp.yaml"
CATALOG_FILE = "catalog.yaml"
OPPORTUNITIES_DIR = "opportunities"
DOCUMENTS_DIR = "documents"
SUBJECT_MAX = 120
_WHOLE_ID = re.compile(r"[0-9a-z]{4,32}")  # the form of an opportunity id (model.OppId)


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """User text made safe for a commit subject: one line, no control characters."""
    text = re.sub(r"[\x00-\x1f\x7f\s]+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- git


@dataclass
class GitResult:
    returncode: int
    stdout: str
    stderr: str


NO_GIT = "git is not installed or not on PATH; opp keeps its history in git, install it first"


def _git_command(args: tuple[str, ...], env: dict | None,
                 config: dict[str, str] | None) -> tuple[list[str], dict, tuple[int, ...]]:
    """The command line, environment and inherited descriptors of one git process."""
    options, fds, heir_env = journal.for_git(args)  # a change's gits inherit its lock
    for key, value in (config or {}).items():
        options = [*options, "-c", f"{key}={value}"]
    # no optional locks: a read (git status) never takes index.lock, so that opp killed
    # outside a change's journal leaves no stale lock behind
    full_env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_OPTIONAL_LOCKS="0",
                    **heir_env)
    if env:
        full_env.update(env)
    return ["git", *options, "-c", "core.quotepath=off", *args], full_env, fds


def git_reads(root: Path, *commands: tuple[str, ...]) -> list[GitResult]:
    """Several git reads run side by side (each a small output; none checked): at
    100,000 files each one reads the whole index or tree, so two cost the time of one."""
    procs: list[subprocess.Popen] = []
    missing = False
    for args in commands:
        argv, full_env, fds = _git_command(args, None, None)
        try:
            procs.append(subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                          text=True, env=full_env, pass_fds=fds))
        except FileNotFoundError:
            missing = True
            break
    results = []
    for proc in procs:  # every process started is waited for, whatever happens
        out, err = proc.communicate()
        results.append(GitResult(proc.returncode, out, err))
    if missing:
        raise RepoError(NO_GIT)
    return results


def git(root: Path, *args: str, input: str | bytes | None = None,
        env: dict | None = None, check: bool = True,
        config: dict[str, str] | None = None) -> GitResult:
    """Run git in ``root`` (``config``: ``-c`` settings for this command); ``RepoError``
    with git's own words when it fails and ``check``."""
    argv, full_env, fds = _git_command(args, env, config)
    binary = isinstance(input, bytes)
    try:
        proc = subprocess.run(argv, cwd=root, input=input, capture_output=True,
                              text=not binary, env=full_env, pass_fds=fds)
    except FileNotFoundError:
        raise RepoError(NO_GIT) from None
    out, err = proc.stdout, proc.stderr
    if binary:
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    result = GitResult(proc.returncode, out, err)
    if check and proc.returncode != 0 and "index.lock': File exists" in err:
        raise RepoError(INDEX_LOCK_HELP)
    if check and proc.returncode != 0:
        status = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                  else f"exit status {proc.returncode}")
        message = one_line(err or out, 300) or status
        raise RepoError(f"git {args[0]} failed: {message}")
    return result


class _IdsOnDisk:
    def __init__(self, folder: Path):
        self.folder = folder

    def __contains__(self, opp_id: object) -> bool:
        return os.path.lexists(self.folder / f"{opp_id}.yaml")


@dataclass(frozen=True)
class Identity:
    name: str
    email: str
    from_git: bool

    def env(self) -> dict:
        """Environment giving git this identity when the user has none configured."""
        if self.from_git:
            return {}
        return {"GIT_AUTHOR_NAME": self.name, "GIT_AUTHOR_EMAIL": self.email,
                "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME", self.name),
                "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL", self.email)}


def git_config(root: Path) -> dict[str, str]:
    """The few git settings opp acts on, read by one git process: the identity, whether
    commits are to be signed or hooks run from the config (then only ``git commit`` makes
    them), whether the user chose how hard git compresses, and whether git's automatic
    housekeeping is on (``gc.auto``, ``maintenance.auto``)."""
    result = git(root, "config", "--get-regexp",
                 r"^(user\.(name|email)|commit\.gpgsign|hook\..*\.event|"
                 r"core\.(loose)?compression|gc\.auto|maintenance\.auto)$", check=False)
    values: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        value = value or "true"  # a key without a value (`[commit] gpgsign`) is true to git
        # hooks set in the config (git 2.54+) may share a key: keep every event; any other
        # key set at several levels (global, then the repo's) is worth its last value
        values[key] = f"{values[key]}\n{value}" if key in values and key.startswith(
            "hook.") else value
    return values


def _git_int(value: str) -> int | None:
    """An integer of git's config (``10k`` is 10240), None when it is not one."""
    value = value.strip().lower()
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(value[-1:], 1)
    try:
        return int(value[:-1] if scale > 1 else value) * scale
    except ValueError:
        return None


def _git_true(value: str) -> bool:
    """A boolean of git's config: true, yes, on, or a non-zero integer."""
    value = value.strip().lower()
    try:
        return int(value) != 0
    except ValueError:
        return value in ("true", "yes", "on")


def identity(root: Path, values: dict[str, str] | None = None) -> Identity:
    """Who is making changes: the git identity, else ``OPP_USER``, else the OS user."""
    values = git_config(root) if values is None else values
    name, email = values.get("user.name", "").strip(), values.get("user.email", "").strip()
    env_name = os.environ.get("GIT_AUTHOR_NAME", "").strip()
    if name and email:
        return Identity(name, email, True)
    if env_name and os.environ.get("GIT_AUTHOR_EMAIL"):
        return Identity(env_name, os.environ["GIT_AUTHOR_EMAIL"], True)
    fallback = os.environ.get("OPP_USER", "").strip() or name or env_name
    if not fallback:
        try:
            fallback = getpass.getuser()
        except Exception:  # no user database entry (containers): still work
            fallback = f"uid{os.getuid()}"
    fallback = one_line(fallback, 100)
    # OPP_USER="Ann Lee <ann@example.com>" names the person and the address, as git does
    spelled = re.fullmatch(r"([^<>]*?)\s*<([^<>\s]+@[^<>\s]+)>", fallback)
    if spelled and spelled.group(1):
        return Identity(spelled.group(1), email or spelled.group(2), False)
    login = re.sub(r"[^A-Za-z0-9._-]+", ".", fallback).strip(".") or "user"
    return Identity(fallback, email or f"{login}@opp.invalid", False)


# ---------------------------------------------------------------- the repo


def _atomic_write(path: Path, data: bytes, fsync: bool = True) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        mode = stat.S_IMODE(os.lstat(path).st_mode)  # keep the file's permissions (x bit)
    except OSError:
        mode = None
    try:
        with open(tmp, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a failed write names no file: say which
        raise


def _prune_empty(root: Path, folder: Path) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty (git keeps no
    empty folders, so a deleted document must not leave one behind)."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


class Repo:
    """A data repo: a folder with ``opp.yaml`` inside a git work tree."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # -------------------------------------------------------- finding

    @classmethod
    def find(cls, explicit: str | None = None) -> Repo:
        """``--repo``/``OPP_REPO`` when given, else the nearest folder up with ``opp.yaml``."""
        if explicit:
            root = Path(explicit).expanduser()
            if not (root / SETTINGS_FILE).is_file():
                full = root.resolve()
                above = next((f for f in full.parents if (f / SETTINGS_FILE).is_file()), None)
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
            if (folder / SETTINGS_FILE).is_file():
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
    def identity(self) -> Identity:
        return identity(self.root, self.git_config)

    @cached_property
    def git_config(self) -> dict[str, str]:
        return git_config(self.root)

    def quick_objects(self) -> dict[str, str]:
        """git options that write new objects with zlib's fastest level unless the user
        chose one: a commit's new tree for a folder of 100,000 files is 4 MB, which the
        default level compresses in 0.14 s and level 1 in 0.06 s, 2 % bigger; ``git gc``
        repacks loose objects with its own level anyway (#9)."""
        if {"core.compression", "core.loosecompression"} & set(self.git_config):
            return {}
        return {"core.looseCompression": "1"}

    def plain_commit(self) -> bool:
        """Whether a commit may be made with git's plumbing (write-tree, commit-tree,
        update-ref), which skips refreshing the stat data of every file in the index:
        only when no commit hook would run and no signature is asked for."""
        events = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
        if _git_true(self.git_config.get("commit.gpgsign", "")):
            return False
        if any(event.strip() in events for key, value in self.git_config.items()
               if key.startswith("hook.") for event in value.split("\n")):
            return False  # a hook set in git's config (git 2.54 and later)
        # git's own answer: core.hooksPath (relative, ~) or the common dir's hooks/
        where = git(self.root, "rev-parse", "--git-path", "hooks", check=False).stdout.strip()
        folder = self.root / (where or ".git/hooks")
        return not any(os.access(folder / name, os.X_OK) for name in events)

    # -------------------------------------------------------- reading

    def path_of(self, opp_id: str) -> Path:
        return self.root / OPPORTUNITIES_DIR / f"{opp_id}.yaml"

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_yaml(self, relpath: str, *, required: bool = True) -> tuple[Any, Any]:
        # a regular file only, of bounded size: never a link out of the repo, never a FIFO
        data = journal.read_data_file(self.root, relpath, yamlio.MAX_FILE_BYTES)
        if data is None:
            if required:
                raise DataError("file is missing", relpath)
            return None, None
        return yamlio.load(data, relpath)

    def parse_model(self, model: type[M], relpath: str, data: Any, node: Any) -> M:
        """Validate ``data`` with ``model``; the first failure as a ``DataError`` at its line."""
        errors = self.model_errors(model, relpath, data, node)
        if isinstance(errors, list):
            raise errors[0]
        return errors

    @staticmethod
    def model_errors(model: type[M], relpath: str, data: Any, node: Any
                     ) -> M | list[DataError]:
        """The model instance, or a list of ``DataError`` (one per broken field)."""
        from pydantic import ValidationError

        try:
            return model.model_validate(data)
        except ValidationError as exc:
            out: list[DataError] = []
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
        from .model import Settings

        data, node = self.read_yaml(SETTINGS_FILE)
        return self.parse_model(Settings, SETTINGS_FILE, data, node)

    def settings_bytes(self) -> bytes | None:
        """The bytes of ``opp.yaml``; None when they cannot be read (``settings`` says why)."""
        try:
            return (self.root / SETTINGS_FILE).read_bytes()
        except OSError:
            return None

    def settings_from_bytes(self, data: bytes) -> Settings:
        """``settings`` parsed from these very bytes of ``opp.yaml`` (the ones the index
        keys its copy on), and kept as ``settings``."""
        from .model import Settings

        loaded, node = yamlio.load(data, SETTINGS_FILE)
        settings = self.parse_model(Settings, SETTINGS_FILE, loaded, node)
        self.__dict__["settings"] = settings
        return settings

    def report_settings(self):
        """The settings as reports and lists read them (``records.PlainSettings``), from
        the index when it knows this ``opp.yaml``: no pydantic on that path."""
        from . import index
        from .records import plain_settings

        return index.report_settings(self) if index.enabled() else plain_settings(self.settings)

    @cached_property
    def catalog(self):
        from .model import Catalog

        data, node = self.read_yaml(CATALOG_FILE, required=False)
        if data is None:
            return Catalog()
        return self.parse_model(Catalog, CATALOG_FILE, data, node)

    def ids(self) -> list[str]:
        """Every opportunity id, from the file names, sorted."""
        folder = self.root / OPPORTUNITIES_DIR
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return []
        return sorted(n[:-5] for n in names if n.endswith(".yaml") and not n.startswith("."))

    def taken_ids(self) -> Container[str]:
        """The ids in use, as a container asked one id at a time (``in``): a new id is
        checked against the files without listing them all."""
        return _IdsOnDisk(self.root / OPPORTUNITIES_DIR)

    def resolve(self, ref: str) -> str:
        """The id an id or unique prefix names; refuses unknown and ambiguous ones."""
        key = ref.strip().casefold()
        if not key:
            raise UsageError("the opportunity id is empty")
        if _WHOLE_ID.fullmatch(key) and key in self.taken_ids():
            return key  # a whole id: no need to list 100,000 names (#9)
        all_ids = self.ids()
        if key in all_ids:
            return key
        matches = [i for i in all_ids if i.startswith(key)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            from .rules import near

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

    def load_errors(self, relpath: str) -> Opportunity | list[DataError]:
        """An opportunity file checked in full: the model, or every ``DataError`` it has."""
        from .model import Opportunity
        from .rules import problems

        try:
            data, node = self.read_yaml(relpath)
        except DataError as exc:
            return [exc]
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

    def load(self, opp_id: str) -> Opportunity:
        """One opportunity, fully checked; ``DataError`` naming file and line otherwise."""
        relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
        if not os.path.lexists(self.root / relpath):
            raise NotFound(f"no opportunity '{opp_id}'; list them with: opp list")
        result = self.load_errors(relpath)
        if isinstance(result, list):
            raise result[0]
        return result

    def detail(self, opp_id: str) -> dict:
        """``opp show --format json`` of one opportunity (``views.detail``), from the
        index when it knows the file (no YAML parsed, no pydantic), as ``load`` checks it."""
        from . import index

        if index.enabled():
            return index.working_detail(self, opp_id)
        from .views import detail

        return detail(self.load(opp_id), self.settings)

    def load_all(self) -> list:
        """Every opportunity; refuses (names the file) rather than skip an invalid one."""
        return [self.load(i) for i in self.ids()]

    # -------------------------------------------------------- records for reports

    def records(self) -> list:
        """Every opportunity as a plain ``records.Record``, for reports.

        Reports read these and never YAML. They come from the index (``index.py``,
        keyed by git blob id) unless ``OPP_NO_INDEX`` is set, and are the same either
        way. Refuses (names the file) rather than skip an invalid opportunity: totals
        must never silently miss data.
        """
        from . import index
        from .records import record

        if index.enabled():
            return index.working_records(self)

        settings = self.settings
        return [record(opp, settings) for opp in self.load_all()]

    def peek(self, opp_id: str, size: int = 4096) -> str:
        """The start of an opportunity file, unchecked: cheap look-ups (shell completion)."""
        data = journal.read_data_file(self.root, f"{OPPORTUNITIES_DIR}/{opp_id}.yaml",
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
                data = journal.read_data_file(self.root, f"{schemas.REPO_SCHEMA_DIR}/{name}",
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
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RepoError(f"another opp is still changing this repo after "
                                        f"{timeout:.0f} s; try again (OPP_LOCK_TIMEOUT "
                                        "sets the wait)") from None
                    time.sleep(0.02)
            with journal.holding(fh.fileno()):
                journal.recover(self)  # a change killed halfway is undone first
                yield
        finally:
            fh.close()

    @contextmanager
    def transaction(self, subject: str = "") -> Iterator[Transaction]:
        """Lock, let the caller stage writes, then write and commit them all or nothing."""
        with self.lock():
            refuse_during_merge(self.git_dir)
            journal.refuse_git_operation(self.git_dir)
            # a fresh look at the data now that we hold the lock
            for name in ("settings", "catalog", "_plain_settings"):
                self.__dict__.pop(name, None)
            tx = Transaction(self, subject)
            yield tx
            tx.commit()

    @contextmanager
    def change(self, ref: str, kind: str, action: str = "") -> Iterator[Transaction]:
        """A change to one opportunity: ``tx.opportunity`` is loaded under the lock.

        ``kind`` names the command (the ``Opp-Action`` trailer), ``action`` the change
        in words for the subject; the body may refine it once it knows the result.
        """
        with self.transaction() as tx:
            tx.kind = kind
            opp_id = self.resolve(ref)
            relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
            tx.refuse_hand_edits([relpath])
            try:
                before = self.load(opp_id)
            except DataError as exc:  # opp changes only what it can read: say how to mend it
                raise DataError(f"{exc.message}; opp changes only valid files: fix this one "
                                f"by hand (opp validate lists every problem) or undo the "
                                f"edit with git", exc.path, exc.line, exc.column) from None
            tx.opportunity = before
            tx.action = action
            yield tx
            if tx.opportunity is not None and tx.opportunity != before:
                tx.save_opportunity(tx.opportunity)
            if tx.writes:
                tx.subject = tx.subject or opportunity_subject(tx.opportunity, tx.action)
                tx.trailers.setdefault("Opp-Id", opp_id)


def opportunity_subject(opp: Opportunity, action: str) -> str:
    """The commit subject of a change: id, name, action (greppable, one line)."""
    name = one_line(opp.name, 40)
    return one_line(f"{opp.id} {name}: {action}")


@dataclass
class Transaction:
    """The files one change writes; committed together by ``Repo.transaction``."""

    repo: Repo
    subject: str = ""
    action: str = ""
    kind: str = ""
    opportunity: Any = None
    writes: dict[str, bytes | None] = field(default_factory=dict)
    trailers: dict[str, str] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None  # told of each 100 files written

    def refuse_hand_edits(self, relpaths: list[str]) -> None:
        """Never overwrite uncommitted edits: refuse when any of these files is dirty."""
        if not relpaths or self._unchanged_since_head(relpaths):
            return
        scope, wanted = list(relpaths), None
        if len(scope) > MANY_PATHS:  # keep the command line short: ask about their folders
            scope = sorted({p.rsplit("/", 1)[0] if "/" in p else p for p in relpaths})
            # porcelain paths start at the top of the work tree, which may be above us
            prefix = git(self.repo.root, "rev-parse", "--show-prefix").stdout.strip()
            wanted = {prefix + p for p in relpaths}
        out = git(self.repo.root, "status", "--porcelain", "--untracked-files=all", "--",
                  *scope).stdout
        dirty = [line[3:] for line in out.splitlines()
                 if line.strip() and (wanted is None or line[3:] in wanted)]
        if dirty:
            who = self.repo.identity  # with no git identity, git commit alone would fail
            commit = "git commit" if who.from_git else (
                f"git -c user.name={shlex.quote(who.name)} -c user.email="
                f"{shlex.quote(who.email)} commit")
            raise RepoError(f"{dirty[0]} has uncommitted changes; commit them "
                            f"({commit} {dirty[0]}) or discard them "
                            f"(git checkout -- {dirty[0]}) first")

    def _unchanged_since_head(self, relpaths: list[str]) -> bool:
        """The quick proof that these few files are clean, without ``git status`` (which
        refreshes the whole index: 0.08 s at 100,000 files): each one is a plain file
        (mode 100644 in HEAD and the index, no x bit on disk) whose bytes hash to the blob
        HEAD and the index name, or it is in none of the three. Anything else, however
        harmless, says "not proven", and ``git status`` gives the answer."""
        from .index import blob_id

        if len(relpaths) > 8:
            return False
        root = self.repo.root
        staged, head = git_reads(
            root, ("--literal-pathspecs", "ls-files", "-s", "-z", "--", *relpaths),
            ("--literal-pathspecs", "ls-tree", "-z", "HEAD", "--", *relpaths))
        if staged.returncode or head.returncode:
            return False  # no HEAD yet, or git unwell: ask git status
        found: dict[str, dict[str, str]] = {"index": {}, "HEAD": {}}
        for where, out in (("index", staged.stdout), ("HEAD", head.stdout)):
            for record in filter(None, out.split("\0")):
                meta, _, path = record.partition("\t")
                fields = meta.split()
                if path in found[where] or len(fields) != 3 or fields[0] != "100644" or \
                        (where == "index" and fields[2] != "0"):
                    return False  # a link, an executable, a folder, a conflict
                found[where][path] = fields[1] if where == "index" else fields[2]
        if not set(found["index"]) | set(found["HEAD"]) <= set(relpaths):
            return False  # a folder where a file should be
        for relpath in relpaths:
            try:
                info = os.lstat(root / relpath)
            except FileNotFoundError:
                work = None
            except OSError:
                return False
            else:
                if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o111 or \
                        info.st_size > 1 << 20:
                    return False
                try:  # never follows a link, never waits on a FIFO swapped in meanwhile
                    data = journal.read_data_file(root, relpath, 1 << 20, error=RepoError)
                except (RepoError, OSError):
                    return False
                work = None if data is None else blob_id(data)
            if not found["index"].get(relpath) == found["HEAD"].get(relpath) == work:
                return False
        return True

    def write(self, relpath: str, text: str | None) -> None:
        """Stage a file's new text (``None`` deletes it)."""
        self.writes[relpath] = None if text is None else text.encode("utf-8")

    def write_bytes(self, relpath: str, data: bytes) -> None:
        self.writes[relpath] = data

    def save_model(self, relpath: str, model: Any, header: str | None = None) -> None:
        """Stage a model as YAML; opp's files start with the line naming their JSON Schema."""
        from .schemas import header as schema_header

        self.write(relpath, dump_model(model, header or schema_header(relpath)))

    def save_opportunity(self, opp: Any) -> None:
        """Stage an opportunity after checking every rule against the settings."""
        from .errors import RuleError
        from .rules import problems

        found = problems(opp, self.repo.settings)
        if found:  # a rule function let something through: never store it
            raise RuleError(f"refusing to save {opp.id}: {found[0].message}")
        self.save_model(f"{OPPORTUNITIES_DIR}/{opp.id}.yaml", opp)

    def commit(self) -> None:
        """Write every staged file atomically and make one commit of exactly those files.

        All or nothing: a journal of the files as they were is written first
        (``journal.py``), so that a failure here, or opp killed at any point, leaves the
        files, the index and HEAD as they were before, or as they are after the commit.
        """
        root = self.repo.root
        journal.check_paths(root, self.writes)  # never a path outside the data repo

        def current(relpath: str) -> bytes | None:
            return journal.read_data_file(root, relpath, 1 << 62, error=RepoError)

        # a write that changes nothing is no change: it never makes a commit of its own
        self.writes = {p: d for p, d in self.writes.items() if d != current(p)}
        if not self.writes:
            return
        self.writes.update(self.repo.schema_refresh())
        journal.check_paths(root, self.writes)
        previous: dict[str, bytes | None] = {p: current(p) for p in self.writes}
        paths = list(self.writes)
        batch = len(paths) > MANY_PATHS
        message = one_line(self.subject or "opp: change") + "\n"
        trailers = {"Opp-Action": self.action_name(), **self.trailers}
        message += "\n" + "".join(f"{k}: {one_line(v, 200)}\n" for k, v in trailers.items())
        journal.begin(self.repo, previous, message)
        try:
            # only our files may go into the commit: is anything else staged already? When
            # not, a plain commit of the index does it: committing paths (--only) makes git
            # build a second index from HEAD, which costs more than all the rest in a repo
            # of 100,000 files (#9)
            alone = git(root, "diff", "--cached", "--quiet", check=False).returncode == 0
            for count, (relpath, data) in enumerate(self.writes.items(), 1):
                if data is None:
                    (root / relpath).unlink(missing_ok=True)
                    _prune_empty(root, (root / relpath).parent)
                else:
                    _atomic_write(root / relpath, data, fsync=not batch)
                if self.progress is not None and count % 100 == 0:
                    self.progress(100)
            if batch:
                os.sync()  # one sync for the whole batch instead of one fsync per file
                _stage_many(self.repo, self.writes)
            else:
                git(root, "update-index", "--add", "--remove", "-z", "--stdin",
                    input=_pathspec(paths), config=self.repo.quick_objects())
            tree = head = None
            if alone:
                # --missing-ok skips checking that each of the index's blobs exists (0.1 s
                # at 100,000 files): the changed ones were just written by update-index,
                # the others are HEAD's, which git checked when it was committed
                tree = git(root, "write-tree", "--missing-ok",
                           config=self.repo.quick_objects()).stdout.strip()
                head = journal.head(self.repo)
            if alone and head and tree == git(root, "rev-parse", head + "^{tree}").stdout.strip():
                pass  # the files are back as HEAD has them (a deletion undone): no commit
            elif tree is not None and self.repo.plain_commit():  # alone: tree is written
                self._plain_commit(message, tree, head)
            else:
                only = () if alone else _PATHSPEC_STDIN
                git(root, "commit", "-q", "--no-status", "-m", message, *only,
                    input=None if alone else _pathspec(paths), env=self.repo.identity.env())
        except BaseException as exc:
            error = journal.rollback(self.repo, exc)  # the files, index and HEAD as before
            if error is exc:
                raise
            raise error from None
        journal.end(self.repo)
        if not batch:  # the next report finds these files parsed already
            from . import index

            if index.enabled():
                index.remember(self.repo, {p: d for p, d in self.writes.items() if d})
        self._housekeeping()

    def _plain_commit(self, message: str, tree: str, head: str | None) -> None:
        """The commit ``git commit`` would make of the index (its ``tree``), by git's
        plumbing: in a repo of 100,000 files it saves git's refresh of every file's stat
        data. HEAD moves only from the commit it was at (compare and swap; from none on an
        unborn branch), as one more guard against a race."""
        import random

        root, env = self.repo.root, self.repo.identity.env()
        parents = ("-p", head) if head else ()
        sha = git(root, "commit-tree", tree, *parents, "-F", "-", input=message,
                  env=env).stdout.strip()
        subject = message.split("\n", 1)[0]
        # the reflog entry git commit would write, by the same person
        git(root, "update-ref", "-m", f"commit{'' if head else ' (initial)'}: {subject}",
            "HEAD", sha, head or "", env=env)
        if random.random() < 1 / 32:  # git commit's own housekeeping, now and then
            git(root, "maintenance", "run", "--auto", "--quiet", check=False)

    def _housekeeping(self) -> None:
        """Pack the loose objects now and then, by their size rather than their number
        (``pack_chance``), in the background as ``git gc --auto`` does: the change is
        committed already, and neither its exit status nor the lock waits for the pack.
        Never when the user turned git's automatic housekeeping off."""
        import random

        config = self.repo.git_config
        auto = _git_int(config.get("gc.auto", "6700"))
        if (auto is not None and auto <= 0) or \
                ("maintenance.auto" in config and not _git_true(config["maintenance.auto"])):
            return
        if random.random() >= pack_chance(_index_bytes(self.repo.git_dir)):
            return
        env = {k: v for k, v in os.environ.items() if k != journal.CHILD_ENV}
        # sh starts git and exits at once: nothing left to wait for, no lock passed on;
        # niced and on one thread, so that the next commands hardly feel it
        script = ('n=; command -v nice >/dev/null 2>&1 && n="nice -n 19"; '
                  "$n git -c pack.threads=1 repack -d -q -l </dev/null >/dev/null 2>&1 &")
        try:
            subprocess.run(["sh", "-c", script],
                           cwd=self.repo.root, env=dict(env, GIT_TERMINAL_PROMPT="0"),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            pass

    def action_name(self) -> str:
        """The ``Opp-Action`` trailer: the command's name, e.g. add-product."""
        word = self.kind or (self.action.split(" ", 1)[0] if self.action else "change")
        return re.sub(r"[^a-z0-9-]+", "-", word.lower()).strip("-") or "change"


# Every commit writes the tree of opportunities/ anew, as a loose object of about 30
# bytes per deal (level 1): 2.9 MB at 100,000 deals. git gc --auto waits for 6,700
# loose objects, some 1,700 changes and gigabytes at that size, so opp packs them by
# size too: once about LOOSE_BUDGET bytes have been written, on average (#9).
LOOSE_BUDGET = 64 << 20


def _index_bytes(git_dir: Path) -> int:
    """The size of the index, its shared part included (``core.splitIndex``: the
    biggest ``sharedindex.*``, older ones wait for their expiry)."""
    index = shared = 0
    try:
        with os.scandir(git_dir) as entries:
            for entry in entries:
                if entry.name == "index":
                    index = entry.stat(follow_symlinks=False).st_size
                elif entry.name.startswith("sharedindex."):
                    shared = max(shared, entry.stat(follow_symlinks=False).st_size)
    except OSError:
        pass
    return index + shared


def pack_chance(index_bytes: int) -> float:
    """The chance that a change packs the loose objects: the bytes it wrote (about 0.3 of
    the index's size, 96 bytes per file there) over ``LOOSE_BUDGET``. A repack takes
    ~1 s at 100,000 deals, once in ~22 changes; at 1,000 deals it is left to git gc."""
    return min(1.0, index_bytes * 3 / 10 / LOOSE_BUDGET)


# Paths reach git on stdin, NUL-separated, never as arguments: an import of many
# thousand files would exceed the system's argument-length limit.
MANY_PATHS = 100
_PATHSPEC_STDIN = ("--pathspec-from-file=-", "--pathspec-file-nul")


def _pathspec(paths: list[str]) -> str:
    return "".join(f"{p}\0" for p in paths)


def _stage_many(repo: Repo, writes: dict[str, bytes | None]) -> None:
    """Stage many files fast: the blobs go into one pack through ``git fast-import``
    instead of one loose object file each (file creation is what costs), the index
    gets their ids, then a refresh records the files' stat data. Used for batches
    (imports) only: it skips clean filters, which opp's own YAML files never need."""
    root = repo.root
    written = [(p, d) for p, d in writes.items() if d is not None]
    removed = [p for p, d in writes.items() if d is None]
    if written:
        marks = repo.git_dir / f"opp-marks.{os.getpid()}"
        try:
            git(root, "fast-import", "--quiet", f"--export-marks={marks}",
                input=b"".join(b"blob\nmark :%d\ndata %d\n%s\n" % (i, len(d), d)
                               for i, (_, d) in enumerate(written, 1)))
            ids = dict(line.split(" ", 1) for line in marks.read_text().splitlines())
        finally:
            marks.unlink(missing_ok=True)
        # --index-info takes paths from the top of the work tree, which may be above us
        prefix = git(root, "rev-parse", "--show-prefix").stdout.strip()
        git(root, "update-index", "-z", "--index-info",
            input="".join(f"100644 {ids[f':{i}']}\t{prefix}{p}\0"
                          for i, (p, _) in enumerate(written, 1)))
    if removed:
        git(root, "update-index", "--remove", "-z", "--stdin", input=_pathspec(removed))
    git(root, "update-index", "-q", "--refresh", check=False)


def dump_model(model: Any, header: str | None = None) -> str:
    """A model as stable YAML, fields in model order."""
    return yamlio.dump(model.model_dump(mode="python"), header)


# ---------------------------------------------------------------- creating a data repo


def init(path: Path, settings: Any = None, catalog: Any = None) -> Repo:
    """Create a data repo at ``path`` (``git init`` when it is not in a work tree); one commit."""
    from .model import Catalog, Settings

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
        tx.save_model(SETTINGS_FILE, settings or Settings())
        tx.save_model(CATALOG_FILE, catalog or Catalog())
        existing = (journal.read_data_file(repo.root, ".gitattributes", 1 << 20, error=RepoError)
                    or b"").decode("utf-8", "replace")
        if "merge=opp" not in existing:
            glue = "" if not existing or existing.endswith("\n") else "\n"
            tx.write(".gitattributes", existing + glue + GITATTRIBUTES)
        tx.commit()
    ensure_merge_driver(repo.root)
    return repo


# ---------------------------------------------------------------- reading git objects


def git_raw(root: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in ``root`` and return its raw stdout (bytes); ``RepoError`` when it fails.

    For output that may hold any bytes (blobs, ``-z`` lists); ``git()`` is for text.
    """
    argv, env, fds = _git_command(args, None, None)
    try:
        proc = subprocess.run(argv, cwd=root, input=input, capture_output=True, env=env,
                              pass_fds=fds)
    except FileNotFoundError:
        raise RepoError(NO_GIT) from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace")
        if any(w in message for w in ("does not have any commits", "unknown revision",
                                      "bad revision 'HEAD'")):
            raise RepoError("the data repo has no commits yet, so it has no history to read")
        raise RepoError(f"git {args[0]} failed: {one_line(message, 300)}")
    return proc.stdout


def read_blobs(root: Path, names: list[str]) -> dict[str, bytes | None]:
    """The bytes of many git objects (blob ids or ``rev:path``) from one ``git cat-file``;
    ``None`` for a name git does not have."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    out = git_raw(root, "cat-file", "--batch", input="".join(f"{n}\n" for n in wanted).encode())
    pos = 0
    found: dict[str, bytes | None] = {}
    for name in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            found[name] = None
            continue
        size = int(header[2])
        found[name] = out[pos:pos + size] if header[1] == b"blob" else None
        pos += size + 1
    return found


# ---------------------------------------------------------------- attachments


def read_regular_file(path: str | Path, check_size: Callable[[int], None] | None = None
                      ) -> bytes:
    """The bytes of a regular file (a symlink is followed: its content is what is read).

    Folders, devices, FIFOs, sockets and missing paths are refused with a message
    naming what the path is. The file is opened without blocking (a FIFO never
    hangs) and checked on the open descriptor, so it cannot be swapped in between.
    ``check_size(size)`` may refuse by raising, before anything is read.
    """
    shown = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        dangling = os.path.islink(path)
        raise NotFound(f"{shown}: " + ("a symlink to a missing file" if dangling else
                                      "no such file")) from None
    except IsADirectoryError:
        raise RuleError(f"{shown} is a folder; attach files one by one "
                        "(or an archive of the folder)") from None
    except PermissionError:
        raise RuleError(f"{shown}: permission denied; opp cannot read it") from None
    except OSError as exc:
        try:  # a socket cannot even be opened: say what it is
            socket = stat.S_ISSOCK(os.stat(path).st_mode)
        except OSError:
            socket = False
        if socket:
            raise RuleError(f"{shown} is a socket; only regular files can be attached") from None
        raise RuleError(f"{shown}: cannot open it ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a folder" if stat.S_ISDIR(info.st_mode) else
                    "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else
                    "a character device" if stat.S_ISCHR(info.st_mode) else
                    "a block device" if stat.S_ISBLK(info.st_mode) else
                    "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            hint = ("attach files one by one (or an archive of the folder)"
                    if stat.S_ISDIR(info.st_mode) else "only regular files can be attached")
            raise RuleError(f"{shown} is {kind}; {hint}")
        if check_size is not None:
            check_size(info.st_size)
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as exc:
        raise RuleError(f"{shown}: cannot read it ({exc.strerror})") from None
    finally:
        os.close(fd)


def files_in(repo: Repo, relfolder: str) -> set[str]:
    """The paths (relative to the repo) of the entries of a folder; empty when it is missing."""
    try:
        return {f"{relfolder}/{name}" for name in os.listdir(repo.root / relfolder)}
    except (FileNotFoundError, NotADirectoryError):
        return set()


# ---------------------------------------------------------------- undo


@dataclass(frozen=True)
class Undone:
    """What ``undo_last`` reverted: the commit, its subject, and the new commit's subject."""

    commit: str
    subject: str
    revert_subject: str


def _undo_subject(subject: str, prefixes: list[str]) -> str:
    """``<id> <name>: undo <action>`` (``undo: <subject>`` for other commits); undoing an
    undo says redo, and back. ``prefixes`` are the ``<id> <name>: `` the subject may carry."""
    prefix = next((p for p in prefixes if subject.startswith(p)), "")
    action = subject[len(prefix):]
    for word, other in (("undo ", "redo "), ("redo ", "undo "), ("undo: ", "redo: "),
                        ("redo: ", "undo: ")):
        if action.startswith(word):
            return one_line(prefix + other + action[len(word):])
    return one_line(f"{prefix}undo {action}" if prefix else f"undo: {subject}")


def _name_in(data: bytes | None) -> str:
    """The ``name`` of an opportunity file's bytes, or '' when it has none."""
    if not data:
        return ""
    try:
        loaded, _ = yamlio.load(data, "")
    except DataError:
        return ""
    name = loaded.get("name")
    return name if isinstance(name, str) else ""


def undo_last(repo: Repo) -> Undone:
    """Revert the last commit when opp made it: one new commit restoring, byte for byte,
    every file it touched as it was before (the last commit reverts cleanly by
    construction). Refuses a commit without an ``Opp-Action`` trailer, a merge, the
    creation of the repo, and files with uncommitted changes. Undoing an undo re-applies.
    """
    with repo.transaction() as tx:
        root = repo.root
        head = git(root, "log", "-1", "--format=%H%x1f%P%x1f%s%x1f"
                   "%(trailers:key=Opp-Action,valueonly,separator=%x2C)%x1f"
                   "%(trailers:key=Opp-Id,valueonly,separator=%x2C)", "HEAD", check=False)
        if head.returncode != 0:
            raise RepoError("nothing to undo: the data repo has no commits yet")
        sha, parents, subject, action, opp_id = head.stdout.rstrip("\n").split("\x1f")
        short = sha[:8]
        if len(parents.split()) > 1:
            raise RepoError(f"the last commit {short} is a merge; undo does not revert merges; "
                            f"use git if you mean to: git revert -m 1 {short}")
        if not action.strip():
            raise RepoError(f"the last commit {short} \"{one_line(subject, 60)}\" was not made "
                            "by opp (no Opp-Action trailer); undo only reverts opp's own last "
                            f"change; revert it with git if you mean to: git revert {short}")
        if not parents.strip() or action.strip() == "init":
            raise RepoError("nothing to undo: the last commit created the data repo")
        raw = git(root, "diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev",
                  "--relative", f"{sha}^", sha).stdout.split("\0")
        entries = []  # (path, blob before, blob after); None where the file is absent
        for meta, path in zip(raw[0::2], raw[1::2], strict=False):
            old_mode, new_mode, old_blob, new_blob, _status = meta.lstrip(":").split(" ")
            # a file opp writes keeps its mode, so an executable one changed in place is
            # restored exactly too; anything else (links, a mode changed) is git's job
            if {old_mode, new_mode} - {"000000", "100644"} and \
                    not old_mode == new_mode == "100755":
                raise RepoError(f"the last commit {short} changed {path} in a way undo cannot "
                                f"restore exactly (mode {old_mode} -> {new_mode}); use git: "
                                f"git revert {short}")
            entries.append((path, None if old_mode == "000000" else old_blob,
                            None if new_mode == "000000" else new_blob))
        if not entries:
            raise RepoError(f"the last commit {short} changed no file of this data repo; "
                            "nothing to undo")
        tx.refuse_hand_edits([path for path, _, _ in entries])
        opp_id = opp_id.strip()
        opp_file = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
        blobs = read_blobs(root, [blob for path, old, new in entries
                                  for blob in (old, new if path == opp_file else None) if blob])
        prefixes = []
        for path, old, new in entries:
            data = None if old is None else blobs[old]
            if old is None:
                tx.write(path, None)
            elif data is None:
                raise RepoError(f"git does not have {path} as it was before {short}; "
                                "cannot undo")
            else:
                tx.write_bytes(path, data)
            if path == opp_file:  # the subject names the opportunity as it was then
                for blob in (new, old):
                    name = _name_in(blobs.get(blob)) if blob else ""
                    if name:
                        prefixes.append(f"{opp_id} {one_line(name, 40)}: ")
        tx.kind = "undo"
        tx.subject = _undo_subject(subject, prefixes)
        tx.trailers["Opp-Reverts"] = sha
        if opp_id:
            tx.trailers["Opp-Id"] = opp_id
    return Undone(sha, subject, tx.subject)

# ---------------------------------------------------------------- team sync (#8): merge driver
# git clones files but not config: .gitattributes (committed by init) names the driver,
# and every opp command installs its definition into the clone's config when missing.

GITATTRIBUTES = """\
# opp merges its files field by field and item by item (see README, Team sync)
opportunities/*.yaml merge=opp
catalog.yaml merge=opp
opp.yaml merge=opp
"""

INDEX_LOCK_HELP = ("git's lock .git/index.lock exists: another git command is running here, or "
                   "one was killed and left it behind; if no git is running, remove it "
                   "(rm .git/index.lock) and try again")


def merge_driver_command() -> str:
    """The driver command for git: this very Python running opp, whatever the PATH."""
    python = shlex.quote(sys.executable) if sys.executable else "python3"
    return f"{python} -m oppcli merge-driver %O %A %B %P"


def _git_config_path(root: Path) -> Path | None:
    """The config file of the git repo holding ``root``, found without running git."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / "config"
        if dot_git.is_file():  # a linked worktree or submodule: "gitdir: PATH"
            try:
                text = dot_git.read_text().strip()
                gitdir = (folder / text.split(":", 1)[1].strip()).resolve()
                common = gitdir / "commondir"
                if common.is_file():
                    gitdir = (gitdir / common.read_text().strip()).resolve()
            except (OSError, IndexError):
                return None
            return gitdir / "config"
    return None


def ensure_merge_driver(root: Path) -> None:
    """Define opp's merge driver in the repo's git config unless it already is.

    Cheap when installed: one small file read, no git process. Concurrent opp
    processes may race to write it; git's own config lock keeps the file whole,
    and a process that loses the race leaves it to the winner.
    """
    config = _git_config_path(root)
    if config is None:
        return
    command = merge_driver_command()
    try:
        text = config.read_text(errors="replace")
    except OSError:
        return
    if f"driver = {command}\n" in text:
        return
    # another Python that runs opp's driver (python vs python3, another venv) is as good
    # while it exists: rewriting the config on every command from another one costs a write
    for line in text.splitlines():
        if line.strip().startswith("driver = ") and line.rstrip().endswith(
                "-m oppcli merge-driver %O %A %B %P"):
            try:
                python = shlex.split(line.strip()[len("driver = "):])[0]
            except (ValueError, IndexError):
                break
            if os.access(python, os.X_OK):
                return
            break
    git(root, "config", "merge.opp.name", "opp: merge opportunities, catalog and settings "
        "field by field", check=False)
    git(root, "config", "merge.opp.driver", command, check=False)


def refuse_during_merge(git_dir: Path) -> None:
    """No opp change while a merge waits for its conflicts to be settled."""
    if (git_dir / "MERGE_HEAD").exists():
        raise RepoError("a merge is in progress (opp sync or git pull stopped on a conflict); "
                        "list what is left with 'opp conflicts', settle it with "
                        "'opp resolve ID FIELD --ours|--theirs', then run opp sync")

def upgrade(repo: Repo) -> list[str]:
    """Bring a data repo's files up to this opp: its JSON Schema copies, and the schema
    line at the top of opp.yaml, catalog.yaml and every opportunity (the rest of each
    file is left as it is). One commit, or none when all are current; the paths written."""
    from . import __version__
    from .schemas import with_header

    with repo.transaction() as tx:
        tx.kind = "upgrade"
        tx.subject = f"upgrade: JSON Schemas and file headers of opp {__version__}"
        changed = {}
        for relpath in [SETTINGS_FILE, CATALOG_FILE,
                        *(f"{OPPORTUNITIES_DIR}/{i}.yaml" for i in repo.ids())]:
            data = journal.read_data_file(repo.root, relpath, yamlio.MAX_FILE_BYTES)
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
        tx.writes.update(repo.schema_refresh(force=True))
    return list(tx.writes)
