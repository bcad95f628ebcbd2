"""A project's item schema (pandera): inferred from the first import, checked on every later
one before anything is stored, evolved on request, loosened by admins."""

from labelapp.services.schema.names import DEFAULT_SCHEMA_MODE, SCHEMA_MODES
from labelapp.services.schema.store import (
    SchemaReport,
    check_import,
    current_schema,
    import_checks,
    record_check,
    report_lines,
    schema_versions,
)

__all__ = [
    "DEFAULT_SCHEMA_MODE",
    "SCHEMA_MODES",
    "SchemaReport",
    "check_import",
    "current_schema",
    "import_checks",
    "record_check",
    "report_lines",
    "schema_versions",
]
