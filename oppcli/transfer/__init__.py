"""Import and export: CSV sheets read and mapped onto opportunities and the catalog, all
or nothing; every opportunity written back as rows."""
