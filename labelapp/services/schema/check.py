"""Check an import's columns against a project schema: every problem per column, with counts
and the first rows, so the admin can fix the file or accept it as the schema's next version."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelapp.services.schema.infer import to_pandera
from labelapp.services.schema.kinds import ACCEPTS, typed_values, value_kinds
from labelapp.services.schema.names import (
    BLOCKING,
    IMAGE_COLUMNS,
    IMAGE_MODE_COLUMN,
    IMAGE_SIZE_COLUMNS,
    PROBLEM_KINDS,
    TEXT_COLUMN,
    type_of,
)

FIRST_ROWS = 5


@dataclass
class Problem:
    """One kind of problem in one column: how many rows, the first of them, an example."""

    column: str
    kind: str
    count: int
    rows: list[int] = field(default_factory=list)  # 0-based data rows
    message: str = ""

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "blocking": self.blocking}


def check_frame(schema: dict[str, Any], frame: pd.DataFrame, text_file: bool) -> list[Problem]:
    """Every problem of ``frame`` (RangeIndex) against ``schema``, column by column."""
    declared = schema.get("columns", {})
    problems = [
        Problem(
            name,
            "missing_column",
            len(frame),
            [],
            f"column {name!r} ({type_of(spec)}) is missing from the file",
        )
        for name, spec in declared.items()
        if name not in frame.columns and spec.get("required", True)
    ]
    if schema.get("strict", True):
        for name in frame.columns:
            if name not in declared:
                filled = np.flatnonzero(value_kinds(frame[name], text_file) != "null")
                problems.append(
                    Problem(
                        name,
                        "new_column",
                        len(filled),
                        _first(filled),
                        f"column {name!r} is not in the schema",
                    )
                )
    present = [c for c in frame.columns if c in declared]
    typed, skip = {}, {}
    for name in present:
        spec = declared[name]
        kinds = value_kinds(frame[name], text_file and name != TEXT_COLUMN)
        problems.extend(_kind_problems(name, type_of(spec), frame[name], kinds))
        typed[name] = typed_values(frame[name], kinds, type_of(spec))
        skip[name] = ~np.isin(kinds, [*ACCEPTS[type_of(spec)], "null"])
    if present:
        problems.extend(_pandera_problems(schema, pd.DataFrame(typed, index=frame.index), skip))
    return problems


def _kind_problems(name: str, declared: str, values: pd.Series, kinds: np.ndarray) -> list[Problem]:
    problems = []
    bad = ~np.isin(kinds, [*ACCEPTS[declared], "null"])
    for kind in sorted(set(kinds[bad].tolist())):
        rows = np.flatnonzero(kinds == kind)
        example = values.iloc[int(rows[0])]
        if kind == "empty":
            problems.append(
                Problem(
                    name,
                    "empty_string",
                    len(rows),
                    _first(rows),
                    f"{len(rows)} empty string(s) in {declared} column {name!r}; "
                    "the schema has nulls, not empty strings, there",
                )
            )
            continue
        problems.append(
            Problem(
                name,
                "type",
                len(rows),
                _first(rows),
                f"{len(rows)} {kind} value(s) in {declared} column {name!r} (e.g. {example!r})",
            )
        )
    return problems


def _pandera_problems(
    schema: dict[str, Any], typed: pd.DataFrame, skip: dict[str, np.ndarray]
) -> list[Problem]:
    """Nullability, range, allowed set and length, checked by pandera on the typed values."""
    import pandera.errors as pe

    try:
        to_pandera(schema, list(typed.columns)).validate(typed, lazy=True)
        return []
    except pe.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["column"].notna() & cases["index"].notna()]
    problems = []
    for (column, check), group in cases.groupby(["column", "check"], sort=True):
        rows = np.unique(group["index"].astype(int).to_numpy())
        rows = rows[~skip[column][rows]]  # already reported as another type
        if len(rows) == 0:
            continue
        problems.append(_from_check(str(column), str(check), rows, typed[column]))
    return problems


def _from_check(column: str, check: str, rows: np.ndarray, values: pd.Series) -> Problem:
    example = values.iloc[int(rows[0])]
    example = example.item() if isinstance(example, np.generic) else example
    if check == "not_nullable":
        kind, what = "null", "null (missing) value(s) where the schema allows none"
    elif check.startswith("in_range") and column in IMAGE_SIZE_COLUMNS:
        kind = "out_of_range"
        what = (
            f"image(s) of a {IMAGE_COLUMNS[column]} outside {check[8:]} pixels (e.g. {example!r}), "
            "far from the sizes seen"
        )
    elif check.startswith("in_range"):
        kind, what = "out_of_range", f"value(s) outside the range {check[8:]} (e.g. {example!r})"
    elif check.startswith("isin") and column in IMAGE_COLUMNS:
        kind = "image_mode" if column == IMAGE_MODE_COLUMN else "new_value"
        what = f"image(s) of a {IMAGE_COLUMNS[column]} the schema has not seen (e.g. {example!r})"
    elif check.startswith("isin"):
        kind, what = "new_value", f"value(s) outside the allowed set (e.g. {example!r})"
    elif column != TEXT_COLUMN and (values.iloc[rows] == "").all():
        kind, what = "empty_string", "empty string(s) where the schema has none (it had nulls)"
    else:
        kind, what = "length", f"text(s) of a length outside {check[10:]}"
    if column in IMAGE_COLUMNS:
        return Problem(column, kind, len(rows), _first(rows), f"{len(rows)} {what}")
    where = "the text" if column == TEXT_COLUMN else f"column {column!r}"
    return Problem(column, kind, len(rows), _first(rows), f"{len(rows)} {what} in {where}")


def _first(rows: np.ndarray) -> list[int]:
    return [int(r) for r in rows[:FIRST_ROWS]]


def describe(kind: str) -> str:
    """What a problem kind means, for reports and pages."""
    return PROBLEM_KINDS[kind]
