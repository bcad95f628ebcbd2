"""Weak supervision: declarative labeling functions, their analysis, jobs and probabilistic
labels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, model_validator

from labelapp.api.schemas.common import INT32_MAX, Body, LabelName, Out, Query, ReportWait, text
from labelapp.api.schemas.learning import JobOut
from labelapp.services.weak.runs import PROB_SOURCES

LFName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$",
        description="1-100 letters, digits, '_', '.', '-', starting with a letter or '_'",
    ),
]
FieldName = text(200, 1)
Scalar = Annotated[str, Field(max_length=1000)] | int | float | bool


class _Spec(Body):
    name: LFName
    label: LabelName = Field(description="a label name of the project")
    description: text(2000) = ""


class KeywordSpec(_Spec):
    kind: Literal["keyword"]
    keywords: Annotated[list[text(1000, 1)], Field(min_length=1, max_length=1000)]
    case_sensitive: bool = False
    field: FieldName = "text"


class RegexSpec(_Spec):
    kind: Literal["regex"]
    pattern: text(2000, 1) = Field(description="a Python regular expression")
    ignore_case: bool = False
    field: FieldName = "text"


class MetadataSpec(_Spec):
    kind: Literal["metadata"]
    field: FieldName = Field(description="text, or a metadata key of the items")
    op: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"] = "=="
    value: Scalar | Annotated[list[Scalar], Field(max_length=1000)] = Field(
        description="a string, number or boolean; a list for in / not in"
    )


LFSpec = Annotated[KeywordSpec | RegexSpec | MetadataSpec, Field(discriminator="kind")]


class LFSpecBody(RootModel[LFSpec]):
    """A declarative labeling function: keyword, regex or metadata rule."""

    @model_validator(mode="before")
    @classmethod
    def _no_python(cls, value: Any) -> Any:
        if isinstance(value, dict) and value.get("kind") == "python":
            raise ValueError(
                "Python LFs are not accepted here: POST their code to "
                "/api/projects/{id}/lfs/python (it runs in the sandbox), or load a file with "
                "`labelapp lf load FILE.py`"
            )
        return value


class LFActive(Body):
    active: bool


class ProbLabelQuery(Query):
    source: Literal["", *PROB_SOURCES] = ""  # type: ignore[valid-type]
    limit: Annotated[int, Field(ge=1, le=10_000)] = 1000
    after: Annotated[
        int, Field(ge=0, le=INT32_MAX, description="the next_after of the last page")
    ] = 0


class LFOut(Out):
    id: int
    name: str
    kind: str
    spec: dict[str, Any]
    source: str | None
    description: str | None
    version: int
    active: bool
    author_id: int | None
    created_at: str


class LFList(Out):
    classes: list[str]
    lfs: list[LFOut]


class LFVersions(Out):
    versions: list[LFOut]


class PreviewHit(Out):
    item_id: int
    external_id: str
    text: str
    human: str | None


class PreviewOut(Out):
    spec: dict[str, Any]
    n_items: int
    n_hits: int
    coverage: float
    n_labeled_hits: int
    correct: int
    emp_accuracy: float | None
    hits: list[PreviewHit]


class AnalysisQuery(Query):
    wait: ReportWait = 20.0


class AnalysisOut(Out):
    classes: list[str]
    n_items: int
    n_labeled: int
    n_covered: int
    rows: list[dict[str, Any]]
    computed_at: str
    current: bool = Field(description="false: votes, LFs or labels changed; job computes anew")
    job: JobOut | None = None


class RunsOut(Out):
    latest: dict[str, dict[str, Any]]
    prob_labels: dict[str, int]


class ProbLabelPage(Out):
    classes: list[str]
    prob_labels: list[dict[str, Any]]
    next_after: int | None
