"""``opp config``: read and change opp.yaml (stages, types, roles, reasons, modules)."""

from __future__ import annotations

import click

from . import completion
from .app import State, cli, note, pass_state
from .output import emit_json, format_option, table

KEY = click.argument("key", metavar="KEY", shell_complete=completion.config_keys)


@cli.group()
def config() -> None:
    """Read and change the settings in opp.yaml, one commit per change.

    KEY names a setting with dots: currency, locale, default_stage, modules.catalog,
    modules.quotes, activity_types, lost_reasons, roles.contacts,
    roles.partners, roles.competitors, stages, stages.STAGE (id or label),
    stages.STAGE.label|probability|kind|position|category. A change that would leave
    opp.yaml invalid, or break an opportunity, is refused and changes nothing.

    \b
    Example:  opp config set stages.proposal.probability 40
              opp config add activity_types demo
    """


def _change(state: State, kind: str, edit) -> bool:
    """``edit(settings) -> (settings, words)`` to opp.yaml as one commit, once every
    opportunity still holds (``store.shared_files``); False when nothing changed."""
    from ..store.shared_files import change_settings

    words, changed = change_settings(state.repo, kind, edit)
    note(f"opp.yaml: {words}" if changed else f"opp.yaml: nothing to change ({words})")
    return changed


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "none" if value is None else str(value)


@config.command("get")
@click.argument("key", metavar="[KEY]", required=False, shell_complete=completion.config_keys)
@format_option("text", "json")
@pass_state
def config_get(state: State, key: str | None, fmt: str) -> None:
    """Print a setting, or all of opp.yaml without KEY.

    A list prints one item a line, the stages as a table.

    \b
    Example:  opp config get stages.proposal.probability
              opp config get --format json
    """
    from ..domain import settings_edit as keys
    from ..store import yamlio

    settings = state.repo.settings
    path = keys.parse_key(settings, key) if key else ()
    value = keys.get(settings, path)
    if fmt == "json":
        emit_json(value)
    elif path == ("stages",):
        click.echo(table([[s["id"], s["label"], s["probability"], s["kind"],
                           s.get("category") or ""] for s in value],
                         ["id", "label", "probability", "kind", "category"],
                         align=["left", "left", "right", "left", "left"]))
    elif isinstance(value, list):
        for item in value:
            click.echo(_text(item))
    elif isinstance(value, dict):
        click.echo(yamlio.dump(value), nl=False)
    else:
        click.echo(_text(value))


@config.command("set")
@KEY
@click.argument("value")
@pass_state
def config_set(state: State, key: str, value: str) -> None:
    """Set one setting: currency, locale, default_stage, modules.catalog or modules.quotes
    (true or false), stages.STAGE.label, .probability, .kind or .position.

    \b
    Example:  opp config set stages.proposal.probability 40
              opp config set stages.proposal.label Proposta
              opp config set locale it
              opp config set modules.quotes false
    """
    from ..domain import settings_edit as keys

    def edit(settings):
        path = keys.parse_key(settings, key)
        new = keys.set_value(settings, path, value)
        before, after = keys.get(settings, path), keys.get(new, path)
        return new, f"set {keys.dotted(path)} {_text(before)} -> {_text(after)}"

    if _change(state, "config-set", edit) and key.strip().lower() == "currency" \
            and state.repo.catalog.products:
        note(f"note: the catalog's prices are now read as {value.strip().upper()}")


@config.command("add")
@KEY
@click.argument("value")
@click.option("--label", help="A new stage's label (default: from its id).")
@click.option("--probability", metavar="0-100", help="A new stage's probability in percent.")
@click.option("--kind", type=click.Choice(["open", "won", "lost"]),
              help="A new stage's kind (default open).")
@click.option("--before", metavar="STAGE", shell_complete=completion.stages,
              help="Put the new stage before STAGE.")
@click.option("--after", metavar="STAGE", shell_complete=completion.stages,
              help="Put the new stage after STAGE (default: after the last open stage).")
@pass_state
def config_add(state: State, key: str, value: str, label, probability, kind, before, after) -> None:
    """Add VALUE to a list (activity_types, lost_reasons, roles.contacts,
    roles.partners, roles.competitors), or a stage with id VALUE to stages.

    \b
    Example:  opp config add activity_types demo
              opp config add stages on-hold --label "On hold" --probability 5 \\
                  --after qualification
    """
    from ..domain import settings_edit as keys

    def edit(settings):
        path = keys.parse_key(settings, key)
        new = keys.add(settings, path, value, label=label, probability=probability, kind=kind,
                       before=before, after=after)
        return new, f"add {keys.dotted(path)} {value.strip()}"

    _change(state, "config-add", edit)


@config.command("remove")
@KEY
@click.argument("value", shell_complete=completion.config_items)
@pass_state
def config_remove(state: State, key: str, value: str) -> None:
    """Remove VALUE from a list, or the stage VALUE (id or label) from stages.

    A stage that opportunities are at, the default stage, or the last stage of
    a kind cannot be removed.

    \b
    Example:  opp config remove lost_reasons timing
              opp config remove stages on-hold
    """
    from ..domain import settings_edit as keys

    def edit(settings):
        path = keys.parse_key(settings, key)
        new, removed = keys.remove(settings, path, value)
        return new, f"remove {keys.dotted(path)} {removed}"

    _change(state, "config-remove", edit)
