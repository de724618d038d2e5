"""git, the only subprocess opp runs: one runner for text and one for bytes, reads
run side by side, the identity changes are made as, and the few settings of git's
config opp acts on.

While this process holds the repo lock, every git it starts inherits the lock's
descriptor (``holding``/``for_git``): the kernel keeps the lock until the last of
them exits, so a killed opp never lets another change start under its gits.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import subprocess
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import RepoError
from .locking import INHERITED

SUBJECT_MAX = 120


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """User text made safe for a commit subject: one line, no control characters."""
    text = re.sub(r"[\x00-\x1f\x7f\s]+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class GitResult:
    returncode: int
    stdout: str
    stderr: str


NO_GIT = "git is not installed or not on PATH; opp keeps its history in git, install it first"


CHILD_ENV = "OPP_CHANGE_PID"  # set for the gits (and their hooks) a change runs


# Descriptors of the repo locks this process holds: every git started meanwhile
# inherits them, so the lock outlives a killed opp until its gits are done too.
_held: list[int] = []


@contextmanager
def holding(fd: int) -> Iterator[None]:
    """While the repo lock ``fd`` is held: gits started inherit it (``for_git``)."""
    _held.append(fd)
    try:
        yield
    finally:
        _held.remove(fd)


def for_git(args: tuple[str, ...]) -> tuple[list[str], tuple[int, ...], dict[str, str]]:
    """What a git process gets while this process holds a repo lock: options, the lock
    descriptors to inherit, and environment. Network commands inherit nothing (an ssh
    they start may linger); gc and maintenance stay in the foreground, so that none
    detaches with the lock."""
    if not _held or (args and args[0] in ("fetch", "push", "pull", "clone", "ls-remote")):
        return [], (), {}
    return (["-c", "gc.autoDetach=false", "-c", "maintenance.autoDetach=false"],
            tuple(_held) if INHERITED else (), {CHILD_ENV: str(os.getpid())})


def _git_command(args: tuple[str, ...], env: dict | None,
                 config: dict[str, str] | None) -> tuple[list[str], dict, tuple[int, ...]]:
    """The command line, environment and inherited descriptors of one git process."""
    options, fds, heir_env = for_git(args)  # a change's gits inherit its lock
    for key, value in (config or {}).items():
        options = [*options, "-c", f"{key}={value}"]
    # no optional locks: a read (git status) never takes index.lock, so that opp killed
    # outside a change's journal leaves no stale lock behind
    full_env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_OPTIONAL_LOCKS="0",
                    **heir_env)
    if env:
        full_env.update(env)
    return ["git", *options, "-c", "core.quotepath=off", *args], full_env, fds


class Started:
    """Git reads started now (each a small output; none checked), their answers
    collected later (``results``): git runs while opp goes on."""

    def __init__(self, root: Path, *commands: tuple[str, ...]):
        self.procs: list[subprocess.Popen] = []
        self.missing = False
        self.answers: list[GitResult] | None = None
        for args in commands:
            argv, full_env, fds = _git_command(args, None, None)
            try:
                self.procs.append(subprocess.Popen(
                    argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL, encoding="utf-8", errors="replace",
                    env=full_env, pass_fds=fds))
            except FileNotFoundError:
                self.missing = True
                break

    def results(self) -> list[GitResult]:
        """Every answer, once each process is done (every one started is waited for)."""
        if self.answers is None:
            self.answers = []
            for proc in self.procs:
                out, err = proc.communicate()
                self.answers.append(GitResult(proc.returncode, out, err))
        if self.missing:
            raise RepoError(NO_GIT)
        return self.answers


def git_reads(root: Path, *commands: tuple[str, ...]) -> list[GitResult]:
    """Several git reads run side by side: at 100,000 files each one reads the whole
    index or tree, so two cost the time of one."""
    return Started(root, *commands).results()


def git(root: Path, *args: str, input: str | bytes | None = None,
        env: dict | None = None, check: bool = True,
        config: dict[str, str] | None = None) -> GitResult:
    """Run git in ``root`` (``config``: ``-c`` settings for this command); ``RepoError``
    with git's own words when it fails and ``check``."""
    argv, full_env, fds = _git_command(args, env, config)
    # git's output may hold any bytes (an author name, a message, a path in Latin-1):
    # read as bytes and decoded with replacement, never an internal error
    data = input.encode("utf-8", "surrogateescape") if isinstance(input, str) else input
    try:
        proc = subprocess.run(argv, cwd=root, input=data, capture_output=True,
                              env=full_env, pass_fds=fds)
    except FileNotFoundError:
        raise RepoError(NO_GIT) from None
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    result = GitResult(proc.returncode, out, err)
    if check and proc.returncode != 0 and "index.lock': File exists" in err:
        raise RepoError(INDEX_LOCK_HELP)
    if check and proc.returncode != 0:
        status = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                  else f"exit status {proc.returncode}")
        message = one_line(err or out, 300) or status
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


# the git command ``git_config`` runs (``git_reads`` may run it beside others)
CONFIG_READ = ("config", "--get-regexp",
               r"^(user\.(name|email)|commit\.gpgsign|hook\..*\.event|"
               r"core\.(loose)?compression|gc\.auto|maintenance\.auto)$")


def git_config(root: Path, result: GitResult | None = None) -> dict[str, str]:
    """The few git settings opp acts on, read by one git process: the identity, whether
    commits are to be signed or hooks run from the config (then only ``git commit`` makes
    them), whether the user chose how hard git compresses, and whether git's automatic
    housekeeping is on (``gc.auto``, ``maintenance.auto``). ``result``: what
    ``CONFIG_READ`` printed, when it was run already."""
    if result is None:
        result = git(root, *CONFIG_READ, check=False)
    values: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        value = value or "true"  # a key without a value (`[commit] gpgsign`) is true to git
        # hooks set in the config (git 2.54+) may share a key: keep every event; any other
        # key set at several levels (global, then the repo's) is worth its last value
        values[key] = f"{values[key]}\n{value}" if key in values and key.startswith(
            "hook.") else value
    return values


def git_int(value: str) -> int | None:
    """An integer of git's config (``10k`` is 10240), None when it is not one."""
    value = value.strip().lower()
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(value[-1:], 1)
    try:
        return int(value[:-1] if scale > 1 else value) * scale
    except ValueError:
        return None


def git_true(value: str) -> bool:
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


_OBJECT_ID = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")


def head_commit(git_dir: Path) -> str | None:
    """The commit HEAD names, read from git's own files without starting git (a
    report's git process is most of its cost when nothing else has to run): HEAD, then
    the loose ref it names, else ``packed-refs``. None whenever that is not plain (a
    linked work tree, reftable, a ref naming a ref, no commit yet): ask git then."""
    try:
        if (git_dir / "commondir").exists():
            return None
        # bytes decoded, not read_text(encoding="ascii"): a text file looks its codec
        # up, importing encodings.ascii (1 to 2 ms of a report); bytes.decode does not
        head = (git_dir / "HEAD").read_bytes().decode("ascii").strip()
        if _OBJECT_ID.fullmatch(head):
            return head  # detached
        ref = head.removeprefix("ref: ").strip()
        if ref == head or not ref.startswith("refs/") or ".." in ref:
            return None
        loose = git_dir / ref
        if loose.is_file():
            value = loose.read_bytes().decode("ascii").strip()
            return value if _OBJECT_ID.fullmatch(value) else None
        packed = git_dir / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                value, _, name = line.partition(" ")
                if name == ref and _OBJECT_ID.fullmatch(value):
                    return value
    except (OSError, UnicodeDecodeError):
        pass
    return None


def loose_parents(git_dir: Path, commit: str) -> list[str] | None:
    """The parents of a commit stored loose (as a change just wrote it), read from its
    object file without starting git; None when it is not plain (packed, a linked work
    tree, not a commit, damaged) or when git would see other parents than the object
    holds (a shallow clone's boundary, grafts, replace refs): ask git then."""
    if not _OBJECT_ID.fullmatch(commit) or _rewritten_parents(git_dir):
        return None
    inflate = zlib.decompressobj()
    try:
        data = inflate.decompress(
            (git_dir / "objects" / commit[:2] / commit[2:]).read_bytes(), 1 << 16)
    except (OSError, zlib.error):
        return None
    if inflate.unconsumed_tail or hashlib.sha1(data).hexdigest() != commit:
        return None  # (too long, cut short, or not this commit: the whole object vouches)
    head, _, body = data.partition(b"\0")
    if not head.startswith(b"commit "):
        return None
    parents = []
    for line in body.split(b"\n")[1:]:  # after its tree
        if not line.startswith(b"parent "):
            break
        parents.append(line[7:].decode("ascii", "replace"))
    return parents


_VIEW_VARIABLES = ("GIT_GRAFT_FILE", "GIT_REPLACE_REF_BASE", "GIT_NO_REPLACE_OBJECTS",
                   "GIT_SHALLOW_FILE")  # they change the parents git sees


def _rewritten_parents(git_dir: Path) -> bool:
    """Whether git may see a commit's parents otherwise than its object holds them, or
    this is no plain git folder (a linked work tree, reftable): then only git can tell."""
    if any(name in os.environ for name in _VIEW_VARIABLES):
        return True
    if any((git_dir / name).exists() for name in ("commondir", "shallow", "info/grafts",
                                                  "reftable")):
        return True
    try:
        if any((git_dir / "refs" / "replace").iterdir()):
            return True
    except FileNotFoundError:
        pass
    except OSError:
        return True
    try:
        return b" refs/replace/" in (git_dir / "packed-refs").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True


def history_view(git_dir: Path) -> str:
    """What, besides a commit's id, decides the history git shows of it: "" in a plain
    repo; else a digest of the shallow boundary, the grafts, the replace refs and the
    variables that change them, so that days read under one view are never taken for
    another's (a shallow clone deepened, a graft added); where this cannot look
    (reftable), a value never the same twice."""
    common = git_dir
    try:
        common = git_dir / (git_dir / "commondir").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError):
        return os.urandom(8).hex()
    if not _rewritten_parents(common):
        return ""
    if (common / "reftable").exists():
        return os.urandom(8).hex()
    digest = hashlib.sha1()
    for name in _VIEW_VARIABLES:
        digest.update(f"{name}={os.environ.get(name)}\0".encode("utf-8", "surrogateescape"))
    files = [common / "shallow", common / "info" / "grafts", common / "packed-refs"]
    if os.environ.get("GIT_GRAFT_FILE"):
        files.append(Path(os.environ["GIT_GRAFT_FILE"]))
    replace = common / "refs" / "replace"
    if replace.is_dir():
        files += sorted(p for p in replace.rglob("*") if p.is_file())
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b"-"
        except OSError:
            return os.urandom(8).hex()
        if path.name == "packed-refs" and path.parent == common:  # its replace refs only
            data = b"\n".join(line for line in data.splitlines() if b" refs/replace/" in line)
        digest.update(b"%s\0%s\0" % (str(path).encode("utf-8", "surrogateescape"), data))
    return digest.hexdigest()


INDEX_LOCK_HELP = ("git's lock .git/index.lock exists: another git command is running here, or "
                   "one was killed and left it behind; if no git is running, remove it "
                   "(rm .git/index.lock) and try again")


def blob_id(data: bytes) -> str:
    """The id git gives these bytes as a blob (SHA-1 object format)."""
    return hashlib.sha1(b"blob %d\0%s" % (len(data), data)).hexdigest()
