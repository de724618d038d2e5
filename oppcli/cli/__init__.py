"""The ``opp`` command line: thin commands that parse, call the domain and print."""

from __future__ import annotations

from .app import cli
from . import repo, catalog, opportunities, products  # noqa: F401  (register commands)
from . import quotes  # noqa: F401
from . import reports  # noqa: F401  (register commands)
from . import dashboard  # noqa: F401  (register commands)


def main() -> None:
    cli(prog_name="opp")


__all__ = ["cli", "main"]
