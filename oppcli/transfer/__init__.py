"""Import and export: sheets read and mapped onto opportunities and the catalog, all
or nothing; every opportunity written back as rows. Pure, but for two modules: the
plans take the repo's data and give what to store; ``imports`` (``opp import``, ``opp
catalog import``) and ``accounts`` (``opp account import``) run a plan and store it in
one commit, and are imported by their commands alone.

The package's API, by module: ``sheet`` (CSV in and out), ``workbook`` (xlsx in and
out), ``reading`` (numbers and dates of a locale), ``columns`` (mapping headers onto
fields), ``profiles`` (saved and built-in import settings), ``plan`` (an import of
opportunities), ``catalog`` (an import of products).
"""

from .catalog import (
    CatalogEntry,
    CatalogPlan,
    plan_catalog_import,
)
from .columns import (
    ALIASES,
    CATALOG_ALIASES,
    CATALOG_FALLBACKS,
    CATALOG_FIELDS,
    OPPORTUNITY_FIELDS,
    REQUIRED_TO_CREATE,
    ColumnMap,
    below_title,
    find_column,
    map_columns,
    map_sheet,
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
    parse_value,
    plan_import,
    single_product,
    update_opportunity,
)
from .profiles import (
    Profile,
    available,
    find_profile,
    profile_table,
    reading_for,
    with_options,
)
from .reading import Reading, check_date_format, parse_day
from .sheet import (
    Cell,
    Table,
    cell_text,
    check_delimiter,
    csv_text,
    decode,
    drop_footer,
    guard_cell,
    header_key,
    read_csv,
    unguard_cell,
)
from .workbook import is_xlsx, read_sheet, read_xlsx, xlsx_bytes

__all__ = [
    "ALIASES",
    "CATALOG_ALIASES",
    "CATALOG_FALLBACKS",
    "CATALOG_FIELDS",
    "OPPORTUNITY_FIELDS",
    "REQUIRED_TO_CREATE",
    "SKU_PATTERN",
    "CatalogEntry",
    "CatalogPlan",
    "Cell",
    "ColumnMap",
    "Entry",
    "ImportPlan",
    "Lookup",
    "Profile",
    "Reading",
    "RowError",
    "Table",
    "available",
    "below_title",
    "cell_text",
    "check_date_format",
    "check_delimiter",
    "create_opportunity",
    "csv_text",
    "decode",
    "derive_sku",
    "drop_footer",
    "export_row",
    "find_column",
    "find_profile",
    "guard_cell",
    "header_key",
    "is_xlsx",
    "map_columns",
    "map_sheet",
    "one_line",
    "option_form",
    "parse_day",
    "parse_stage_map",
    "parse_value",
    "plan_catalog_import",
    "plan_import",
    "profile_table",
    "read_csv",
    "read_sheet",
    "read_xlsx",
    "reading_for",
    "render_default",
    "single_product",
    "split_pair",
    "unguard_cell",
    "update_opportunity",
    "with_options",
    "xlsx_bytes",
]
