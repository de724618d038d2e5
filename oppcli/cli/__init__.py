"""The ``opp`` command line: thin commands that parse, call one function below and
print. ``main`` is the console script; the commands live in ``commands`` and the
modules it imports, loaded only when a command runs (a report replayed from
``read.outputs`` needs none of them; ``opp --help`` lists them from ``app.SUMMARIES``)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..read.outputs import Recorder


def __getattr__(name: str) -> Any:
    if name == "cli":  # ``from oppcli.cli import cli``: the group, with every command
        from .commands import cli

        return cli
    raise AttributeError(name)


def main() -> None:
    """The console script. Once the command is done, opp leaves at once (``os._exit``):
    its files are written and closed and its commits made, and the interpreter's
    teardown of every module and object would add ~30 ms to every command (#9)."""
    argv = [str(arg) for arg in sys.argv[1:]]
    recorder: Recorder | None = None
    if argv and not {"-h", "--help"} & set(argv):  # help is never replayed: not loaded
        from ..read import outputs

        found = outputs.key_of(argv)
        if found is not None and outputs.replay(found):
            os._exit(0)
        recorder = outputs.Recorder(found) if found is not None and found.trusted else None
    from .app import cli  # each command's module is imported when it is looked up

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
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader went away (opp list | head), or the stream is closed
        except OSError:
            code = code or 1  # the output could not be written: not a success
    os._exit(code)




__all__ = ["cli", "main"]
