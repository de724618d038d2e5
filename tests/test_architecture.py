"""The shape of the code: layers as packages (import-linter's contracts in
pyproject.toml), no import circle anywhere in ``oppcli``, and modules and functions of
a size a reader takes in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import circles among modules (Tarjan's strongly connected components)."""
    adj = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                found.append(sorted(part))

    for module in sorted(adj):
        if module not in index:
            visit(module)
    return found


def test_no_import_circle():
    """Every import counts, those inside functions too; annotations alone do not."""
    graph = grimp.build_graph("oppcli", exclude_type_checking_imports=True, cache_dir=None)
    assert cycles(graph) == []


def test_no_module_imports_another_modules_private_names():
    graph = grimp.build_graph("oppcli", cache_dir=None)
    private = []
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                text = detail["line_contents"]
                if " import " in text:
                    names = text.split(" import ", 1)[1].strip("() ").split(",")
                    private += [f"{importer}: {text}" for n in names
                                if n.strip().split(" as ")[0].startswith("_")
                                and n.strip() != "__version__"]
    assert private == []


# Below the command line, an import inside a function is allowed only for these: the
# libraries (and opp's modules built on them at import time) that a report served by
# the index never needs, so that it starts without them.
LAZY = ("pydantic", "yaml", "shutil", "pygal", "tabulate", "multiprocessing", "babel", "openpyxl",
        "stdnum", "icalendar", "oppcli.domain.model", "oppcli.domain.checks",
        "oppcli.domain.views", "oppcli.domain.quotes", "oppcli.domain.products",
        "oppcli.domain.opportunity", "oppcli.domain.panels", "oppcli.domain.catalog",
        "oppcli.domain.settings_edit", "oppcli.store.yamlio", "oppcli.store.pyyaml",
        "oppcli.store.transaction", "oppcli.store.schemas", "oppcli.store.setup",
        "oppcli.store.sync", "oppcli.read.history", "oppcli.transfer",
        "oppcli.reports.quote_document", "fcntl", "portalocker")

# modules that exist on one family of systems only: imported at the top of a module,
# they make opp fail on the other (store/locking.py picks its lock per system)
ONE_SYSTEM = ("fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix", "msvcrt",
              "winreg", "_winapi")


def _targets(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    base = node.module if node.level == 0 else ".".join(
        parts + ([node.module] if node.module else []))
    def submodule(name: str) -> bool:  # from ..store import yamlio: judge yamlio
        path = ROOT.joinpath(*name.split("."))
        return path.with_suffix(".py").is_file() or path.is_dir()

    return [f"{base}.{a.name}" if submodule(f"{base}.{a.name}") else base
            for a in node.names]


def test_imports_inside_functions_only_at_the_lazy_boundary():
    """The command line imports what its command needs; below it, only ``LAZY``."""
    eager = []
    for path in sorted((ROOT / "oppcli").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "cli":
            continue
        module = ".".join(rel.with_suffix("").parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for func in ast.walk(ast.parse(path.read_text())):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    eager += [f"{rel}:{node.lineno} {t}" for t in _targets(node, package)
                              if not any(t == lazy or t.startswith(lazy + ".")
                                         for lazy in LAZY)]
    assert eager == []


def test_nothing_of_one_system_is_imported_at_the_top():
    """opp starts on Windows as on POSIX: a module only one of them has is imported
    inside the function that needs it, behind a check of the system."""
    found = []
    for path in sorted((ROOT / "oppcli").rglob("*.py")):
        tree = ast.parse(path.read_text())
        inside = {id(n) for f in ast.walk(tree)
                  if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                  for n in ast.walk(f)}
        top = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
               and id(n) not in inside]
        for node in top:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""] if node.level == 0 else []
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                      if n.split(".")[0] in ONE_SYSTEM]
    assert found == []


def test_the_layers_hold():
    """lint-imports checks the contracts of pyproject.toml (also run by make lint)."""
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]


def test_repo_and_state_are_typed_everywhere():
    """mypy's stated strictness (pyproject.toml): a ``repo`` or ``state`` parameter always
    carries its type, so mypy checks what every call gives it."""
    untyped = []
    for path in sorted((ROOT / "oppcli").rglob("*.py")):
        for func in ast.walk(ast.parse(path.read_text())):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                args = func.args
                untyped += [f"{path.relative_to(ROOT)}:{a.lineno} {func.name}({a.arg})"
                            for a in args.posonlyargs + args.args + args.kwonlyargs
                            if a.arg in ("repo", "state") and a.annotation is None]
    assert untyped == []


def test_type_ignores_and_noqa_say_why():
    """Every ``type: ignore`` and ``noqa`` names its code and gives a reason, on its
    line or in a comment on the line above."""
    bare = []
    markers = ("# type" + ": ignore", "# no" + "qa")  # spelled apart: not markers here
    for path in sorted(ROOT.glob("*/**/*.py")):
        if ".venv" in path.parts or ".demo" in path.parts:
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            for marker in (m for m in markers if m in line):
                tail = line.split(marker, 1)[1]
                reason_above = number > 1 and lines[number - 2].lstrip().startswith("#")
                if not tail.startswith(("[", ":")) or (
                        len(tail.split(maxsplit=1)) < 2 and not reason_above):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == []


MODULE_LINES = 620  # "about 600 lines"
FUNCTION_LINES = 60  # a function's code, its docstring aside


def _explained(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a comment stands just above the function (above its decorators)."""
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return first >= 2 and lines[first - 2].strip().startswith("#")


def test_modules_and_functions_stay_small():
    """No module over about 600 lines; no function over 60 lines of code unless a comment
    just above it says why it is one piece."""
    big, long = [], []
    for path in sorted((ROOT / "oppcli").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        rel = path.relative_to(ROOT)
        if len(lines) > MODULE_LINES:
            big.append(f"{rel}: {len(lines)} lines")
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = node.body
            start = body[0].lineno
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and len(body) > 1:
                start = body[1].lineno  # the docstring does not count
            size = (node.end_lineno or node.lineno) - start + 1
            if size > FUNCTION_LINES and not _explained(lines, node):
                long.append(f"{rel}:{node.lineno} {node.name}: {size} lines")
    assert big == [] and long == []
