"""Active learning: settings, jobs, model runs; exports; agreement and adjudication."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from labelapp.api.schemas.common import (
    INT32_MAX,
    Body,
    ClientId,
    Fraction,
    LabelName,
    LongText,
    Out,
    Page,
    Query,
    ReportWait,
    text,
)
from labelapp.models.projects import QUEUE_ORDERS
from labelapp.services.adjudication import MAX_REASON
from labelapp.services.export import FORMATS


def _strategies() -> tuple[str, ...]:
    from active_learning.names import STRATEGY_NAMES

    return STRATEGY_NAMES


def _featurizers() -> tuple[str, ...]:
    from active_learning.names import FEATURIZER_NAMES

    return FEATURIZER_NAMES


class ProjectSettings(Body):
    """Settings an admin may change; only those sent change."""

    # Absent means unchanged; null is not a value of any setting.
    strategy: Literal[_strategies()] = None  # type: ignore[valid-type]
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = None  # type: ignore[assignment]
    retrain_every: Annotated[int, Field(ge=0, le=1_000_000)] = None  # type: ignore[assignment]
    lease_seconds: Annotated[int, Field(ge=10, le=86_400)] = None  # type: ignore[assignment]
    queue_order: Literal[QUEUE_ORDERS] = None  # type: ignore[valid-type]
    overlap_k: Annotated[int, Field(ge=1, le=50)] = None  # type: ignore[assignment]
    overlap_share: Fraction = None  # type: ignore[assignment]
    gold_rate: Fraction = None  # type: ignore[assignment]
    description: text(5000) = None  # type: ignore[valid-type]
    featurizer: Literal[_featurizers()] = None  # type: ignore[valid-type]
    embedding_max_items: Annotated[int, Field(ge=0, le=10_000_000)] = None  # type: ignore[assignment]
    flips_keep_label: bool = Field(
        None,
        description="image projects: a horizontal flip keeps the "
        "label (false for digits, text in images)",
    )  # type: ignore[assignment]


class JobOut(Out):
    id: int
    project_id: int | None
    kind: str
    status: str
    progress: float | None
    message: str | None
    error: str | None
    result: Any = None
    created_at: str
    started_at: str | None
    finished_at: str | None


class ModelRunOut(Out):
    id: int
    strategy: str | None
    featurizer: str | None
    estimator: str | None
    n_train: int | None
    metrics: Any = None
    job_id: int | None
    created_at: str


class ModelRunList(Out):
    model_runs: list[ModelRunOut]


class LearningSentences(Out):
    now: str = Field(description="the strategy and batch size")
    queue: str = Field(description="which model run ordered the queue, and how the rest is ordered")
    next_retrain: str = Field(description="the running retrain, or when the next one starts")


class LearningOut(Out):
    """The active-learning card's story (GET /api/projects/{id}/learning)."""

    strategy: str
    queue_run_id: int | None
    scored_items: int
    labels_since_run: int | None
    labels_to_next_retrain: int | None
    job_id: int | None
    sentences: LearningSentences


# --- exports ---------------------------------------------------------------------------------


class ExportStart(Body):
    format: Literal[FORMATS]  # type: ignore[valid-type]
    seed: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0
    ratios: Annotated[list[Fraction], Field(min_length=3, max_length=3)] = [0.8, 0.1, 0.1]
    min_confidence: Fraction = 0.9
    resplit: bool = False
    include_unlabeled: bool = Field(
        False,
        description="also write unlabeled.<ext>: items without an exported label, with "
        "their weak label or model prediction and confidence",
    )
    augment: text(100_000) | dict[str, Any] | None = Field(
        None,
        description="a shipped pipeline name, 'text', or a plan object (albumentations "
        "to_dict, or {'text': {...}})",
    )
    copies: Annotated[int, Field(ge=1, le=20)] | None = None


class ExportDiffQuery(Query):
    old: Annotated[int, Field(ge=1, le=INT32_MAX)]
    new: Annotated[int, Field(ge=1, le=INT32_MAX)]


class ExportVersionOut(Out):
    version: int
    format: str
    created_at: str


class ExportVersionList(Out):
    versions: list[ExportVersionOut]


class ExportManifestOut(ExportVersionOut):
    manifest: dict[str, Any]


class ExportDiffOut(Out):
    versions: list[int]
    items: dict[str, Any]


# --- agreement and adjudication ----------------------------------------------------------------

Flag = Literal["", "0", "1", "true", "false", "yes", "no", "on", "off"]


class AgreementQuery(Query):
    n_resamples: Annotated[int, Field(ge=0, le=10_000)] = 1000
    min_confidence: Fraction | None = Field(
        None, description="also flag items whose Dawid-Skene confidence is below this"
    )
    model: Flag = Field("1", description="0 skips the model comparison (faster)")
    max_disagreements: Annotated[int, Field(ge=0, le=10_000)] = 50
    wait: ReportWait = 20.0


class BacklogQuery(Page):
    limit: Annotated[int, Field(ge=1, le=1000)] = 50
    min_confidence: Fraction | None = Field(
        None, description="also list items whose Dawid-Skene confidence is below this"
    )
    include_ambiguous: Flag = Field("0", description="1 also lists items answered 'ambiguous'")
    wait: ReportWait = 20.0


class Adjudication(Body):
    labels: Annotated[list[LabelName], Field(min_length=1, max_length=200)]
    reason: text(MAX_REASON, 1)
    client_id: ClientId


class GuidelinesBody(Body):
    body: LongText = Field(description="Markdown")


class GuidelineOut(Out):
    version: int
    body: str
    author_id: int | None
    created_at: str


class GuidelineList(Out):
    guidelines: list[GuidelineOut]


class AgreementOut(Out):
    project_id: int
    computed_at: str
    retired_labels: list[str] = Field(
        default_factory=list,
        description="labels no longer offered: their answers still count and are in per_label",
    )
    current: bool = Field(description="false: answers came in since; job computes a new one")
    job: JobOut | None = None


class BacklogEntryOut(Out):
    item_id: int
    reason: str | None
    answers: list[dict[str, Any]]
    item: dict[str, Any]


class BacklogPage(Out):
    total: int
    offset: int
    entries: list[BacklogEntryOut]
    computed_at: str | None = Field(None, description="of the report the backlog comes from")
    current: bool = True
    job: JobOut | None = None
