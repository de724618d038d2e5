"""``opp catalog``: the products opportunities may hold (R9)."""

from __future__ import annotations

import click

from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option, table
from .params import LINE, MONEY, SKU, WORD


@cli.group()
def catalog() -> None:
    """The product catalog: only its products can be added to an opportunity.

    \b
    Example:  opp catalog add SRV-01 --name "Support plan" --price 1200 && opp catalog list
    """


def _change_catalog(state: State, verb: str, words: str, edit) -> None:
    """``edit(catalog) -> (catalog, sku)`` as one commit (``store.shared_files``)."""
    from ..store.shared_files import change_catalog

    sku, changed = change_catalog(state.repo, verb, words, edit)
    note(f"catalog: {verb} {sku}" if changed else f"catalog: {sku}: nothing to change")


@catalog.command("add")
@click.argument("sku", type=SKU)
@click.option("--name", required=True, type=LINE, help="The product's name.")
@click.option("--price", required=True, type=MONEY, help="Unit price, e.g. 1200.00.")
@click.option("--unit", type=WORD, help="Unit of sale, e.g. pc, hour, licence.")
@pass_state
def catalog_add(state: State, sku: str, name: str, price, unit: str | None) -> None:
    """Add a product to the catalog.

    \b
    Example:  opp catalog add SRV-01 --name "Support plan" --price 1200 --unit year
    """
    from ..domain import catalog as rules

    _change_catalog(state, "add", name, lambda cat: rules.add(cat, sku, name, price, unit))


@catalog.command("update")
@click.argument("sku", type=SKU)
@click.option("--name", type=LINE, help="A new name.")
@click.option("--price", type=MONEY, help="A new unit price (opportunities keep theirs).")
@click.option("--unit", type=WORD, help="A new unit of sale ('none' clears it).")
@pass_state
def catalog_update(state: State, sku: str, name, price, unit) -> None:
    """Change a catalog product. Lines already on opportunities keep their price.

    \b
    Example:  opp catalog update SRV-01 --price 1300
    """
    from ..domain import catalog as rules
    from ..errors import UsageError

    changes = {k: v for k, v in (("name", name), ("price", price), ("unit", unit))
               if v is not None}
    if not changes:
        raise UsageError("nothing to change; give --name, --price or --unit")
    if unit is not None and unit.lower() == "none":
        changes["unit"] = None

    words = " ".join(f"{k}={'none' if v is None else v}" for k, v in changes.items())
    _change_catalog(state, "update", words, lambda cat: rules.update(cat, sku, changes))


@catalog.command("remove")
@click.argument("sku", type=SKU)
@pass_state
def catalog_remove(state: State, sku: str) -> None:
    """Remove a product from the catalog. Opportunities keep the lines they have.

    \b
    Example:  opp catalog remove SRV-01
    """
    from ..domain import catalog as rules

    _change_catalog(state, "remove", "", lambda cat: rules.remove(cat, sku))


@catalog.command("list")
@format_option("table", "json", "csv")
@pass_state
def catalog_list(state: State, fmt: str) -> None:
    """List the catalog's products.

    \b
    Example:  opp catalog list --format json
    """
    from ..domain.money import money_human, money_str
    from ..domain.products import require_module

    repo = state.repo
    require_module(repo.settings, "catalog")
    items = repo.catalog.products
    rows = [{"sku": p.sku, "name": p.name, "price": money_str(p.price), "unit": p.unit}
            for p in items]
    if fmt == "json":
        emit_json(rows)
    elif fmt == "csv":
        emit_csv(rows, ["sku", "name", "price", "unit"])
    elif not items:
        note("the catalog is empty; add a product with: opp catalog add SKU --name NAME "
             "--price PRICE")
    else:
        currency = repo.settings.currency
        click.echo(table([[p.sku, p.name, money_human(p.price, currency), p.unit]
                          for p in items], ["sku", "name", "price", "unit"],
                         align=["left", "left", "right", "left"]))
