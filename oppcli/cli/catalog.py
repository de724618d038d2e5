"""``opp catalog``: the products opportunities may hold (R9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .app import State, cli, note, pass_state
from .output import emit_csv, emit_json, format_option, table
from .params import LINE, MONEY, SKU, WORD

if TYPE_CHECKING:
    from decimal import Decimal

    from ..model import Catalog, CatalogItem


@cli.group()
def catalog() -> None:
    """The product catalog: only its products can be added to an opportunity.

    \b
    Example:  opp catalog add SRV-01 --name "Support plan" --price 1200 && opp catalog list
    """


def _change_catalog(state: State, verb: str, words: str,
                    edit: Callable[[Catalog], tuple[Catalog, str]]) -> None:
    """Apply ``edit(catalog) -> (catalog, sku)`` under the lock, as one commit whose
    subject reads ``catalog: VERB SKU WORDS`` with the SKU as the catalog spells it;
    says so when nothing changed (and commits nothing)."""
    from ..rules import require_module
    from ..store import CATALOG_FILE, one_line

    repo = state.repo
    with repo.transaction() as tx:
        require_module(repo.settings, "catalog")
        tx.refuse_hand_edits([CATALOG_FILE])
        updated, sku = edit(repo.catalog)
        updated.products.sort(key=lambda p: p.sku.casefold())
        tx.save_model(CATALOG_FILE, updated)
        tx.subject = one_line(f"catalog: {verb} {sku} {words}".strip())
        tx.kind = f"catalog-{verb}"
    note(f"catalog: {verb} {sku}" if tx.writes else f"catalog: {sku}: nothing to change")


def _name_free(cat: Catalog, name: str, item: CatalogItem | None) -> None:
    """Two products never share a name, loosely compared ('GTX Pro', 'gtx-pro'): imports
    find products by name too ('opp catalog import' checks the same)."""
    from ..errors import RuleError
    from ..rules import loose_key

    key = loose_key(name)
    for other in cat.products:
        if other is not item and loose_key(other.name) == key:
            raise RuleError(f"product {other.sku} is named '{other.name}' already; give this "
                            "one another name, so that a name finds one product")


def _lookup(cat: Catalog, sku: str) -> CatalogItem:
    from ..errors import NotFound
    from ..rules import near

    item = cat.find(sku)
    if item is None:
        skus = [p.sku for p in cat.products]
        raise NotFound(f"no product '{sku}' in the catalog{near(sku, skus)}; "
                       "list them with: opp catalog list")
    return item


@catalog.command("add")
@click.argument("sku", type=SKU)
@click.option("--name", required=True, type=LINE, help="The product's name.")
@click.option("--price", required=True, type=MONEY, help="Unit price, e.g. 1200.00.")
@click.option("--unit", type=WORD, help="Unit of sale, e.g. pc, hour, licence.")
@pass_state
def catalog_add(state: State, sku: str, name: str, price: Decimal, unit: str | None) -> None:
    """Add a product to the catalog.

    \b
    Example:  opp catalog add SRV-01 --name "Support plan" --price 1200 --unit year
    """
    from ..errors import RuleError
    from ..model import Catalog, CatalogItem

    def edit(cat: Catalog) -> tuple[Catalog, str]:
        existing = cat.find(sku)
        if existing is not None:
            raise RuleError(f"SKU '{existing.sku}' is already in the catalog "
                            f"({existing.name}); change it with: opp catalog update {sku}")
        _name_free(cat, name, None)
        item = CatalogItem(sku=sku, name=name, price=price, unit=unit)
        return Catalog(products=[*cat.products, item]), sku

    _change_catalog(state, "add", name, edit)


@catalog.command("update")
@click.argument("sku", type=SKU)
@click.option("--name", type=LINE, help="A new name.")
@click.option("--price", type=MONEY, help="A new unit price (opportunities keep theirs).")
@click.option("--unit", type=WORD, help="A new unit of sale ('none' clears it).")
@pass_state
def catalog_update(state: State, sku: str, name: str | None, price: Decimal | None,
                   unit: str | None) -> None:
    """Change a catalog product. Lines already on opportunities keep their price.

    \b
    Example:  opp catalog update SRV-01 --price 1300
    """
    from ..errors import UsageError
    from ..model import Catalog

    changes: dict[str, Any] = {k: v for k, v in (("name", name), ("price", price), ("unit", unit))
               if v is not None}
    if not changes:
        raise UsageError("nothing to change; give --name, --price or --unit")
    if unit is not None and unit.lower() == "none":
        changes["unit"] = None

    def edit(cat: Catalog) -> tuple[Catalog, str]:
        item = _lookup(cat, sku)
        if name is not None:
            _name_free(cat, name, item)
        return Catalog(products=[p.model_copy(update=changes) if p is item else p
                                 for p in cat.products]), item.sku

    words = " ".join(f"{k}={'none' if v is None else v}" for k, v in changes.items())
    _change_catalog(state, "update", words, edit)


@catalog.command("remove")
@click.argument("sku", type=SKU)
@pass_state
def catalog_remove(state: State, sku: str) -> None:
    """Remove a product from the catalog. Opportunities keep the lines they have.

    \b
    Example:  opp catalog remove SRV-01
    """
    from ..model import Catalog

    def edit(cat: Catalog) -> tuple[Catalog, str]:
        item = _lookup(cat, sku)
        return Catalog(products=[p for p in cat.products if p is not item]), item.sku

    _change_catalog(state, "remove", "", edit)


@catalog.command("list")
@format_option("table", "json", "csv")
@pass_state
def catalog_list(state: State, fmt: str) -> None:
    """List the catalog's products.

    \b
    Example:  opp catalog list --format json
    """
    from ..money import money_human, money_str
    from ..rules import require_module

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
