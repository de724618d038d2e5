"""The speed index: opportunity files parsed once per git blob and kept in SQLite, so that
a report reads only the files that changed since the last one."""
