"""Code Python compiles while opp starts, kept compiled between runs, as Python keeps
each module's bytecode in ``__pycache__``.

Two modules of the standard library compile source text at run time: ``dataclasses``
writes each class's ``__init__``, ``__repr__``, ``__eq__``… as text and executes it when
the class is defined, and ``typing`` compiles each annotation written as text (a
``ForwardRef``: pydantic_core declares its schema types that way). An ``opp new`` at
10,000 deals defined 70 dataclasses (pydantic's, annotated_types' and opp's: 312
functions) and 792 forward references: 1,100 compiles, 35-40 ms of a 0.19 s change
(#20, #25). The console script keeps the code objects those texts compile to in one
file beside this module's bytecode and hands them back: the same text compiled the same
way (no flags, none inherited, the same optimisation level) is the same code.

It is a cache: an entry is the text itself with the code Python compiled from it, so
no other text can ever get it. The file is named for one Python release and ``-O``
level, which its first line repeats; one of another Python, damaged, truncated or
foreign is ignored. It is written only where Python would write bytecode (not under
``PYTHONDONTWRITEBYTECODE``), whole, under a temporary name then renamed. Only the
console script's own process installs it, for a command that runs (not a replayed
report, nor help; but while a report's key is taken in a child, read/ahead.py, before
it knows whether it replays), never opp used as a library nor the tests' in-process
runs; and
only those two modules' own calls go through it.

This module has no ``from __future__`` import on purpose: ``compile`` and ``exec``
called from here must inherit no compiler flag, as when ``typing`` and ``dataclasses``
(which have none) call them.
"""

import builtins
import marshal
import os
import sys
from types import CodeType
from typing import Any

MAGIC = b"opp compiled 1\n"
MAX_ENTRIES = 5_000  # opp compiles ~1,100 texts; past this the file keeps a run's own
_codes: "dict[tuple[str, str], CodeType]" = {}
_used: "set[tuple[str, str]]" = set()
_state: "dict[str, Any]" = {"path": "", "missed": 0}


def _cache_path() -> str:
    """Beside this module's bytecode (``importlib.util.cache_from_source``'s folder),
    named for this Python: ``compiled.cpython-311-30b07f0.codes``."""
    tag = sys.implementation.cache_tag
    if tag is None:
        return ""
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(here, "__pycache__")
    if sys.pycache_prefix:
        folder = os.path.join(sys.pycache_prefix, here.lstrip(os.sep))
    # one file per release and -O level: two Pythons sharing an install keep their own
    level = f".opt-{sys.flags.optimize}" if sys.flags.optimize else ""
    return os.path.join(folder, f"compiled.{tag}-{sys.hexversion:x}{level}.codes")


def _header() -> bytes:
    """The format, this very Python (its release: the bytecode's format never changes
    within one) and its optimisation level (``-O`` strips asserts)."""
    return MAGIC + f"{sys.hexversion:x} {sys.flags.optimize}\n".encode()


def _load(path: str) -> None:
    """Take in the code the file at ``path`` holds, if it is this Python's and whole."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        head = _header()
        if not data.startswith(head):
            return
        found = marshal.loads(memoryview(data)[len(head):])
    except Exception:  # a cache: missing, damaged or foreign, it is not used
        return
    if type(found) is dict and len(found) <= MAX_ENTRIES:
        for key, code in found.items():
            if type(key) is tuple and len(key) == 2 and type(code) is CodeType:
                _codes[key] = code


def code_of(source: str, mode: str) -> CodeType:
    """``source`` compiled in ``mode`` as ``typing`` and ``dataclasses`` compile it."""
    key = (mode, source)
    code = _codes.get(key)
    if code is None:
        code = _codes[key] = builtins.compile(source, "<string>", mode, 0, True)
        _state["missed"] += 1
    _used.add(key)
    return code


def _compile(source, filename, mode, *args, **kwargs):
    """``typing``'s ``compile``: a forward reference's text, from the cache."""
    if type(source) is str and filename == "<string>" and mode == "eval" and not args \
            and not kwargs:
        return code_of(source, mode)
    return builtins.compile(source, filename, mode, *args, **kwargs)


def _exec(source, globals=None, locals=None, /, **kwargs):
    """``dataclasses``' ``exec``: a class's functions, compiled from the cache."""
    if globals is None:  # exec's own default: the caller's namespaces
        frame = sys._getframe(1)
        globals = frame.f_globals
        if locals is None:
            locals = frame.f_locals
    if type(source) is str and not kwargs:
        source = code_of(source, "exec")
    return builtins.exec(source, globals, locals, **kwargs)


def install(path: str | None = None) -> None:
    """Load the kept code (from ``path``, else beside this module's bytecode) and route
    ``typing``'s and ``dataclasses``' compiles to it."""
    _state["path"] = _cache_path() if path is None else path
    if _state["path"]:
        _load(_state["path"])
    import dataclasses  # every command defines some (a replayed report came before)
    import typing

    # a module global named as the builtin it shadows, for that module's own calls
    typing.compile = _compile  # type: ignore[attr-defined]
    dataclasses.exec = _exec  # type: ignore[attr-defined]  # as typing.compile above


def keep() -> None:
    """Write the cache again when this run compiled something it did not hold: under a
    temporary name made for it alone (``O_EXCL``, as Python writes bytecode), renamed."""
    path = _state["path"]
    if not path or not _state["missed"] or sys.dont_write_bytecode:
        return
    _state["missed"] = 0
    # texts of older versions pile up in a long-lived install: past the bound, the file
    # keeps what this run used
    kept = _codes if len(_codes) <= MAX_ENTRIES else {k: _codes[k] for k in _used}
    if len(kept) > MAX_ENTRIES:
        return
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return  # a folder opp may not write in (a system install): simply not kept
    try:
        with open(fd, "wb") as fh:
            fh.write(_header() + marshal.dumps(kept))
        os.replace(temporary, path)
    except Exception:  # a cache: when it cannot be written it is not kept
        try:
            os.unlink(temporary)
        except OSError:
            pass
