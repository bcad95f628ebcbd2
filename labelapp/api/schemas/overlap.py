"""Overlap for items already imported: the preview's query and the plan it answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from labelapp.api.schemas.common import Fraction, Out, Query


class OverlapQuery(Query):
    overlap_k: Annotated[int, Field(ge=1, le=50, description="annotators per overlap item")]
    overlap_share: Fraction = Field(description="share of the items that get overlap")


class OverlapPlanOut(Out):
    overlap_k: int
    overlap_share: float
    n_items: int
    n_overlap: int
    n_queued: int
    n_answers: int
    n_released: int
