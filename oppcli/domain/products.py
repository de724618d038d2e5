"""The Products panel (R4-R6, R9, R10): catalog products under negotiation, and the
amount that follows them: the amount is the products' total whenever there are any.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from ..errors import NotFound, RuleError, UsageError
from . import ids
from .model import Catalog, CatalogItem, Opportunity, ProductLine
from .money import MAX_MONEY, ZERO, cents, line_total, money_human
from .settings import Settings
from .stages import ensure_open, near


def find_line(lines: Sequence, ref: str, what: str, opp_id: str):
    """A line of a panel by its id (or a unique prefix of it), or by its SKU when that
    SKU is on one line only."""
    key = ref.strip().casefold()
    by_id = [line for line in lines if line.id == key]
    if by_id:
        return by_id[0]
    by_sku = [line for line in lines if line.sku and line.sku.casefold() == key]
    if len(by_sku) == 1:
        return by_sku[0]
    if len(by_sku) > 1:
        choices = ", ".join(line.id for line in by_sku)
        raise UsageError(f"SKU '{ref}' is on {len(by_sku)} {what} lines of {opp_id}; "
                         f"name one by its line id: {choices}")
    by_prefix = [line for line in lines if key and line.id.startswith(key)]
    if len(by_prefix) == 1:
        return by_prefix[0]
    have = ", ".join(f"{line.id} ({line.sku or 'manual'})" for line in lines) or "none"
    if by_prefix:
        raise UsageError(f"'{ref}' matches {len(by_prefix)} {what} lines of {opp_id}; type "
                         f"more of the line id: {have}")
    raise NotFound(f"no {what} line '{ref}' on {opp_id}; its lines are: {have}")


def bounded(value: Decimal, what: str) -> Decimal:
    """``value`` when opp can store it as money; otherwise a refusal naming the limit."""
    if value > MAX_MONEY:
        raise RuleError(f"{what} would be {money_human(value)}, more than the largest amount "
                        f"opp stores ({money_human(MAX_MONEY)}); lower the quantity or price")
    return value


def products_total(lines: Iterable) -> Decimal:
    """The sum of the rounded line totals (R10)."""
    return sum((line.total for line in lines), ZERO)


def with_products(opp: Opportunity, lines: list[ProductLine]) -> Opportunity:
    """R6: the amount follows the products; with none left it becomes typable again at 0."""
    if lines:
        return opp.model_copy(update={"products": lines,
                                      "amount": bounded(products_total(lines), "the amount"),
                                      "amount_source": "products"})
    return opp.model_copy(update={"products": [], "amount": ZERO, "amount_source": "manual"})


def require_module(settings: Settings, module: str) -> None:
    """R3: refuse a module's commands while the module is off, saying how to turn it on."""
    if not getattr(settings.modules, module):
        raise RuleError(f"the {module} module is off; turn it on by setting "
                        f"'{module}: true' under 'modules:' in opp.yaml")


def add_product(opp: Opportunity, settings: Settings, item: CatalogItem, *,
                quantity: Decimal = Decimal(1), unit_price: Decimal | None = None,
                discount: Decimal = Decimal(0), line_id: str | None = None) -> Opportunity:
    """R9-R10: a catalog product line; the amount becomes the products' total."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    if unit_price is None:
        if opp.currency != settings.currency:
            raise RuleError(f"catalog prices are in {settings.currency} and {opp.id} is in "
                            f"{opp.currency}; give the unit price with --price")
        unit_price = item.price
    line = ProductLine(id=line_id or ids.new_item_id({p.id for p in opp.products}),
                       sku=item.sku, name=item.name, quantity=quantity,
                       unit_price=cents(unit_price), discount=discount,
                       total=bounded(line_total(quantity, cents(unit_price), discount),
                                     "the line total"))
    return with_products(opp, [*opp.products, line])


def catalog_item(catalog: Catalog, sku: str, why: str) -> CatalogItem:
    """R9, R12: the catalog's product with this SKU; the refusal ends with ``why``."""
    item = catalog.find(sku)
    if item is None:
        skus = [p.sku for p in catalog.products]
        raise NotFound(f"no product '{sku}' in the catalog{near(sku, skus)}; {why}")
    return item


def add_catalog_product(opp: Opportunity, settings: Settings, catalog: Catalog, sku: str, *,
                        quantity: Decimal = Decimal(1), unit_price: Decimal | None = None,
                        discount: Decimal = Decimal(0)) -> Opportunity:
    """R9: add the catalog product ``sku``, checked in the order a person meets the rules:
    the module is on, the deal is open, the product is in the catalog."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    item = catalog_item(catalog, sku, "only catalog products can be added (R9); see: "
                                      "opp catalog list")
    return add_product(opp, settings, item, quantity=quantity, unit_price=unit_price,
                       discount=discount)


def replaced_amount(before: Opportunity, after: Opportunity) -> Decimal | None:
    """R5: the typed amount that a deal's first product replaced (said, never silently
    dropped), or None."""
    if before.amount_source == "manual" and before.amount and len(after.products) == 1:
        return before.amount
    return None


def update_product(opp: Opportunity, settings: Settings, ref: str, *,
                   quantity: Decimal | None = None, unit_price: Decimal | None = None,
                   discount: Decimal | None = None) -> Opportunity:
    """R6: change a product line's quantity, price or discount; the amount follows."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    line = find_line(opp.products, ref, "product", opp.id)
    quantity = line.quantity if quantity is None else quantity
    unit_price = line.unit_price if unit_price is None else cents(unit_price)
    discount = line.discount if discount is None else discount
    changed = line.model_copy(update={"quantity": quantity, "unit_price": unit_price,
                                      "discount": discount,
                                      "total": bounded(line_total(quantity, unit_price,
                                                                  discount), "the line total")})
    return with_products(opp, [changed if p.id == line.id else p for p in opp.products])


def remove_product(opp: Opportunity, settings: Settings, ref: str) -> Opportunity:
    """R6: remove a product line; the amount follows."""
    require_module(settings, "catalog")
    ensure_open(opp, settings, "change its products")
    line = find_line(opp.products, ref, "product", opp.id)
    return with_products(opp, [p for p in opp.products if p.id != line.id])
