"""The product catalog (R9): only its products can be added to an opportunity. A SKU is
there once, and two products never share a name, loosely compared ('GTX Pro',
'gtx-pro'), so that an import finding products by name finds one.
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import NotFound, RuleError
from .model import Catalog, CatalogItem
from .stages import loose_key, near


def ensure_name_free(catalog: Catalog, name: str, item: CatalogItem | None) -> None:
    """Refuse ``name`` when another product than ``item`` has it, loosely."""
    key = loose_key(name)
    for other in catalog.products:
        if other is not item and loose_key(other.name) == key:
            raise RuleError(f"product {other.sku} is named '{other.name}' already; give this "
                            "one another name, so that a name finds one product")


def find(catalog: Catalog, sku: str) -> CatalogItem:
    """The product with this SKU (case-insensitive); refuses an unknown one."""
    item = catalog.find(sku)
    if item is None:
        skus = [p.sku for p in catalog.products]
        raise NotFound(f"no product '{sku}' in the catalog{near(sku, skus)}; "
                       "list them with: opp catalog list")
    return item


def sorted_catalog(products: list[CatalogItem]) -> Catalog:
    """The catalog as it is stored: products by SKU, case-insensitive."""
    return Catalog(products=sorted(products, key=lambda p: p.sku.casefold()))


def add(catalog: Catalog, sku: str, name: str, price: Decimal, unit: str | None
        ) -> tuple[Catalog, str]:
    """A new product; returns the catalog and its SKU."""
    existing = catalog.find(sku)
    if existing is not None:
        raise RuleError(f"SKU '{existing.sku}' is already in the catalog "
                        f"({existing.name}); change it with: opp catalog update {sku}")
    ensure_name_free(catalog, name, None)
    item = CatalogItem(sku=sku, name=name, price=price, unit=unit)
    return sorted_catalog([*catalog.products, item]), sku


def update(catalog: Catalog, sku: str, changes: dict[str, object]) -> tuple[Catalog, str]:
    """A product's name, price or unit changed (lines on opportunities keep theirs);
    returns the catalog and the SKU as the catalog spells it."""
    item = find(catalog, sku)
    name = changes.get("name")
    if isinstance(name, str):
        ensure_name_free(catalog, name, item)
    return sorted_catalog([p.model_copy(update=changes) if p is item else p
                           for p in catalog.products]), item.sku


def remove(catalog: Catalog, sku: str) -> tuple[Catalog, str]:
    """A product removed (opportunities keep the lines they have)."""
    item = find(catalog, sku)
    return sorted_catalog([p for p in catalog.products if p is not item]), item.sku
