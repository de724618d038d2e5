"""Import and export: sheets read and mapped onto opportunities and the catalog, all
or nothing; every opportunity written back as rows. Pure: the command line hands over
the bytes and the repo's data, and stores what comes back.

The package's API, by module: ``sheet`` (CSV in and out), ``columns`` (mapping
headers onto fields), ``plan`` (an import of opportunities), ``catalog`` (an import
of products).
"""

from .catalog import (
    CatalogPlan,
    plan_catalog_import,
)
from .columns import (
    ALIASES,
    CATALOG_ALIASES,
    CATALOG_FIELDS,
    OPPORTUNITY_FIELDS,
    REQUIRED_TO_CREATE,
    ColumnMap,
    find_column,
    map_columns,
    option_form,
    parse_stage_map,
    render_default,
    split_pair,
)
from .plan import (
    SKU_PATTERN,
    Entry,
    ImportPlan,
    Lookup,
    RowError,
    create_opportunity,
    derive_sku,
    export_row,
    one_line,
    parse_day,
    parse_value,
    plan_import,
    single_product,
    update_opportunity,
)
from .sheet import (
    Table,
    csv_text,
    guard_cell,
    header_key,
    read_csv,
    unguard_cell,
)

__all__ = [
    "ALIASES",
    "CATALOG_ALIASES",
    "CATALOG_FIELDS",
    "OPPORTUNITY_FIELDS",
    "REQUIRED_TO_CREATE",
    "SKU_PATTERN",
    "CatalogPlan",
    "ColumnMap",
    "Entry",
    "ImportPlan",
    "Lookup",
    "RowError",
    "Table",
    "create_opportunity",
    "csv_text",
    "derive_sku",
    "export_row",
    "find_column",
    "guard_cell",
    "header_key",
    "map_columns",
    "one_line",
    "option_form",
    "parse_day",
    "parse_stage_map",
    "parse_value",
    "plan_catalog_import",
    "plan_import",
    "read_csv",
    "render_default",
    "single_product",
    "split_pair",
    "unguard_cell",
    "update_opportunity",
]
