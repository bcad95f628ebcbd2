"""An admin loosens the project schema: widen a range, allow a value, make a column optional.

Each edit is a new version (reason ``edited``); tightening is refused, since items already
stored passed the looser rule."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Project, ProjectSchema, User
from labelapp.services.errors import NotFound, UserError
from labelapp.services.schema.store import current_schema, next_version


@dataclass
class ColumnEdit:
    """What to loosen in one column (None: leave as it is)."""

    column: str
    optional: bool | None = None
    nullable: bool | None = None
    min_value: float | None = None
    max_value: float | None = None
    add_values: list[str] = field(default_factory=list)


def edit_schema(
    session: Session, project: Project, edit: ColumnEdit, user: User | None
) -> ProjectSchema:
    """Store the loosened schema as the next version and commit."""
    from labelapp.services.schema.infer import to_pandera

    ensure_write_lock(session)
    current = current_schema(session, project.id)
    if current is None:
        raise NotFound(f"project {project.name!r} has no schema yet: its first import infers it")
    schema = deepcopy(current.schema)
    column = schema["columns"].get(edit.column)
    if column is None:
        raise NotFound(
            f"the schema has no column {edit.column!r}; its columns are "
            f"{', '.join(schema['columns'])}"
        )
    _loosen(column, edit)
    if column == current.schema["columns"][edit.column]:
        raise UserError(
            f"nothing to change in column {edit.column!r}: give a wider range, "
            "a new allowed value, or make it optional or nullable"
        )
    to_pandera(schema)  # a schema pandera cannot read is never stored
    version = ProjectSchema(
        project_id=project.id,
        version=next_version(session, project.id),
        schema=schema,
        reason="edited",
        created_by_id=user.id if user else None,
    )
    session.add(version)
    session.commit()
    return version


def _loosen(column: dict[str, Any], edit: ColumnEdit) -> None:
    if edit.optional:
        column["required"] = False
    if edit.nullable:
        column["nullable"] = True
    if edit.max_value is not None and "in_range" not in column and "str_length" in column:
        _longer(column, edit)
    elif edit.min_value is not None or edit.max_value is not None:
        bounds = column.get("in_range")
        if bounds is None:
            raise UserError(f"column {edit.column!r} has no range to widen")
        low = bounds["min_value"] if edit.min_value is None else edit.min_value
        high = bounds["max_value"] if edit.max_value is None else edit.max_value
        if low > bounds["min_value"] or high < bounds["max_value"]:
            raise UserError(
                f"the range of {edit.column!r} can only be widened (it is {bounds['min_value']} "
                f"to {bounds['max_value']}); give a minimum at or below it and a maximum at or "
                "above"
            )
        if column.get("dtype") == "Int64" and (low != int(low) or high != int(high)):
            raise UserError(f"column {edit.column!r} holds whole numbers: give whole bounds")
        cast = int if column.get("dtype") == "Int64" else float
        column["in_range"] = {**bounds, "min_value": cast(low), "max_value": cast(high)}
    added = [v.strip() for v in edit.add_values if v.strip()]
    if added:
        if "isin" not in column:
            raise UserError(f"column {edit.column!r} has no set of allowed values to extend")
        column["isin"] = sorted(set(column["isin"]) | set(added))


def _longer(column: dict[str, Any], edit: ColumnEdit) -> None:
    """A higher maximum text length (``max_value``)."""
    length = column["str_length"]
    if length.get("max_value") is not None and edit.max_value < length["max_value"]:
        raise UserError(
            f"the maximum length of {edit.column!r} can only be raised (it is "
            f"{length['max_value']})"
        )
    column["str_length"] = {**length, "max_value": int(edit.max_value)}
