"""The project schema, drift and slices over HTTP (issue 20)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from labelapp.api.schemas.common import Body, Out, Query, text


class ColumnLoosen(Body):
    """Loosen one column of the project schema (admins): a new schema version."""

    column: text(200, 1) = Field(description="the column ('$text' for the item text)")
    optional: bool | None = Field(None, description="true: the column may be missing")
    nullable: bool | None = Field(None, description="true: the column may hold nulls")
    min_value: float | None = Field(None, description="a lower minimum (numbers)")
    max_value: float | None = Field(None, description="a higher maximum (numbers; text length)")
    add_values: list[text(200, 1)] = Field([], max_length=100, description="allowed values to add")


class SchemaVersionOut(Out):
    version: int
    reason: str
    import_id: int | None
    created_at: str
    schema_: dict[str, Any] = Field(alias="schema")


class SchemaOut(Out):
    current: SchemaVersionOut | None
    versions: list[dict[str, Any]]
    checks: list[dict[str, Any]]


class DriftQuery(Query):
    a: text(300, 1) = Field(
        description="group A: import:FILENAME, version:N, split:NAME or COLUMN=VALUE"
    )
    b: text(300, 1) = Field(description="group B, as A")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    # When a difference counts as drift (labelapp.services.drift.rule); absent: the settings.
    alpha: float | None = Field(None, gt=0, lt=1, description="significance level (0.05)")
    min_auc: float | None = Field(
        None, ge=0.5, le=1, description="smallest domain AUC that is drift (0.556)"
    )
    min_ks: float | None = Field(None, ge=0, le=1, description="smallest KS distance (0.08)")
    min_v: float | None = Field(None, ge=0, le=1, description="smallest Cramér's V (0.1)")


class DriftOut(Out):
    a: int
    b: int
    domain_auc: float | None
    columns: dict[str, dict[str, Any]]
    labels: dict[str, Any]
    drifted: bool


class SliceQuery(Query):
    by: text(200) = Field("", description="metadata column; empty: per class only")


class SlicesOut(Out):
    by: str
    items: int
    human_labels: int
    model_accuracy: float | None
    slices: list[dict[str, Any]]
    classes: list[dict[str, Any]]
