"""Labeling functions written in the browser (Python), renamed, deleted and compared."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from labelapp.api.schemas.common import INT32_MAX, Body, Out, Query, text
from labelapp.api.schemas.weak import LFName
from labelapp.services.lf_versions import MAX_SOURCE


class PythonSource(Body):
    source: text(MAX_SOURCE, 1) = Field(
        description="Python code defining one function decorated with @labeling_function()"
    )


class PythonSave(PythonSource):
    description: text(2000) = ""
    replace: bool = Field(
        False, description="true to save over an existing name as its next version"
    )


class ReplaceQuery(Query):
    replace: Annotated[int, Field(ge=0, le=1, description="1 saves over an existing name")] = 0


class RenameBody(Body):
    name: LFName


class CompareQuery(Query):
    other: Annotated[int, Field(ge=1, le=INT32_MAX, description="the id of the other version")]


class Rate(Out):
    value: float | None
    n: int
    low: float | None
    high: float | None
    headline: bool


class PythonHit(Out):
    item_id: int
    external_id: str
    text: str
    vote: str
    human: str | None


class PythonPreviewOut(Out):
    name: str
    n_items: int
    n_hits: int
    coverage: Rate
    accuracy: Rate
    hits: list[PythonHit]


class DeletedOut(Out):
    name: str
    versions: int
    votes_removed: int


class CompareOut(Out):
    name: str
    from_version: int
    to_version: int
    kind_changed: bool
    diff: list[str]
