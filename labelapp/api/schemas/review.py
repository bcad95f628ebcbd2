"""Flags on items: an annotator's flag, the reviewers' list, a resolution."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from labelapp.api.schemas.common import Body, ClientId, Note, Out, Page, text
from labelapp.models.review import FLAG_REASONS

FlagReason = Literal[FLAG_REASONS]  # type: ignore[valid-type]


class NewFlag(Body):
    """Flag an item for a reviewer; ``client_id`` makes retries idempotent."""

    reason: FlagReason = Field(description="unclear_guideline, broken_item, offensive or other")
    comment: Note = ""
    client_id: ClientId


class Resolution(Body):
    resolution: text(2000, 1) = Field(description="what was done about it")


class FlagQuery(Page):
    state: Literal["open", "all"] = "open"


class FlagOut(Out):
    id: int
    item_id: int
    reason: str
    comment: str
    created_at: str
    resolved_at: str | None


class FlagPage(Out):
    total: int
    offset: int
    flags: list[FlagOut]


class IssueQuery(Page):
    flagged: bool = Field(True, description="only the labels the scan flagged (false: all)")


class IssueOut(Out):
    item_id: int
    external_id: str
    label: str
    suggested: str
    score: float
    flagged: bool
    reasons: list[str]


class IssuePage(Out):
    run: dict | None = Field(description="the latest scan: id, when, scored, flagged")
    total: int
    offset: int
    issues: list[IssueOut]
