"""The console script keeps what ``dataclasses`` and ``typing`` compile while opp starts
(``cli/compiled.py``): the classes and annotations it gives behave as compiled afresh, and
a damaged or foreign file is only ever a miss."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Defines dataclasses of every kind and forward references, then prints what they do.
PROBE = r'''
import sys, json
mode, path = sys.argv[1], sys.argv[2]
if mode != "plain":
    from oppcli.cli import compiled
    compiled.install(path)
import dataclasses, typing
from dataclasses import InitVar, KW_ONLY, dataclass, field
from typing import ClassVar, Optional

@dataclass(order=True, frozen=True)
class Point:
    x: int
    y: int = 0
    tags: tuple = ()

@dataclass(slots=True)
class Slotted:
    a: "int"
    b: list = field(default_factory=list)
    c: int = field(default=3, repr=False, compare=False)

@dataclass
class Derived:
    base: int
    scale: InitVar[int] = 2
    total: int = field(init=False)
    kind: ClassVar[str] = "derived"
    _: KW_ONLY
    label: "Optional[str]" = None

    def __post_init__(self, scale):
        self.total = self.base * scale

@dataclass(eq=False, repr=False, unsafe_hash=False)
class Plain:
    v: int

out = {}
p, q = Point(1, 2), Point(1, 3)
out["point"] = [repr(p), p == Point(1, 2), p < q, hash(p) == hash(Point(1, 2)),
                Point.__match_args__, [f.name for f in dataclasses.fields(Point)]]
try:
    p.x = 5
except dataclasses.FrozenInstanceError as exc:
    out["frozen"] = type(exc).__name__ + ": " + str(exc)
s1, s2 = Slotted(1), Slotted(1)
s1.b.append(1)
out["slotted"] = [repr(s1), s2.b, hasattr(s1, "__dict__"), Slotted.__slots__,
                  s1 == Slotted(1, [1], 9)]
d = Derived(4, 3, label="x")
out["derived"] = [repr(d), d.total, Derived.kind, sorted((k, repr(v)) for k, v in
                                            Derived.__init__.__annotations__.items()),
                  Derived.__init__.__qualname__, Derived.__repr__.__qualname__]
try:
    Derived(1, 2, "positional label")
except TypeError as exc:
    out["kw_only"] = str(exc)
try:
    Point()
except TypeError as exc:
    out["missing"] = str(exc)
out["plain"] = [Plain(1) == Plain(1), "Plain object at" in repr(Plain(1))]
out["hints"] = {k: str(v) for k, v in typing.get_type_hints(Derived).items()
                if k != "_"}
def annotated(x: "dict[str, list[int]]", y: "Optional[Point]" = None) -> "Slotted": ...
out["ref"] = [repr(typing.ForwardRef("dict[str, list[int]]")),
              {k: str(v) for k, v in typing.get_type_hints(annotated).items()}]
try:
    typing.ForwardRef("not an expression (")
except SyntaxError as exc:
    out["bad_ref"] = str(exc)

from oppcli.domain.model import Opportunity
from oppcli.domain.settings import Settings
out["model"] = sorted(Opportunity.model_json_schema()["properties"])
out["settings"] = repr(Settings.__init__.__code__.co_varnames)
if mode != "plain":
    out["missed"] = compiled._state["missed"]
    compiled.keep()
print(json.dumps(out, sort_keys=True))
'''


def probe(mode: str, path: Path, env: dict | None = None) -> dict:
    run = subprocess.run([sys.executable, "-c", PROBE, mode, str(path)], capture_output=True,
                         text=True, env={**os.environ, **(env or {})}, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)


def test_classes_and_annotations_from_the_kept_code_behave_as_compiled_afresh(
        tmp_path, clean_env):
    cache = tmp_path / "compiled.codes"
    plain = probe("plain", cache)
    assert not cache.exists()
    first = probe("cached", cache)
    assert cache.exists() and first.pop("missed") > 50
    again = probe("cached", cache)
    assert again.pop("missed") == 0  # every compile came from the file
    assert plain == first == again
    assert plain["frozen"] == "FrozenInstanceError: cannot assign to field 'x'"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other python", "empty",
                                    "a folder"])
def test_a_damaged_or_foreign_file_is_a_miss(tmp_path, clean_env, damage):
    cache = tmp_path / "compiled.codes"
    reference = probe("plain", cache)
    probe("cached", cache)
    data = cache.read_bytes()
    if damage == "garbage":
        cache.write_bytes(data[:40] + bytes(range(256)) * 4)
    elif damage == "truncated":
        cache.write_bytes(data[: len(data) // 2])
    elif damage == "other python":
        cache.write_bytes(data.replace(f"{sys.hexversion:x}".encode(), b"30b00f0", 1))
    elif damage == "empty":
        cache.write_bytes(b"")
    else:
        cache.unlink()
        cache.mkdir()
    after = probe("cached", cache)
    assert after.pop("missed") > 50
    assert after == reference
    if damage != "a folder":
        again = probe("cached", cache)  # written whole again
        assert again.pop("missed") == 0 and again == reference


def test_a_place_that_cannot_be_written_only_loses_the_gain(tmp_path, clean_env):
    (tmp_path / "a-file").write_text("in the way\n")
    cache = tmp_path / "a-file" / "compiled.codes"  # its folder cannot be made
    result = probe("cached", cache)
    assert result.pop("missed") > 50 and result == probe("plain", cache)
    assert list(tmp_path.iterdir()) == [tmp_path / "a-file"]  # no temporary file left


def test_nothing_is_written_where_python_writes_no_bytecode(tmp_path):
    cache = tmp_path / "compiled.codes"
    result = probe("cached", cache, {"PYTHONDONTWRITEBYTECODE": "1"})
    assert result["missed"] > 50 and not cache.exists()


def test_the_console_script_keeps_what_it_compiled(crm, tmp_path, clean_env):
    """`opp` itself keeps the code beside its bytecode (here under a PYTHONPYCACHEPREFIX
    of the test's own), writes it once, and reads it back."""
    import marshal

    from oppcli.cli import compiled

    prefix = tmp_path / "pycache"
    folder = prefix / os.path.dirname(os.path.abspath(compiled.__file__)).lstrip(os.sep)
    env = {**os.environ, "OPP_USER": "someone", "PYTHONPYCACHEPREFIX": str(prefix)}
    opp = [sys.executable, "-c", "import sys; from oppcli.cli import main; "
           "sys.argv[0] = 'opp'; main()"]
    seen = []
    for name in ("Deal", "Other"):
        run = subprocess.run([*opp, "new", name, "--customer", "Acme Corp"],
                             capture_output=True, text=True, env=env, cwd=crm.root)
        assert run.returncode == 0, run.stderr
        found = list(folder.glob("compiled.*.codes"))
        assert len(found) == 1, found
        info = found[0].stat()
        seen.append((info.st_ino, info.st_mtime_ns))
    assert seen[0] == seen[1]  # the second run compiled nothing new: not written again
    data = found[0].read_bytes()
    head = compiled._header()
    assert data.startswith(head)
    kept = marshal.loads(data[len(head):])
    assert any(mode == "exec" and "def __init__(" in text for mode, text in kept)
    assert any(mode == "eval" for mode, _ in kept)  # pydantic_core's forward references
    assert [line.split(": ", 1)[1] for line in crm.git(
        "log", "-2", "--format=%s").splitlines()] == [
        "new opportunity for Acme Corp"] * 2
    run = subprocess.run([*opp, "--help"], capture_output=True, text=True,
                         env={**env, "PYTHONPYCACHEPREFIX": str(tmp_path / "other")})
    assert run.returncode == 0  # help compiles next to nothing: it keeps nothing
    assert not list((tmp_path / "other").rglob("compiled.*.codes"))
