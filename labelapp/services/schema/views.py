"""The project schema as JSON-ready dicts, for the API and the project page."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from labelapp.models import Project, ProjectSchema
from labelapp.services.schema.names import type_of
from labelapp.services.schema.store import current_schema, import_checks, schema_versions


def version_json(version: ProjectSchema) -> dict[str, Any]:
    return {
        "version": version.version,
        "reason": version.reason,
        "import_id": version.import_id,
        "created_at": version.created_at.isoformat(),
        "schema": version.schema,
    }


def column_rows(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per column for a table: type, required, nullable, range, allowed values, length."""
    rows = []
    for name, column in schema.get("columns", {}).items():
        bounds = column.get("in_range") or {}
        length = column.get("str_length") or {}
        rows.append(
            {
                "name": name,
                "type": type_of(column),
                "required": column.get("required", True),
                "nullable": column.get("nullable", False),
                "min": bounds.get("min_value"),
                "max": bounds.get("max_value"),
                "allowed": column.get("isin"),
                "min_length": length.get("min_value"),
                "max_length": length.get("max_value"),
            }
        )
    return rows


def schema_overview(session: Session, project: Project) -> dict[str, Any]:
    """Current version, every version (without its body) and the latest import checks."""
    current = current_schema(session, project.id)
    return {
        "current": version_json(current) if current else None,
        "versions": [
            {k: v for k, v in version_json(s).items() if k != "schema"}
            for s in schema_versions(session, project.id)
        ],
        "checks": [
            {
                "import_id": c.import_id,
                "mode": c.mode,
                "checked_version": c.checked_version,
                "schema_version": c.schema_version,
                "problems": c.problems,
                "created_at": c.created_at.isoformat(),
            }
            for c in import_checks(session, project.id)
        ],
    }
