"""The project schema in the database: its versions, each import's check, an admin's edits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import Item, Project, ProjectSchema, SchemaCheck, User
from labelapp.services.errors import UserError
from labelapp.services.schema.names import (
    DEFAULT_SCHEMA_MODE,
    IMAGE_COLUMNS,
    IMAGE_SIZE_COLUMNS,
    SCHEMA_MODES,
    SCHEMA_REFUSAL,
    TEXT_COLUMN,
)

if TYPE_CHECKING:
    import pandas as pd

    from labelapp.services.imports.validate import Columns
    from labelapp.services.schema.check import Problem


@dataclass
class SchemaReport:
    """An import's check against the project schema, before anything is stored."""

    mode: str
    checked_version: int | None  # None: the project had no schema (this import infers it)
    problems: list[Problem] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)  # per problem, its first rows, named
    new_schema: dict[str, Any] | None = None
    reason: str = ""
    schema_version: int | None = None  # set once recorded

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "checked_version": self.checked_version,
            "schema_version": self.schema_version,
            "evolved": self.reason == "evolved",
            "problems": [
                {**p.to_dict(), "lines": lines}
                for p, lines in zip(self.problems, self.lines, strict=True)
            ],
        }


def current_schema(session: Session, project_id: int) -> ProjectSchema | None:
    """The project's highest schema version, or None before its first import."""
    return session.scalar(
        select(ProjectSchema)
        .where(ProjectSchema.project_id == project_id)
        .order_by(ProjectSchema.version.desc())
        .limit(1)
    )


def schema_frame(df: pd.DataFrame, roles: Columns) -> pd.DataFrame:
    """The columns a schema covers: every metadata column, and the text as :data:`TEXT_COLUMN`."""
    used = {c for c in (roles.text, roles.id, roles.label, roles.group) if c}
    frame = df[[c for c in df.columns if c not in used]].reset_index(drop=True)
    frame.insert(0, TEXT_COLUMN, df[roles.text].reset_index(drop=True))
    return frame


def image_frame(valid_rows: pd.DataFrame) -> pd.DataFrame:
    """An image import's properties (:data:`IMAGE_COLUMNS`) from its validated rows' metadata."""
    import json

    import pandas as pd

    metas = [json.loads(m) for m in valid_rows["meta"]]
    frame = pd.DataFrame(
        {column: [m.get(key) for m in metas] for column, key in IMAGE_COLUMNS.items()}
    )
    for column in IMAGE_SIZE_COLUMNS:
        frame[column] = frame[column].astype("Int64")
    for column in IMAGE_COLUMNS.keys() - set(IMAGE_SIZE_COLUMNS):
        frame[column] = frame[column].astype("string")
    return frame


def check_import(
    session: Session,
    project: Project,
    frame: pd.DataFrame,
    fmt: str,
    name: str,
    row_name: Callable[[int], str],
    mode: str = DEFAULT_SCHEMA_MODE,
    valid_rows: pd.DataFrame | None = None,
) -> SchemaReport:
    """Check an import's table against the project schema before anything is stored.

    ``frame`` is what the schema covers, one row per data row: :func:`schema_frame` of a table,
    :func:`image_frame` of an image folder (whose rows are named by their entries).

    ``strict`` refuses a file with a blocking problem (another type, a missing required column,
    empty strings against nulls, nulls where there were none) with :class:`UserError`; other
    problems are reported and the schema stays. ``evolve`` accepts the file and prepares the
    schema's next version. The first import infers version 1. Only rows that bring new items
    are checked (``valid_rows``: the validated rows, with ``external_id`` and ``row``): a file
    that labels items already there brings no new data.
    """
    check = TableCheck(session, project, fmt, name, mode)
    if check.first:
        check.add_all(frame)
    else:
        rows = _new_rows(session, project.id, valid_rows, len(frame))
        if len(rows):
            check.add_new(frame.iloc[rows].reset_index(drop=True), rows)
    return check.report(row_name)


class TableCheck:
    """:func:`check_import` for a table read in chunks, the same check chunk by chunk.

    The first import (:attr:`first`) infers the schema from every row (:meth:`add_all`); a later
    one checks the rows that bring new items (:meth:`add_new`). :meth:`report` then refuses the
    file or says what was found."""

    def __init__(self, session: Session, project: Project, fmt: str, name: str, mode: str) -> None:
        from labelapp.services.schema.infer import SchemaSummary

        if mode not in SCHEMA_MODES:
            raise UserError(
                f"unknown schema mode {mode!r}: choose one of {', '.join(SCHEMA_MODES)}"
            )
        self.name, self.mode = name, mode
        self.text_file = fmt in ("csv", "tsv")
        self.current = current_schema(session, project.id)
        self.summary = SchemaSummary(self.text_file) if self.current is None else None
        self.check: Any = None  # a FrameCheck, from the first new rows on
        self.evolved: Any = None  # their SchemaSummary, under evolve

    @property
    def first(self) -> bool:
        """The project has no schema yet: this import infers it."""
        return self.current is None

    def add_all(self, frame: pd.DataFrame) -> None:
        """Rows of the first import (:func:`schema_frame` of a chunk): every row counts."""
        assert self.summary is not None
        self.summary.add(frame)

    def add_new(self, frame: pd.DataFrame, rows: Any, whole: dict[str, bool] | None = None) -> None:
        """Rows that bring new items; ``rows``: their 0-based data rows in the file; ``whole``:
        the float columns that are whole numbers with gaps over all the rows checked."""
        from labelapp.services.schema.check import FrameCheck
        from labelapp.services.schema.infer import SchemaSummary

        assert self.current is not None
        if self.check is None:
            self.check = FrameCheck(self.current.schema, self.text_file, whole)
            if self.mode == "evolve":
                self.evolved = SchemaSummary(self.text_file, repeat=1)
        self.check.add(frame, rows)
        if self.evolved is not None:
            self.evolved.add(frame)

    def report(self, row_name: Callable[[int], str]) -> SchemaReport:
        """What the check found; raises :class:`UserError` when ``strict`` refuses the file."""
        from labelapp.services.schema.infer import evolve_schema

        if self.current is None:
            assert self.summary is not None
            schema = self.summary.schema()
            return SchemaReport(self.mode, None, new_schema=schema, reason="inferred")
        current = self.current
        problems = self.check.problems() if self.check is not None else []
        report = SchemaReport(
            self.mode, current.version, problems, [[row_name(r) for r in p.rows] for p in problems]
        )
        blocking = [p for p in problems if p.blocking]
        if self.mode == "strict" and blocking:
            raise UserError(
                f"{self.name}: {len(blocking)} {SCHEMA_REFUSAL} (version "
                f"{current.version}); nothing was imported. Fix the file, or import it again "
                "with the schema mode 'evolve' to accept it as the schema's next version:",
                [_line(p, lines) for p, lines in zip(problems, report.lines, strict=True)],
            )
        if self.mode == "evolve" and problems:
            report.new_schema = evolve_schema(current.schema, self.evolved.schema())
            report.reason = "evolved"
        return report


def _new_rows(session: Session, project_id: int, valid_rows: pd.DataFrame | None, n: int) -> Any:
    """The positions of the rows that create an item (all rows when not known)."""
    import numpy as np

    if valid_rows is None:
        return np.arange(n)
    known = set(session.scalars(select(Item.external_id).where(Item.project_id == project_id)))
    new = ~valid_rows["external_id"].isin(known).to_numpy()
    return np.sort(valid_rows["row"].to_numpy()[new])


def _line(problem: Problem, lines: list[str]) -> str:
    where = f" (first: {', '.join(lines)})" if lines else ""
    flag = "refused" if problem.blocking else "warning"
    return f"{flag}: {problem.message}{where}"


def record_check(
    session: Session, project: Project, report: SchemaReport, import_id: int, user: User | None
) -> SchemaReport:
    """Store the import's check (its provenance) and the schema version it made, if any.
    Runs inside the import's transaction: the caller commits."""
    version = report.checked_version
    if report.new_schema is not None:
        version = (report.checked_version or 0) + 1
        session.add(
            ProjectSchema(
                project_id=project.id,
                version=version,
                schema=report.new_schema,
                reason=report.reason,
                import_id=import_id,
                created_by_id=user.id if user else None,
            )
        )
    report.schema_version = version
    session.add(
        SchemaCheck(
            project_id=project.id,
            import_id=import_id,
            mode=report.mode,
            checked_version=report.checked_version,
            schema_version=version,
            problems=report.to_dict()["problems"],
        )
    )
    session.flush()
    return report


def schema_versions(session: Session, project_id: int) -> list[ProjectSchema]:
    """Every version of the project's schema, oldest first."""
    return list(
        session.scalars(
            select(ProjectSchema)
            .where(ProjectSchema.project_id == project_id)
            .order_by(ProjectSchema.version)
        )
    )


def import_checks(session: Session, project_id: int, limit: int = 20) -> list[SchemaCheck]:
    """The latest imports' schema checks, newest first."""
    return list(
        session.scalars(
            select(SchemaCheck)
            .where(SchemaCheck.project_id == project_id)
            .order_by(SchemaCheck.id.desc())
            .limit(limit)
        )
    )


def next_version(session: Session, project_id: int) -> int:
    latest = session.scalar(
        select(func.max(ProjectSchema.version)).where(ProjectSchema.project_id == project_id)
    )
    return (latest or 0) + 1


def report_lines(report: dict[str, Any]) -> list[str]:
    """An import's schema report as lines for a terminal."""
    version = report.get("schema_version")
    if report.get("checked_version") is None:
        head = f"schema: version {version} inferred from this import"
    elif report.get("evolved"):
        head = f"schema: evolved from version {report['checked_version']} to {version}"
    else:
        head = f"schema: checked against version {version}"
    lines = [
        head
        + (f"; {len(report['problems'])} problem(s):" if report["problems"] else "; no problems")
    ]
    for problem in report["problems"]:
        where = f" (first: {', '.join(problem['lines'])})" if problem["lines"] else ""
        lines.append(f"  {problem['kind']}: {problem['message']}{where}")
    return lines
