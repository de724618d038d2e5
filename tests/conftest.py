"""Shared fixtures: a hermetic environment, a fresh data repo, and ``opp(...)``.

Every test runs with no git identity (HOME is a temporary folder), as CI does.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from oppcli.cli import cli

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATASET_NAME = "crm-sales-opportunities"


def dataset_candidates() -> list[Path]:
    """Where the public CRM data set may be: $OPP_DATASET_DIR, next to the project,
    or the team's shared folder."""
    out = []
    if os.environ.get("OPP_DATASET_DIR"):
        out.append(Path(os.environ["OPP_DATASET_DIR"]))
    out += [PROJECT_ROOT.parent / "shared" / "data" / DATASET_NAME,
            Path("/work/shared/data") / DATASET_NAME]
    return out


def unfaked(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment (``os.environ`` by default) for a process a test SIGKILLs, without
    libfaketime. Under Debian's faketime wrapper (make test-clocks) every process shares
    one semaphore (FAKETIME_SHARED), which libfaketime takes on its clock calls: a process
    killed while it holds it leaves it taken, and every process started afterwards waits
    forever (a +3000d run hung so, 2026-12-03). Dropping only FAKETIME_SHARED does not
    do: libfaketime then makes a semaphore of its own per process and never removes it
    (thousands per run in /dev/shm, whose names the wrapper's next run collides with).
    Without libfaketime at all, the killed process and its gits share nothing, leave
    nothing, and keep the real clock, which no kill test reads."""
    out = dict(os.environ if env is None else env)
    for name in ("FAKETIME", "FAKETIME_SHARED"):
        out.pop(name, None)
    kept = [lib for lib in out.pop("LD_PRELOAD", "").split() if "faketime" not in lib]
    if kept:
        out["LD_PRELOAD"] = " ".join(kept)
    return out

def fake_git(tmp_path: Path, body: str) -> dict:
    """A ``git`` first on PATH running ``body`` (sh; $sub is the git command, $real the
    real git) before handing over to the real one; the environment to use it."""
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    script = folder / "git"
    script.write_text(f"""#!/bin/sh
real={shutil.which("git")}
sub=""
skip=0
for a in "$@"; do
  if [ $skip = 1 ]; then skip=0; continue; fi
  case "$a" in -c) skip=1;; -*) ;; *) sub="$a"; break;; esac
done
{body}
exec "$real" "$@"
""")
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


# libfaketime shifts what the clock and stat() say, but not the ctime the kernel stamps
# on a file when os.utime sets its mtime: a test comparing the two needs the real clock.
needs_real_clock = pytest.mark.skipif(
    "FAKETIME" in os.environ,
    reason="compares os.utime times with the kernel's ctime, which libfaketime cannot shift")
# libfaketime (Debian's, run by make test-clocks) moves time.time() but not the file
# times stat() reports: every file written now looks days old (checked: faketime -f
# +400d shifts time.time() by 400 days and os.stat's st_mtime not at all).
needs_real_file_times = pytest.mark.skipif(
    "FAKETIME" in os.environ,
    reason="compares file times from stat() with the clock; libfaketime shifts only the clock")


def depth(examples: int) -> int:
    """How many examples a property or soak test tries: its count for ``make test``, times
    ``OPP_TEST_DEPTH`` (``make test-deep`` sets 8) for a longer search."""
    raw = os.environ.get("OPP_TEST_DEPTH", "1")
    try:
        factor = float(raw)
    except ValueError:
        raise pytest.UsageError(f"OPP_TEST_DEPTH={raw!r} is not a number") from None
    return max(1, round(examples * factor))


@pytest.fixture(scope="session")
def dataset_dir() -> Path:
    """The read-only folder of the public data set (see its SOURCE.md); skips when absent."""
    for folder in dataset_candidates():
        if (folder / "sales_pipeline.csv").is_file() and (folder / "products.csv").is_file():
            return folder
    pytest.skip("the public CRM data set is not here (set OPP_DATASET_DIR to its folder)")


# The data set's four stages, in its order (Prospecting > Engaging > Won / Lost).
DATASET_STAGES = """currency: USD
stages:
- id: prospecting
  label: Prospecting
  probability: 10
  kind: open
- id: engaging
  label: Engaging
  probability: 50
  kind: open
- id: won
  label: Won
  probability: 100
  kind: won
- id: lost
  label: Lost
  probability: 0
  kind: lost
default_stage: prospecting
"""

# How its columns map to opp's fields: opportunity_id, account, deal_stage,
# close_date, sales_agent and product are recognised by name; the others are mapped.
DATASET_IMPORT_OPTIONS = ("--map", "opportunity_id=ref,name", "--map", "close_value=amount",
                          "--map", "engage_date=created", "--default", "customer=(no account)")


def run_folder(tmp_path_factory) -> Path:
    """The temporary folder of this whole run: shared by the xdist workers (each has a
    folder of its own inside it), its own folder otherwise."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def run_lock(path: Path):
    """An exclusive lock on ``path`` among the test processes of a run."""
    import fcntl  # the suite runs on POSIX systems

    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def dataset_repo(dataset_dir, tmp_path_factory):
    """A data repo holding the whole data set; (opp runner, export JSON, import result).
    Built once per run: the first test process that needs it builds it (8,800 rows
    imported: seconds of CPU) while the others wait, then all read it. A test that
    changes it works on a copy of ``dataset_pristine``, which no test touches."""
    # one folder per run (xdist names each run), never one an older run left
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    shared = run_folder(tmp_path_factory) / f"dataset{run and '-'}{run}"
    shared.mkdir(exist_ok=True)
    with run_lock(shared / "lock"):
        if not (shared / "built.json").is_file():
            built = _build_dataset(shared, dataset_dir, tmp_path_factory)
            (shared / "built.tmp").write_text(json.dumps(built))
            os.replace(shared / "built.tmp", shared / "built.json")  # whole, or not there
    exported, result = json.loads((shared / "built.json").read_text())
    return Opp(shared / "crm"), exported, result


@pytest.fixture(scope="session")
def dataset_pristine(dataset_repo) -> Path:
    """The data set's repo as imported, for a test to copy and change."""
    return dataset_repo[0].root.parent / "pristine"


def _build_dataset(shared: Path, dataset_dir: Path, tmp_path_factory) -> list:
    """The data set imported into ``shared/crm``, copied to ``shared/pristine``; returns
    (export JSON, import result)."""
    root = shared / "crm"
    for folder in (root, shared / "pristine"):  # what a build cut short left
        shutil.rmtree(folder, ignore_errors=True)
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        mp.setenv("OPP_USER", "dataset test")
        for var in ("OPP_REPO", "OPP_TODAY", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
            mp.delenv(var, raising=False)
        opp = Opp(root)
        opp("init", str(root), "--currency", "USD")
        (root / "opp.yaml").write_text(DATASET_STAGES)
        opp.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam",
                "the data set's stages")
        opp("--repo", root, "catalog", "import", dataset_dir / "products.csv")
        result = opp("--repo", root, "import", dataset_dir / "sales_pipeline.csv",
                     *DATASET_IMPORT_OPTIONS, "--format", "json")
        exported = json.loads(opp("--repo", root, "export", "--format", "json").stdout)
    shutil.copytree(root, shared / "pristine", symlinks=True)
    return [exported, json.loads(result.stdout)]


HOUSEKEEPING_OFF = "[gc]\n\tauto = 0\n[maintenance]\n\tauto = false\n"


@pytest.fixture
def git_housekeeping() -> None:
    """git's automatic housekeeping as a user has it (on): for the tests that kill opp or
    git, where a gc or a maintenance run may be what a kill meets."""
    Path(os.environ["GIT_CONFIG_GLOBAL"]).write_text("")


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory, monkeypatch):
    _hermetic(tmp_path_factory, monkeypatch)


def _hermetic(tmp_path_factory, monkeypatch) -> None:
    """No git identity, no user or system git config, no opp variables: CI's world."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    # git's automatic housekeeping (gc --auto, maintenance --auto after fetch, merge and
    # push, run in the foreground under opp) is off: it was half the wall time of the
    # sync tests and packs nothing in repos this small. The fault and kill tests turn it
    # back on (``git_housekeeping``), and the tests of opp's own packing set it themselves.
    (home / ".gitconfig").write_text(HOUSEKEEPING_OFF)
    for var in ("OPP_REPO", "OPP_USER", "OPP_TODAY", "OPP_DEBUG", "OPP_LOCALE", "GIT_AUTHOR_NAME",
                "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
                "GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)


class Opp:
    """``opp("list", "--format", "json")`` runs the CLI in-process and checks the exit."""

    def __init__(self, root: Path):
        self.root = root

    def __call__(self, *args: str, code: int = 0, input: str | None = None, env=None):
        result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env,
                                    catch_exceptions=False, prog_name="opp")
        assert result.exit_code == code, (
            f"opp {' '.join(map(str, args))} exited {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}")
        if code:
            # refusals: one line, no traceback
            assert result.stderr.count("\n") == 1, result.stderr
            assert "Traceback" not in result.stderr
        return result

    def json(self, *args: str):
        import json

        return json.loads(self(*args, "--format", "json").stdout)

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True,
                              check=True).stdout

    def commits(self) -> int:
        return int(self.git("rev-list", "--count", "HEAD").strip())

    def head(self) -> str:
        """HEAD's commit, read from git's files where they are plain (opp's own reader,
        tested against ``git rev-parse HEAD``), else asked of git: the tests ask it some
        thousands of times, each a git process."""
        from oppcli.store.git import head_commit

        return head_commit(self.root / ".git") or self.git("rev-parse", "HEAD").strip()

    def status(self) -> str:
        return self.git("status", "--porcelain")

    def file(self, opp_id: str) -> Path:
        return self.root / "opportunities" / f"{opp_id}.yaml"

    def new(self, name: str = "Acme renewal", *args: str, env=None) -> str:
        if "--customer" not in args:
            args = ("--customer", "Acme Corp", *args)
        return self("new", name, *args, env=env).stdout.strip()


def build_crm(root: Path) -> Opp:
    """``opp init`` and a small catalog of three products: four commits."""
    opp = Opp(root)
    opp("init", str(root))
    opp("--repo", root, "catalog", "add", "SRV-01", "--name", "Support plan", "--price", "1200",
        "--unit", "year")
    opp("--repo", root, "catalog", "add", "LIC-10", "--name", "Licence pack", "--price", "99.99")
    opp("--repo", root, "catalog", "add", "CONS", "--name", "Consulting day", "--price",
        "950.00")
    return opp


def compact(root: Path) -> None:
    """Fewer files for every test to copy (89 instead of 38 for the ``crm`` repo, and
    mkdir is slow here): the git repos in ``root`` (itself, its folders, bare ones) lose
    git's sample hooks and have their objects packed. git reads them the same way."""
    for git_dir in (root / ".git", *root.glob("*/.git"), *root.glob("*.git")):
        if not (git_dir / "objects").is_dir():
            continue
        for sample in (git_dir / "hooks").glob("*.sample"):
            sample.unlink()
        subprocess.run(["git", "--git-dir", str(git_dir), "repack", "-adq"], check=True,
                       capture_output=True)


@pytest.fixture(scope="session")
def crm_template(tmp_path_factory) -> Path:
    """The ``crm`` repo, built once per test process (each xdist worker builds its own)
    in the same hermetic environment as a test, and copied by every test that asks."""
    with pytest.MonkeyPatch.context() as mp:
        _hermetic(tmp_path_factory, mp)
        root = tmp_path_factory.mktemp("template") / "crm"
        build_crm(root)
        compact(root)
    return root


class Built:
    """Repos that a fixture builds the same way for many tests, built once per test
    process and copied: ``ids = built("book", crm.root, lambda: make_book(crm))``.

    The first call runs ``build`` (which fills ``root``) and keeps a copy of ``root``
    and of what ``build`` returned; later calls replace ``root`` with a copy of it. The
    fixture still sets its environment (``OPP_TODAY``...) on every call."""

    def __init__(self, factory: pytest.TempPathFactory):
        self.factory = factory
        self.kept: dict[str, tuple[Path, object]] = {}

    def __call__(self, key: str, root: Path, build):
        if key not in self.kept:
            value = build()
            compact(root)
            keep = self.factory.mktemp(f"built-{key}") / root.name
            shutil.copytree(root, keep, symlinks=True)
            self.kept[key] = (keep, copy.deepcopy(value))
            return value
        keep, value = self.kept[key]
        inside = Path.cwd() == root
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(keep, root, symlinks=True)
        if inside:
            os.chdir(root)  # the folder was replaced under the current directory
        return copy.deepcopy(value)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    return Built(tmp_path_factory)


@pytest.fixture
def crm(tmp_path, monkeypatch, crm_template) -> Opp:
    """A fresh data repo with a small catalog; the current folder is its root.

    A copy of one built per process: the same files and history as building it here,
    at a fraction of the cost (four commits per test were a third of the suite's time)."""
    root = tmp_path / "crm"
    shutil.copytree(crm_template, root, symlinks=True)
    monkeypatch.chdir(root)
    return Opp(root)


def files_outside_git(top: Path, skip: tuple[str, ...] = ()) -> dict[Path, bytes]:
    """Every file under ``top`` with its bytes, leaving out anything named ``.git`` (or
    in ``skip``) without walking into it: walking .git was most of what a snapshot of a
    repo's files cost."""
    found = {}
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if d != ".git" and d not in skip]
        for name in names:
            path = Path(folder, name)
            if name != ".git" and path.is_file():
                found[path] = path.read_bytes()
    return found


@pytest.fixture
def unchanged(crm):
    """Asserts, around a refusal, that nothing was written or committed."""
    class Guard:
        def __enter__(self):
            self.head = crm.head()
            self.files = files_outside_git(crm.root)
            return self

        def __exit__(self, *exc):
            if exc[0] is None:
                assert crm.head() == self.head, "a refused command committed"
                after = files_outside_git(crm.root)
                assert after == self.files, "a refused command changed files"
                assert crm.status() == ""
    return Guard()
