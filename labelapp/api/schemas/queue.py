"""The annotation loop: claims, answers, leases, progress."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from labelapp.api.schemas.common import (
    INT32_MAX,
    Body,
    ClientId,
    LabelName,
    Note,
    Out,
    Page,
    text,
)
from labelapp.api.schemas.projects import ItemOut

Labels = Annotated[list[LabelName], Field(max_length=200)]
ANNOTATION_KINDS = ("label", "skip", "retract", "adjudicate")


class Answer(Body):
    """A label (or a skip) for one item; ``client_id`` makes retries idempotent."""

    client_id: ClientId
    labels: Labels | None = None
    duration_ms: Annotated[int, Field(ge=0, le=24 * 3600 * 1000)] | None = None
    guideline_version: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    note: Note | None = None


class UndoRequest(Body):
    client_id: ClientId


class LeaseTicket(Body):
    """The ``lease_ticket`` the claim handed out (optional; other fields are ignored)."""

    model_config = ConfigDict(strict=True, extra="ignore")

    lease_ticket: Annotated[str, Field(pattern=r"^[0-9a-f]{1,64}$")] | None = None


class AnnotationQuery(Page):
    user: text(120) = Field("", description="only this user's rows")
    kind: Literal["", *ANNOTATION_KINDS] = ""  # type: ignore[valid-type]


class QueuedBy(Out):
    strategy: str | None
    score: float | None
    model_run_id: int | None


class ClaimOut(Out):
    item: ItemOut
    lease_expires_at: str
    lease_ticket: str | None = Field(None, description="send it back with each heartbeat")
    queued_by: QueuedBy


class AnnotationOut(Out):
    id: int
    item_id: int
    project_id: int
    user_id: int | None
    username: str | None
    source: str
    kind: str
    labels: list[str]
    client_id: str | None
    duration_ms: int | None
    guideline_version: int | None
    strategy: str | None
    model_run_id: int | None
    note: str | None
    created_at: str


class AnnotationPage(Out):
    total: int
    offset: int
    annotations: list[AnnotationOut]


class HeartbeatOut(Out):
    item_id: int
    lease_expires_at: str


class ReleaseOut(Out):
    item_id: int
    released: bool


class ProgressOut(Out):
    """Yours: done_today, done_total (items you labeled), answered_today (labels and skips),
    seconds_on_items_today, rate_per_hour, left_for_me (items you could still get),
    held_by_others (of those, open on other screens now). The project's: left_in_queue (labels
    still needed from anyone), labels_needed_total, leased_now."""

    done_today: int
    done_total: int
    left_in_queue: int
    leased_now: int
    left_for_me: int
    held_by_others: int
    labels_needed_total: int
    answered_today: int
    seconds_on_items_today: float
    rate_per_hour: float | None


class MyAnswersQuery(Page):
    q: text(200) = Field("", description="words in the item's text or its external id")
    label: text(80) = Field("", description="only answers that include this label")
    limit: Annotated[int, Field(ge=1, le=100)] = 20


class MyAnswerOut(Out):
    item: ItemOut
    annotation: AnnotationOut


class MyAnswerPage(Out):
    total: int
    offset: int
    answers: list[MyAnswerOut]
