"""The Products panel: catalog products under negotiation; the amount follows (R4-R6, R9-R10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .app import State, cli, note, pass_state
from .opportunities import amount_words, apply_change
from .params import DISCOUNT, MONEY, QUANTITY, SKU

if TYPE_CHECKING:
    from decimal import Decimal

    from ..model import Opportunity
    from ..store import Repo


def _line_words(qty: Decimal | None, price: Decimal | None, discount: Decimal | None) -> str:
    from ..money import money_str, plain

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
def add_product(state: State, ref: str, sku: str, qty: Decimal, price: Decimal | None,
                discount: Decimal) -> None:
    """Add a catalog product line; the amount becomes the products' total.

    \b
    Example:  opp add-product 4k7q SRV-01 --qty 2 --discount 10
    """
    from .. import rules
    from ..errors import NotFound

    typed = []  # a typed amount the first product replaces (R5): said, not silent

    def change(opp: Opportunity, repo: Repo) -> Opportunity:
        rules.require_module(repo.settings, "catalog")
        rules.ensure_open(opp, repo.settings, "change its products")
        if opp.amount_source == "manual" and opp.amount:
            typed.append(opp.amount)
        item = repo.catalog.find(sku)
        if item is None:
            skus = [p.sku for p in repo.catalog.products]
            raise NotFound(f"no product '{sku}' in the catalog{rules.near(sku, skus)}; only "
                           "catalog products can be added (R9); see: opp catalog list")
        return rules.add_product(opp, repo.settings, item, quantity=qty, unit_price=price,
                                 discount=discount)

    after = apply_change(state, ref, "add-product", change,
                         lambda b, a: f"add product {a.products[-1].sku}"
                                      + _line_words(qty, price, discount))
    sku_now = after.products[-1].sku
    if sum(p.sku == sku_now for p in after.products) > 1:
        note(f"note: {sku_now} is now on {after.id} more than once (a line each); to change "
             f"one line instead: opp update-product {after.id} LINE --qty N")
    replaced = ""
    if typed and len(after.products) == 1:
        from ..money import money_human

        replaced = f"; it replaces the typed {money_human(typed[0], after.currency)}"
    note(f"{after.id}: {amount_words(after)}{replaced}")


@cli.command("update-product")
@click.argument("ref", metavar="ID")
@click.argument("line", metavar="SKU|LINE")
@click.option("--qty", type=QUANTITY, help="New quantity.")
@click.option("--price", type=MONEY, help="New unit price.")
@click.option("--discount", type=DISCOUNT, help="New discount in percent, 0-100.")
@pass_state
def update_product(state: State, ref: str, line: str, qty: Decimal | None, price: Decimal | None,
                   discount: Decimal | None) -> None:
    """Change a product line's quantity, price or discount; the amount follows.

    The line is named by its SKU, or by its line id when the SKU is on several.

    \b
    Example:  opp update-product 4k7q SRV-01 --qty 3
    """
    from .. import rules
    from ..errors import UsageError

    if qty is None and price is None and discount is None:
        raise UsageError("nothing to change; give --qty, --price or --discount")

    def change(opp: Opportunity, repo: Repo) -> Opportunity:
        return rules.update_product(opp, repo.settings, line, quantity=qty, unit_price=price,
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
    from .. import rules

    def change(opp: Opportunity, repo: Repo) -> Opportunity:
        return rules.remove_product(opp, repo.settings, line)

    def describe(before: Opportunity, after: Opportunity) -> str:
        gone = next(p for p in before.products if p.id not in {q.id for q in after.products})
        return f"remove product {gone.sku}"

    after = apply_change(state, ref, "remove-product", change, describe)
    note(f"{after.id}: {amount_words(after)}")
