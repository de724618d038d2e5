"""The ``opp`` command line: thin commands that parse, call the domain and print."""

from __future__ import annotations

from .app import cli
from . import repo, catalog, opportunities, products, transfer  # noqa: F401  (register commands)
from . import quotes  # noqa: F401
from . import reports  # noqa: F401  (register commands)
from . import panels, timeline  # noqa: F401  (register commands)
from . import sync  # noqa: F401  (team sync, #8)
from . import config, ecosystem  # noqa: F401  (register commands)
from . import dashboard  # noqa: F401  (register commands)
from . import index  # noqa: F401  (the index of parsed files, #9)

# after every command module: shell completion by parameter name (oppcli/completion.py)
from ..completion import attach as _attach_completion

_attach_completion(cli)


def main() -> None:
    cli(prog_name="opp")


__all__ = ["cli", "main"]
