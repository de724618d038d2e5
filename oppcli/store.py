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
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator, Optional

from . import yamlio
from .errors import DataError, NotFound, RepoError, UsageError

SETTINGS_FILE = "opp.yaml"
CATALOG_FILE = "catalog.yaml"
OPPORTUNITIES_DIR = "opportunities"
DOCUMENTS_DIR = "documents"
LOCK_TIMEOUT = float(os.environ.get("OPP_LOCK_TIMEOUT", "60"))
SUBJECT_MAX = 120


def today() -> date:
    """Today's date; ``OPP_TODAY`` (YYYY-MM-DD) overrides it for demos and tests."""
    forced = os.environ.get("OPP_TODAY")
    return date.fromisoformat(forced) if forced else date.today()


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


def git(root: Path, *args: str, input: Optional[str] = None, env: Optional[dict] = None,
        check: bool = True) -> GitResult:
    """Run git in ``root``; ``RepoError`` with git's own words when it fails and ``check``."""
    full_env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    if env:
        full_env.update(env)
    try:
        proc = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=root,
                              input=input, capture_output=True, text=True, env=full_env)
    except FileNotFoundError:
        raise RepoError("git is not installed or not on PATH; opp keeps its history in git, "
                        "install it first") from None
    result = GitResult(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        message = one_line(proc.stderr or proc.stdout, 300) or f"exit status {proc.returncode}"
        raise RepoError(f"git {args[0]} failed: {message}")
    return result


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


def identity(root: Path) -> Identity:
    """Who is making changes: the git identity, else ``OPP_USER``, else the OS user."""
    result = git(root, "config", "--get-regexp", r"^user\.(name|email)$", check=False)
    values = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
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
    login = re.sub(r"[^A-Za-z0-9._-]+", ".", fallback).strip(".") or "user"
    return Identity(fallback, email or f"{login}@opp.invalid", False)


# ---------------------------------------------------------------- the repo


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Repo:
    """A data repo: a folder with ``opp.yaml`` inside a git work tree."""

    def __init__(self, root: Path):
        self.root = Path(root)

    # -------------------------------------------------------- finding

    @classmethod
    def find(cls, explicit: Optional[str] = None) -> "Repo":
        """``--repo``/``OPP_REPO`` when given, else the nearest folder up with ``opp.yaml``."""
        if explicit:
            root = Path(explicit).expanduser()
            if not (root / SETTINGS_FILE).is_file():
                raise RepoError(f"{root} is not an opp data repo (no {SETTINGS_FILE}); "
                                f"create one with: opp init {root}")
            return cls(root.resolve())
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if (folder / SETTINGS_FILE).is_file():
                return cls(folder)
        raise RepoError(f"not inside an opp data repo (no {SETTINGS_FILE} here or above); "
                        "create one with 'opp init DIR', or point at one with --repo DIR "
                        "or OPP_REPO")

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
        return identity(self.root)

    # -------------------------------------------------------- reading

    def path_of(self, opp_id: str) -> Path:
        return self.root / OPPORTUNITIES_DIR / f"{opp_id}.yaml"

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read_yaml(self, relpath: str, *, required: bool = True) -> tuple[Any, Any]:
        path = self.root / relpath
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            if required:
                raise DataError("file is missing", relpath) from None
            return None, None
        except OSError as exc:
            raise DataError(f"cannot read: {exc.strerror}", relpath) from None
        return yamlio.load(data, relpath)

    def parse_model(self, model: type, relpath: str, data: Any, node: Any):
        """Validate ``data`` with ``model``; the first failure as a ``DataError`` at its line."""
        errors = self.model_errors(model, relpath, data, node)
        if isinstance(errors, list):
            raise errors[0]
        return errors

    @staticmethod
    def model_errors(model: type, relpath: str, data: Any, node: Any):
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
    def settings(self):
        from .model import Settings

        data, node = self.read_yaml(SETTINGS_FILE)
        return self.parse_model(Settings, SETTINGS_FILE, data, node)

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

    def resolve(self, ref: str) -> str:
        """The id an id or unique prefix names; refuses unknown and ambiguous ones."""
        key = ref.strip().casefold()
        if not key:
            raise UsageError("the opportunity id is empty")
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

    def load_errors(self, relpath: str):
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

    def load(self, opp_id: str):
        """One opportunity, fully checked; ``DataError`` naming file and line otherwise."""
        relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
        if not (self.root / relpath).exists():
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
        with open(self.path_of(opp_id), "rb") as fh:
            return fh.read(size).decode("utf-8", errors="replace")

    # -------------------------------------------------------- JSON Schemas (editors)

    def schema_refresh(self, force: bool = False) -> dict[str, bytes]:
        """The repo's copies of opp's JSON Schemas (.opp/schemas/) to write, by path: those
        that differ from this opp's, when one is missing or older (always with ``force``)."""
        from . import schemas

        have = {}
        for name in schemas.SCHEMA_FILES:
            try:
                have[name] = (self.root / schemas.REPO_SCHEMA_DIR / name).read_text("utf-8")
            except (OSError, UnicodeDecodeError):
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
        fh = open(path, "a+")
        try:
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise RepoError(f"another opp is still changing this repo after "
                                        f"{LOCK_TIMEOUT:.0f} s; try again (OPP_LOCK_TIMEOUT "
                                        "sets the wait)") from None
                    time.sleep(0.02)
            yield
        finally:
            fh.close()

    @contextmanager
    def transaction(self, subject: str = "") -> Iterator["Transaction"]:
        """Lock, let the caller stage writes, then write and commit them all or nothing."""
        with self.lock():
            # a fresh look at the data now that we hold the lock
            for name in ("settings", "catalog"):
                self.__dict__.pop(name, None)
            tx = Transaction(self, subject)
            yield tx
            tx.commit()

    @contextmanager
    def change(self, ref: str, kind: str, action: str = "") -> Iterator["Transaction"]:
        """A change to one opportunity: ``tx.opportunity`` is loaded under the lock.

        ``kind`` names the command (the ``Opp-Action`` trailer), ``action`` the change
        in words for the subject; the body may refine it once it knows the result.
        """
        with self.transaction() as tx:
            tx.kind = kind
            opp_id = self.resolve(ref)
            relpath = f"{OPPORTUNITIES_DIR}/{opp_id}.yaml"
            tx.refuse_hand_edits([relpath])
            before = self.load(opp_id)
            tx.opportunity = before
            tx.action = action
            yield tx
            if tx.opportunity is not None and tx.opportunity != before:
                tx.save_opportunity(tx.opportunity)
            if tx.writes:
                tx.subject = tx.subject or opportunity_subject(tx.opportunity, tx.action)
                tx.trailers.setdefault("Opp-Id", opp_id)


def opportunity_subject(opp, action: str) -> str:
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
    writes: dict[str, Optional[bytes]] = field(default_factory=dict)
    trailers: dict[str, str] = field(default_factory=dict)

    def refuse_hand_edits(self, relpaths: list[str]) -> None:
        """Never overwrite uncommitted edits: refuse when any of these files is dirty."""
        out = git(self.repo.root, "status", "--porcelain", "--untracked-files=all", "--",
                  *relpaths).stdout
        dirty = [line[3:] for line in out.splitlines() if line.strip()]
        if dirty:
            raise RepoError(f"{dirty[0]} has uncommitted changes; commit them "
                            f"(git commit {dirty[0]}) or discard them "
                            f"(git checkout -- {dirty[0]}) first")

    def write(self, relpath: str, text: Optional[str]) -> None:
        """Stage a file's new text (``None`` deletes it)."""
        self.writes[relpath] = None if text is None else text.encode("utf-8")

    def write_bytes(self, relpath: str, data: bytes) -> None:
        self.writes[relpath] = data

    def save_model(self, relpath: str, model: Any, header: Optional[str] = None) -> None:
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
        """Write every staged file atomically and make one commit of exactly those files."""
        if not self.writes:
            return
        self.writes.update(self.repo.schema_refresh())
        root = self.repo.root
        previous: dict[str, Optional[bytes]] = {}
        for relpath in self.writes:
            try:
                previous[relpath] = (root / relpath).read_bytes()
            except FileNotFoundError:
                previous[relpath] = None
        paths = list(self.writes)
        try:
            for relpath, data in self.writes.items():
                if data is None:
                    (root / relpath).unlink(missing_ok=True)
                else:
                    _atomic_write(root / relpath, data)
            git(root, "add", "-A", "--", *paths)
            message = one_line(self.subject or "opp: change") + "\n"
            trailers = {"Opp-Action": self.action_name(), **self.trailers}
            message += "\n" + "".join(f"{k}: {one_line(v, 200)}\n" for k, v in trailers.items())
            git(root, "commit", "-q", "--no-status", "-F", "-", "--", *paths, input=message,
                env=self.repo.identity.env())
        except BaseException:
            self._restore(previous)
            raise

    def action_name(self) -> str:
        """The ``Opp-Action`` trailer: the command's name, e.g. add-product."""
        word = self.kind or (self.action.split(" ", 1)[0] if self.action else "change")
        return re.sub(r"[^a-z0-9-]+", "-", word.lower()).strip("-") or "change"

    def _restore(self, previous: dict[str, Optional[bytes]]) -> None:
        root = self.repo.root
        for relpath, data in previous.items():
            try:
                if data is None:
                    (root / relpath).unlink(missing_ok=True)
                else:
                    _atomic_write(root / relpath, data)
            except OSError:
                pass
        # unstage what 'git add' may have staged; a repo without commits has nothing to reset
        if git(root, "rev-parse", "-q", "--verify", "HEAD", check=False).returncode == 0:
            git(root, "reset", "-q", "--", *previous, check=False)
        else:
            git(root, "rm", "-q", "--cached", "--ignore-unmatch", "--", *previous, check=False)


def dump_model(model: Any, header: Optional[str] = None) -> str:
    """A model as stable YAML, fields in model order."""
    return yamlio.dump(model.model_dump(mode="python"), header)


# ---------------------------------------------------------------- creating a data repo


def init(path: Path, settings: Any = None, catalog: Any = None) -> Repo:
    """Create a data repo at ``path`` (``git init`` when it is not in a work tree); one commit."""
    from .model import Catalog, Settings

    path = Path(path).expanduser()
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
        tx = Transaction(repo, "init: opp data repo", kind="init")
        tx.save_model(SETTINGS_FILE, settings or Settings())
        tx.save_model(CATALOG_FILE, catalog or Catalog())
        tx.commit()
    return repo


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
            try:
                text = (repo.root / relpath).read_text("utf-8")
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as exc:
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
