"""The ``opp`` command line: thin commands that parse, call one function below and
print. ``main`` is the console script; the commands live in ``commands`` and the
modules it imports, loaded only when a command runs (a report replayed from
``read.outputs`` needs none of them; ``opp --help`` lists them from ``app.SUMMARIES``)."""

from __future__ import annotations

import os
import sys
import types
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from ..read.ahead import Pending
    from ..read.outputs import Recorder


def __getattr__(name: str) -> Any:
    if name == "cli":  # ``from oppcli.cli import cli``: the group, with every command
        from .commands import cli

        return cli
    raise AttributeError(name)


PYDANTIC_PLUGINS = "pydantic.plugin._loader"


def without_pydantic_plugins() -> None:
    """pydantic looks for plugins once, when it builds its first validator: its
    ``plugin._loader`` imports ``importlib.metadata`` (with ``email``, ``zipfile``…) and
    reads the entry points of every installed package. That is ~65 million of the ~915
    million instructions of an ``opp note`` at 10,000 deals (#25), for nothing: opp's
    models are its own, a plugin (logfire, say) has nothing to observe in them, and
    nothing that plugs into pydantic may change what opp accepts.

    pydantic's own switch, ``PYDANTIC_DISABLE_PLUGINS``, is an environment variable (2.7
    on): set in ``os.environ`` it would reach every process opp starts (git and its
    hooks, the editor, the pager), a Python hook's own pydantic included, and it still
    imports ``importlib.metadata`` (only the scan is skipped: 20 of the 65 million). So
    opp puts, in its own process only, a loader that finds no plugin in place of
    pydantic's (``get_plugins`` is all pydantic asks of it; tests/cli/test_cli_core.py
    holds the installed pydantic to that). Should a pydantic ask it for anything else,
    the real loader takes its place and answers: plugins on, as without this."""
    if PYDANTIC_PLUGINS in sys.modules:
        return
    loader = types.ModuleType(PYDANTIC_PLUGINS, "No pydantic plugins in opp's process.")

    def real(name: str) -> Any:
        if name.startswith("__"):  # a tool looking for __file__, __path__…: none here
            raise AttributeError(name)
        sys.modules.pop(PYDANTIC_PLUGINS, None)
        import importlib

        return getattr(importlib.import_module(PYDANTIC_PLUGINS), name)

    # get_plugins() is (): no plugin; any other name, the real loader's (PEP 562)
    loader.__dict__.update(get_plugins=tuple, __getattr__=real)
    sys.modules[PYDANTIC_PLUGINS] = loader


YOUNG_OBJECTS = 100_000


def few_collections() -> None:
    """The garbage collector's first pass waits for 100,000 new objects instead of 700
    (Python 3.13 and later: 2,000).

    Every object opp makes at start (click's, pydantic's and opp's classes and
    validators: some 50,000 in an ``opp note``) lives until the command leaves, and
    frees itself by its count of references; the collector's 70 passes over them found
    about 600 objects to free and cost 8-11 ms of a 0.2 s change or report (5 %,
    measured in turns at 10,000 deals on 2026-12-04, as with the collector off). A
    long command (an import, a cold build, ``opp insights``) still collects, every
    100,000 objects instead of every 700: each pass then looks at more objects, the
    same work in all, and garbage in cycles waits at most that long to be freed."""
    import gc

    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def merge_driver(argv: list[str]) -> int | None:
    """git's merge driver (``opp merge-driver %O %A %B %P``, as opp sets it up) without
    click: git starts one for each file both sides changed, and click's import and
    parsing are a sixth of one. It checks the opp variables as every command does (a
    malformed one: exit 2, and git leaves the file in conflict). None for any other
    command line, or with ``OPP_LOCALE`` set (click then reads them, and says what is
    wrong); the driver shows no money, so the locale is not its concern otherwise."""
    if len(argv) != 5 or argv[0] != "merge-driver" or os.environ.get("OPP_LOCALE", "").strip():
        return None
    from .argv import readable

    # an option (--help) is click's; the path of a data repo in a folder named "-x/" is
    # not (it holds a /), and git hands it as it is
    if any((a.startswith("-") and "/" not in a) or not readable(a) for a in argv[1:]):
        return None
    from pathlib import Path

    from ..env import check
    from .compiled import install

    install()
    from ..store.sync import run_merge_driver

    try:
        check()
        return run_merge_driver(Path(argv[1]), Path(argv[2]), Path(argv[3]), argv[4])
    except (Exception, KeyboardInterrupt) as exc:
        from .app import failed

        return failed(exc)


def get_ready(argv: list[str], pending: Pending) -> None:
    """What a report does first that reads nothing of the data repo, while the key's child
    walks the files (``read/ahead.py``): the kept compiles, the command line's modules,
    and the records kept whole; each only while the child has not answered (a replay
    needs none of them)."""
    from ..read.outputs import command_of
    from . import compiled

    compiled.install()
    if pending.answered():
        return
    from ..read.index import kept
    from . import app

    command = command_of(argv)[0] or ""
    app.load_commands(app.cli, [command])
    if not pending.answered():
        kept.preload(pending.records, tails=command == "agenda")
        if command == "agenda":  # its dated items too, while the child has not answered
            kept.parse_ahead(pending.answered)


def main() -> None:
    """The console script. Once the command is done, opp leaves at once (``os._exit``):
    its files are written and closed and its commits made, and the interpreter's
    teardown of every module and object would add ~30 ms to every command (#9)."""
    few_collections()
    without_pydantic_plugins()
    argv = [str(arg) for arg in sys.argv[1:]]
    merged = merge_driver(argv)
    if merged is not None:
        leave(merged)
    recorder: Recorder | None = None
    installed = False
    # help and git's merge driver are never replayed: not loaded
    if argv and argv[0] != "merge-driver" and not {"-h", "--help"} & set(argv):
        from ..read import ahead, outputs

        pending = ahead.start(argv)
        try:
            if pending is not None and pending.forked:
                pending.share()  # the parent's share of the walk, which the child awaits
                get_ready(argv, pending)  # while the key's child walks the files
                installed = True
        finally:  # (the child waited for, whatever happened)
            found = pending.key() if pending is not None else None
        if found is not None and outputs.replay(found):
            os._exit(0)
        recorder = outputs.Recorder(found) if found is not None and found.trusted else None
    if not installed and not {"-h", "--help", "--version"} & set(argv):  # help: no compiles
        from . import compiled

        compiled.install()  # after the replay: a replayed report compiles nothing
    from . import app
    from .app import cli  # each command's module is imported when it is looked up

    app.leaves_at_once = True

    code: str | int | None
    try:
        cli(prog_name="opp")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    if recorder is not None:
        recorder.finish(code)
    leave(code)


def leave(code: int) -> NoReturn:
    """Flush what was printed, keep what was compiled, and leave at once with ``code``
    (1 when the output could not be written)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (opp list | head), or the stream is closed
        except OSError:
            code = code or 1  # the output could not be written: not a success
    from .compiled import keep

    keep()
    os._exit(code)




__all__ = ["cli", "main"]
