"""The review list, an item's history, corrections and batch actions (issue 15)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from labelapp.api.schemas.common import Body, Fraction, Id, LabelName, Note, Out, Query, text
from labelapp.services.review_names import MAX_PAGE_SIZE, MAX_REQUEUE_K, PAGE_SIZE, REVIEW_SORTS

ReviewSort = Literal[REVIEW_SORTS]  # type: ignore[valid-type]


class ReviewQuery(Query):
    """Filters (all optional), a sort and a keyset cursor."""

    label: text(80) = ""
    source: text(32) = Field(
        "",
        description="human, majority, adjudicated, corrected, gold, "
        "label_model, import, propagation, ...",
    )
    annotator: text(80) = Field("", description="a username: items they answered")
    min_confidence: Fraction | None = None
    max_confidence: Fraction | None = None
    disagreement: bool = False
    flagged: bool = False
    unlabeled: bool = False
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    sort: ReviewSort = "issue_score"
    order: Literal["desc", "asc"] = "desc"
    after: text(64) = Field("", description="next_after of the previous page")
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE


class ReviewRowOut(Out):
    item_id: int
    external_id: str
    labels: list[str] | None
    source: str | None
    confidence: float | None
    answers: list[dict[str, Any]]
    weak: dict[str, Any] | None
    prediction: dict[str, Any] | None
    issue: dict[str, Any] | None
    flags: list[dict[str, Any]]


class ReviewPageOut(Out):
    total: int = Field(description="items matching the filter, counted up to 10,000")
    total_exact: bool = Field(description="false: more than total items match")
    next_after: str | None
    items: list[ReviewRowOut]


class NewCorrection(Body):
    labels: Annotated[list[LabelName], Field(min_length=1, max_length=50)]
    reason: text(2000, 1) = Field(description="why the label was wrong (kept with it)")


class CorrectionOut(Out):
    id: int
    item_id: int
    labels: list[str]
    previous_labels: list[str] | None
    previous_source: str | None
    reason: str
    created_at: str


class ItemReviewOut(Out):
    item: ReviewRowOut
    history: list[dict[str, Any]]


class BatchAction(Body):
    """Items (the ids of a filtered list) and what to do with them."""

    item_ids: Annotated[list[Id], Field(min_length=1, max_length=10_000)]
    action: Literal["adjudicate", "requeue"]
    k: Annotated[int, Field(ge=1, le=MAX_REQUEUE_K)] = 1
    reason: Note = ""


class BatchResult(Out):
    action: str
    items: int
