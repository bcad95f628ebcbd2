"""Projects, members, items, imports and who is asking."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from labelapp.api.schemas.common import (
    Body,
    LabelName,
    LongText,
    Name,
    Out,
    Query,
    text,
)
from labelapp.models.projects import QUEUE_ORDERS, TASK_TYPES

Hotkey = text(8, 1)


class ProjectCreate(Body):
    """A new project and its ordered label set (admin)."""

    name: Name
    labels: Annotated[list[LabelName], Field(min_length=1, max_length=200)]
    task_type: Literal[TASK_TYPES] = "text"  # type: ignore[valid-type]
    multi_label: bool = False
    allow_ambiguous: bool = False
    hotkeys: Annotated[list[Hotkey], Field(max_length=200)] | None = None
    description: text(5000) = ""
    guidelines: LongText = ""
    overlap_k: Annotated[int, Field(ge=1, le=50)] = 1
    queue_order: Literal[QUEUE_ORDERS] = "import"  # type: ignore[valid-type]
    lease_seconds: Annotated[int, Field(ge=10, le=86_400)] = 600


class MemberAdd(Body):
    username: Name


class LabelOut(Out):
    name: str
    hotkey: str
    ambiguous: bool


class ProjectOut(Out):
    id: int
    name: str
    description: str
    task_type: str
    multi_label: bool
    labels: list[str]
    label_set: list[LabelOut]
    overlap_k: int
    overlap_share: float
    gold_rate: float
    strategy: str
    featurizer: str
    embedding_max_items: int
    batch_size: int
    retrain_every: int
    lease_seconds: int
    queue_order: str
    created_at: str
    flips_keep_label: bool = Field(
        True, description="image projects: a horizontal flip keeps the label"
    )


class ProjectList(Out):
    projects: list[ProjectOut]


class UserOut(Out):
    id: int
    username: str
    display_name: str | None
    role: str


class WhoAmIOut(UserOut):
    project_roles: dict[str, str] = Field(
        description="your role in each project you see, by project id (admins: admin in all)"
    )


class MemberOut(Out):
    project_id: int
    role: str = Field(description="the member's role in this project")
    user: UserOut


class ItemOut(Out):
    id: int
    project_id: int
    external_id: str
    meta: Any = None
    group_key: str | None
    split: str | None
    text: str | None = Field(None, description="text items")
    image_url: str | None = Field(None, description="image items")


class ItemPage(Out):
    total: int
    offset: int
    items: list[ItemOut]


class ImportOut(Out):
    id: int
    filename: str
    format: str
    label_source: str | None
    rows: int
    items_created: int
    items_existing: int
    annotations_created: int
    created_at: str


class ImportList(Out):
    imports: list[ImportOut]


class ImportForm(Query):
    """A multipart upload: the file and what its columns mean."""

    file: Any = Field(json_schema_extra={"type": "string", "format": "binary"})
    text_col: text(200) = ""
    id_col: text(200) = ""
    label_col: text(200) = ""
    label_kind: Literal["", "human", "weak"] = Field(
        "", description="what the labels are: human (default; any split) or weak (train only)"
    )
    confidence_col: text(200) = Field("", description="weak labels: their confidence column (0-1)")
    label_source: text(80) = Field("", description="deprecated: use label_kind")
    group_col: text(200) = ""
    format: Literal["", "csv", "tsv", "jsonl", "parquet"] = ""
    folder_labels: Literal["", "0", "1", "true", "false", "on", "off", "yes", "no"] = Field(
        "", description="image zips: the folder names are the labels"
    )
    schema_mode: Literal["", "strict", "evolve"] = Field(
        "",
        alias="schema",
        description="against the project schema: strict (default) refuses "
        "another type, a missing column, empty strings against nulls; evolve accepts a new version",
    )
    dry_run: Literal["", "0", "1", "true", "false", "on", "off", "yes", "no"] = Field(
        "", description="check every row and report what the import would do; store nothing"
    )


class Health(Out):
    status: str
    schema_version: str | None
    version: str
