"""Every command, registered on the ``opp`` group (each module adds its own), with shell
completion attached by parameter name."""

from __future__ import annotations

from . import (  # noqa: F401  (each module registers its commands)
    accounts,
    activities,
    agenda,
    catalog,
    config,
    dashboard,
    documents,
    ecosystem,
    edit,
    index,
    insights,
    notes,
    opportunities,
    panels,
    products,
    quotas,
    quotes,
    relations,
    repo,
    reports,
    sync,
    timeline,
    transfer,
)
from .app import cli

# after every command module: shell completion by parameter name (completion.py)
from .completion import attach as _attach_completion

_attach_completion(cli)

__all__ = ["cli"]
