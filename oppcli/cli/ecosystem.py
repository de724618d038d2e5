"""Commands that fit opp into other tools: JSON Schemas for editors, shell completion."""

from __future__ import annotations

import click

from .app import cli

SHELLS = ("bash", "zsh", "fish")


@cli.command()
@click.argument("name", type=click.Choice(["opportunity", "settings", "catalog", "quotas",
                                          "account"]), default="opportunity")
def schema(name: str) -> None:
    """Print the JSON Schema of a file: opportunity, settings (opp.yaml), catalog,
    quotas (quotas.yaml) or account (accounts/ID.yaml).

    Editors validate and complete opp's files with these: every file opp writes
    names its schema on its first line, a copy in the data repo's .opp/schemas/.
    Other tools can check files with them, e.g. check-jsonschema.

    \b
    Example:  opp schema catalog > catalog.schema.json
              check-jsonschema --schemafile catalog.schema.json catalog.yaml
    """
    from ..store.schemas import SCHEMA_NAMES, rendered

    click.echo(rendered()[SCHEMA_NAMES[name]], nl=False)


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the script that makes SHELL (bash, zsh, fish) complete opp's commands.

    TAB then completes commands and options, and from the data repo opportunity
    ids (with their names), SKUs, stages, quote and item ids, activity types,
    roles, owners and customers.

    \b
    Example:  eval "$(opp completion bash)"      # in ~/.bashrc
              eval "$(opp completion zsh)"       # in ~/.zshrc, after compinit
              opp completion fish > ~/.config/fish/completions/opp.fish
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    if completer is None:  # pragma: no cover - the choice above guards it
        raise click.BadParameter(f"no completion for {shell}")
    click.echo(completer(cli, {}, "opp", "_OPP_COMPLETE").source())
