"""Labeling functions as stored: validation, versions (a save appends one), activation, listing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.db import start_write
from labelapp.models import (
    LabelingFunction,
    Project,
    User,
)
from labelapp.services import lf_guard
from labelapp.services.errors import NotFound, UserError
from labelapp.services.weak.common import DECLARATIVE_KINDS, PREVIEW_ITEMS, class_names, items_frame

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import pandas as pd


def library_spec(lf: LabelingFunction, classes: list[str]) -> dict[str, Any]:
    """The stored spec as the library takes it (label name -> class index)."""
    spec = {**lf.spec, "kind": lf.kind, "name": lf.name}
    if lf.kind == "python":
        return {"kind": "python", "name": lf.name, "source": lf.source or ""}
    label = spec.get("label")
    if label not in classes:
        raise UserError(
            f"LF {lf.name!r} votes {label!r}, which is not a label of this project "
            f"({', '.join(classes)}): edit it"
        )
    spec["label"] = classes.index(label)
    return spec


def validate_spec(project: Project, spec: Any) -> dict[str, Any]:
    """A declarative spec checked by the library; its ``label`` is a label name of the project.

    Returns the spec to store (normalised by the library, the label as its name)."""
    from weak_supervision.lfs import lf_from_spec

    if not isinstance(spec, dict):
        raise UserError("an LF is a JSON object with kind, name, label and the kind's fields")
    kind = spec.get("kind")
    if kind == "python":
        raise UserError(
            "Python LFs are not accepted here: save their code with POST "
            "/api/projects/{id}/lfs/python (it runs in the sandbox), or load a file with "
            "`labelapp lf load FILE.py --project NAME`"
        )
    if kind not in DECLARATIVE_KINDS:
        raise UserError(f"unknown LF kind {kind!r}: use one of {', '.join(DECLARATIVE_KINDS)}")
    classes = class_names(project)
    label = spec.get("label")
    if label not in classes:
        raise UserError(
            f"LF {spec.get('name', '')!r}: label {label!r} is not one of this project's labels "
            f"({', '.join(classes)})"
        )
    try:
        lf = lf_from_spec({**spec, "label": classes.index(label)}, n_classes=len(classes))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    stored = lf.to_spec()
    stored["label"] = label
    return stored


def latest_lfs(
    session: Session, project_id: int, active_only: bool = False
) -> list[LabelingFunction]:
    """The latest version of each LF of the project, by name (deleted LFs left out)."""
    lf = LabelingFunction
    newest = (
        select(lf.name, func.max(lf.version).label("v"))
        .where(lf.project_id == project_id)
        .group_by(lf.name)
        .subquery()
    )
    query = (
        select(lf)
        .join(newest, (lf.name == newest.c.name) & (lf.version == newest.c.v))
        .where(lf.project_id == project_id, lf.deleted_at.is_(None))
        .order_by(lf.name)
    )
    if active_only:
        query = query.where(lf.active.is_(True))
    return list(session.scalars(query))


def _latest(session: Session, project_id: int, name: str) -> LabelingFunction | None:
    return session.scalar(
        select(LabelingFunction)
        .where(LabelingFunction.project_id == project_id, LabelingFunction.name == name)
        .order_by(LabelingFunction.version.desc())
        .limit(1)
    )


def store_lf(
    session: Session,
    project: Project,
    name: str,
    kind: str,
    spec: dict[str, Any],
    source: str | None,
    author: User | None,
    description: str = "",
) -> tuple[LabelingFunction, bool]:
    """Save a new version unless the latest one is identical; returns (row, created)."""
    start_write(session)
    previous = _latest(session, project.id, name)
    if (
        previous is not None
        and previous.kind == kind
        and previous.spec == spec
        and (previous.source == source)
    ):
        if not previous.active:
            previous.active = True
        return previous, False
    if previous is not None:
        previous.active = False
    row = LabelingFunction(
        project_id=project.id,
        name=name,
        kind=kind,
        spec=spec,
        source=source,
        description=description,
        version=(previous.version + 1) if previous is not None else 1,
        active=True,
        author_id=author.id if author is not None else None,
    )
    session.add(row)
    session.flush()
    return row, True


def save_lf(
    session: Session, project: Project, spec: Any, author: User | None, description: str = ""
) -> tuple[LabelingFunction, bool]:
    """Validate and save a declarative LF; an edit of an existing name is its next version.
    A regex that Python's ``re`` must run is first tried on the preview sample, within the
    preview time limit: one that backtracks too long is refused, not saved."""
    stored = validate_spec(project, spec)
    if stored["kind"] == "regex":
        _check_pattern(session, project, stored)
    return store_lf(
        session, project, stored["name"], stored["kind"], stored, None, author, description
    )


def _check_pattern(session: Session, project: Project, stored: dict[str, Any]) -> None:
    """Refuse a regex LF whose Python-``re`` fallback exceeds the preview time limit on the
    preview sample (patterns RE2 runs whole are linear-time: not tried)."""
    from weak_supervision import re2

    plan = re2.translate(stored["pattern"], stored.get("ignore_case", False))
    if plan is not None and not plan.hazards:
        return
    frame = items_frame(session, project.id, limit=PREVIEW_ITEMS)
    if not frame.empty:
        regex_guarded_votes(project, stored, frame)


def load_python_lfs(
    session: Session, project: Project, path: str | Path, author: User | None
) -> list[tuple[LabelingFunction, bool]]:
    """Store each Snorkel LF the ``.py`` file defines (kind python, source = the file's code).

    The file is loaded in the sandbox to find its LFs, never in this process."""
    class_names(project)
    path = Path(path)
    if path.suffix != ".py":
        raise UserError(f"{path}: expected a .py file of labeling functions")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    source = path.read_text(encoding="utf-8")
    names = lf_guard.python_lf_names(source)
    return [
        store_lf(
            session,
            project,
            name,
            "python",
            {"file": path.name},
            source,
            author,
            f"loaded from {path.name}",
        )
        for name in names
    ]


def get_lf(session: Session, project_id: int, lf_id: int) -> LabelingFunction:
    row = session.get(LabelingFunction, lf_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"no labeling function {lf_id} in this project")
    return row


def set_active(session: Session, project_id: int, lf_id: int, active: bool) -> LabelingFunction:
    """Switch an LF on or off (its latest version; earlier versions stay off)."""
    start_write(session)
    row = get_lf(session, project_id, lf_id)
    latest = _latest(session, project_id, row.name)
    if latest is not None and latest.id != row.id:
        raise UserError(
            f"LF {row.name!r} version {row.version} was replaced by version {latest.version}: "
            "switch that one"
        )
    row.active = active
    session.commit()
    return row


def versions(session: Session, project_id: int, name: str) -> list[LabelingFunction]:
    return list(
        session.scalars(
            select(LabelingFunction)
            .where(LabelingFunction.project_id == project_id, LabelingFunction.name == name)
            .order_by(LabelingFunction.version)
        )
    )


def lf_json(lf: LabelingFunction) -> dict[str, Any]:
    return {
        "id": lf.id,
        "name": lf.name,
        "kind": lf.kind,
        "spec": lf.spec,
        "source": lf.source,
        "description": lf.description,
        "version": lf.version,
        "active": lf.active,
        "author_id": lf.author_id,
        "created_at": lf.created_at.isoformat(),
    }


def regex_guarded_votes(project: Project, stored: dict[str, Any], frame: pd.DataFrame) -> Any:
    """The votes of the declarative LF ``stored`` on ``frame``, Python-``re`` fallbacks within
    the preview time limit; a timeout or a bad LF is a UserError."""
    from weak_supervision import regex_guard
    from weak_supervision.apply import apply_lfs as library_apply
    from weak_supervision.lfs import lf_from_spec

    classes = class_names(project)
    lf = lf_from_spec({**stored, "label": classes.index(stored["label"])})
    seconds = lf_guard.regex_seconds("preview")
    try:
        with regex_guard.time_limit(seconds):
            return library_apply([lf], frame)[:, 0]
    except regex_guard.RegexTimeout:
        raise UserError(
            f"LF {stored['name']!r}: "
            + regex_guard.timeout_message(
                stored["pattern"], seconds, len(frame), "of the preview sample"
            )
            + f" (the limit is {lf_guard.regex_hint('preview')})"
        ) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None
