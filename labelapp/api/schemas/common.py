"""Shared field types of the API's request and response schemas: bounded, NUL-free strings, ids and
numbers that fit the database's columns, paging, and the error body every 4xx answer carries."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

INT32_MAX = 2**31 - 1  # PostgreSQL ``integer``: ids, versions and counts stored in one
MAX_PAGE = 1000
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _clean_text(value: str) -> str:
    """Refuse what no database column stores: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters (\\u0000): remove them")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode (a lone surrogate): send UTF-8 text") from None
    return value


def text(max_length: int, min_length: int = 0) -> Any:
    """A string of ``min_length``-``max_length`` characters with no NUL (a type for
    ``Annotated``)."""
    return Annotated[
        str,
        Field(
            min_length=min_length,
            max_length=max_length,
            json_schema_extra={"pattern": NO_NUL_PATTERN},
        ),
        AfterValidator(_clean_text),
    ]


Name = text(120, 1)
ShortText = text(200)
ClientId = text(64, 1)
LabelName = text(80, 1)
Note = text(2000)
LongText = text(100_000)
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
Int32 = Annotated[int, Field(ge=0, le=INT32_MAX)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
# Reports a job computes in a worker (labelapp.services.job_reports): how long a request waits.
ReportWait = Annotated[
    float,
    Field(
        ge=0,
        le=120,
        description="seconds to wait for a report that must be computed first; after that, the "
        "last report (with current: false) or, if there is none, 202 and the job computing it",
    ),
]


class Body(BaseModel):
    """A JSON request body: exact types (no "5" for 5), unknown fields refused by name."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """A query string: values arrive as text and are converted; unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class Out(BaseModel):
    """A response body: the fields listed are always there; others may be added."""

    model_config = ConfigDict(extra="allow")


class Page(Query):
    offset: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 100


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: invalid, not_found, forbidden, ...")
    message: str = Field(description="what went wrong and how to fix it")
    details: list[str] = Field(description="one line per problem, e.g. 'labels[0]: ...'")


class ErrorBody(BaseModel):
    """Every 4xx answer of the API."""

    error: ErrorDetail
