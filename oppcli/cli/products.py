"""The Products panel: catalog products under negotiation; the amount follows (R4-R6, R9-R10)."""

from __future__ import annotations

import click

from ..store.repo import Repo
from .app import State, cli, note, pass_state
from .opportunities import amount_words, apply_change, changing
from .params import DISCOUNT, MONEY, QUANTITY, SKU


def _line_words(qty, price, discount) -> str:
    from ..domain.money import money_str, plain

    words = f" x{plain(qty)}" if qty is not None else ""
    if price is not None:
        words += f" at {money_str(price)}"
    if discount is not None and discount:
        words += f" -{plain(discount)}%"
    return words


@cli.command("add-product")
@click.argument("ref", metavar="ID")
@click.argument("sku", type=SKU)
@click.option("--qty", type=QUANTITY, default="1", show_default=True, help="Quantity.")
@click.option("--price", type=MONEY, help="Unit price (default: the catalog price).")
@click.option("--discount", type=DISCOUNT, default="0", show_default=True,
              help="Discount in percent, 0-100.")
@pass_state
def add_product(state: State, ref: str, sku: str, qty, price, discount) -> None:
    """Add a catalog product line; the amount becomes the products' total.

    \b
    Example:  opp add-product 4k7q SRV-01 --qty 2 --discount 10
    """
    repo = state.repo
    with changing(state, ref, "add-product") as tx:
        from ..domain import products  # here: the models load first, while git answers

        before = tx.opportunity
        after = tx.opportunity = products.add_catalog_product(
            before, repo.settings, repo.catalog, sku, quantity=qty, unit_price=price,
            discount=discount)
        tx.action = f"add product {after.products[-1].sku}" + _line_words(qty, price, discount)
    sku_now = after.products[-1].sku
    if sum(p.sku == sku_now for p in after.products) > 1:
        note(f"note: {sku_now} is now on {after.id} more than once (a line each); to change "
             f"one line instead: opp update-product {after.id} LINE --qty N")
    replaced = ""
    typed = products.replaced_amount(before, after)
    if typed is not None:
        from ..domain.money import money_human

        replaced = f"; it replaces the typed {money_human(typed, after.currency)}"
    note(f"{after.id}: {amount_words(after)}{replaced}")


@cli.command("update-product")
@click.argument("ref", metavar="ID")
@click.argument("line", metavar="SKU|LINE")
@click.option("--qty", type=QUANTITY, help="New quantity.")
@click.option("--price", type=MONEY, help="New unit price.")
@click.option("--discount", type=DISCOUNT, help="New discount in percent, 0-100.")
@pass_state
def update_product(state: State, ref: str, line: str, qty, price, discount) -> None:
    """Change a product line's quantity, price or discount; the amount follows.

    The line is named by its SKU, or by its line id when the SKU is on several.

    \b
    Example:  opp update-product 4k7q SRV-01 --qty 3
    """
    from ..domain import products
    from ..errors import UsageError

    if qty is None and price is None and discount is None:
        raise UsageError("nothing to change; give --qty, --price or --discount")

    def change(opp, repo: Repo):
        return products.update_product(opp, repo.settings, line, quantity=qty, unit_price=price,
                                    discount=discount)

    after = apply_change(state, ref, "update-product", change,
                         lambda b, a: f"update product {line}"
                                      + _line_words(qty, price, discount))
    note(f"{after.id}: {amount_words(after)}")


@cli.command("remove-product")
@click.argument("ref", metavar="ID")
@click.argument("line", metavar="SKU|LINE")
@pass_state
def remove_product(state: State, ref: str, line: str) -> None:
    """Remove a product line; the amount follows (0.00 and typable again when none is left).

    \b
    Example:  opp remove-product 4k7q SRV-01
    """
    from ..domain import products

    def change(opp, repo: Repo):
        return products.remove_product(opp, repo.settings, line)

    def describe(before, after) -> str:
        gone = next(p for p in before.products if p.id not in {q.id for q in after.products})
        return f"remove product {gone.sku}"

    after = apply_change(state, ref, "remove-product", change, describe)
    note(f"{after.id}: {amount_words(after)}")
