"""Labeling functions as a history: Python LFs written in the browser (previewed and saved in the
sandbox), saving over a name only when asked, renaming, deleting (votes removed, versions kept)
and comparing two versions. Every function that writes commits."""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from labelapp.db import start_write
from labelapp.models import LabelingFunction, Project, User, WeakLabel
from labelapp.models.base import utcnow
from labelapp.services import lf_guard
from labelapp.services.errors import Conflict, UserError
from labelapp.services.rates import rate
from labelapp.services.weak.common import PREVIEW_HITS, class_names, human_label_index, items_frame
from labelapp.services.weak.lfs import get_lf, save_lf, store_lf, versions

if TYPE_CHECKING:
    from weak_supervision.sandbox import Limits

PYTHON_PREVIEW_ITEMS = 2000  # items a Python LF preview runs on (the whole sandbox run is timed)
PREVIEW_SECONDS = 20.0  # a preview inside a request stops here even if the apply limits are higher
MAX_SOURCE = 100_000


def live_latest(session: Session, project_id: int, name: str) -> LabelingFunction | None:
    """The latest version of ``name`` unless the LF was deleted."""
    row = session.scalar(
        select(LabelingFunction)
        .where(LabelingFunction.project_id == project_id, LabelingFunction.name == name)
        .order_by(LabelingFunction.version.desc())
        .limit(1)
    )
    return row if row is not None and row.deleted_at is None else None


def check_replace(session: Session, project_id: int, name: str, replace: bool) -> None:
    """Saving over an existing LF must be asked for: a Conflict naming the version otherwise."""
    current = live_latest(session, project_id, name)
    if current is not None and not replace:
        raise Conflict(
            f"an LF named {name!r} exists (version {current.version}, {current.kind}): "
            f"confirm to save this as version {current.version + 1}, or choose another name"
        )


def preview_limits() -> Limits:
    """The sandbox limits of a preview: the apply limits, capped at :data:`PREVIEW_SECONDS`."""
    from dataclasses import replace

    limits = lf_guard.lf_limits()
    return replace(
        limits,
        cpu_seconds=min(limits.cpu_seconds, PREVIEW_SECONDS),
        wall_seconds=min(limits.wall_seconds, PREVIEW_SECONDS),
    )


def _stopped(exc: Exception) -> UserError:
    """A sandbox failure as the user's error; a limit hit says that the sandbox stopped it."""
    if getattr(exc, "limit", None):
        return UserError(
            f"stopped in the sandbox: {exc}; a preview runs at most {PREVIEW_SECONDS:g} s"
        )
    return UserError(str(exc))


def python_name(source: str) -> str:
    """The one LF ``source`` defines (found by loading it in the sandbox)."""
    from weak_supervision.sandbox import SandboxError, lf_names

    if not source.strip():
        raise UserError(
            "the code is empty: define one function decorated with @labeling_function()"
        )
    if len(source) > MAX_SOURCE:
        raise UserError(f"the code is {len(source):,} characters; the limit is {MAX_SOURCE:,}")
    try:
        names = lf_names(source, preview_limits())
    except SandboxError as exc:
        raise _stopped(exc) from None
    if len(names) != 1:
        raise UserError(
            f"the code defines {len(names)} labeling functions ({', '.join(names) or 'none'}): "
            "write exactly one @labeling_function() per LF here (files with several load with "
            "`labelapp lf load`)"
        )
    return names[0]


def python_preview(session: Session, project: Project, source: str) -> dict[str, Any]:
    """What the Python LF in ``source`` votes on the first :data:`PYTHON_PREVIEW_ITEMS` items,
    computed in the sandbox under :func:`preview_limits` (a timeout is a UserError saying so)."""
    import numpy as np

    from weak_supervision.sandbox import SandboxError, apply_python_lfs

    classes = class_names(project)
    name = python_name(source)
    frame = items_frame(session, project.id, limit=PYTHON_PREVIEW_ITEMS)
    if frame.empty:
        raise UserError("the project has no items yet: import some first")
    try:
        result = apply_python_lfs([{"source": source, "names": [name]}], frame, preview_limits())
    except SandboxError as exc:
        raise _stopped(exc) from None
    votes = result.votes[:, 0]
    bad = votes[(votes < -1) | (votes >= len(classes))]
    if len(bad):
        raise UserError(
            f"LF {name!r} returned {int(bad[0])}: return -1 to abstain or a class index 0-"
            f"{len(classes) - 1} ({', '.join(f'{i} {c}' for i, c in enumerate(classes))})"
        )
    human = human_label_index(session, project, frame["item_id"].to_numpy())
    hit = np.flatnonzero(votes >= 0)
    judged = hit[human[hit] >= 0]
    correct = int((human[judged] == votes[judged]).sum())
    return {
        "name": name,
        "n_items": len(frame),
        "n_hits": len(hit),
        "coverage": rate(len(hit), len(frame)),
        "accuracy": rate(correct, len(judged)),
        "hits": [
            {
                "item_id": int(frame["item_id"].iat[i]),
                "external_id": frame["external_id"].iat[i],
                "text": (frame["text"].iat[i] or "")[:300],
                "vote": classes[int(votes[i])],
                "human": classes[human[i]] if human[i] >= 0 else None,
            }
            for i in hit[:PREVIEW_HITS]
        ],
        "limits": {"cpu_seconds": preview_limits().cpu_seconds, "items": len(frame)},
    }


def save_python(
    session: Session, project: Project, source: str, author: User, description: str, replace: bool
) -> tuple[LabelingFunction, bool]:
    """Store the Python LF in ``source`` (a new version when its name exists and ``replace``)."""
    class_names(project)
    name = python_name(source)
    check_replace(session, project.id, name, replace)
    row, created = store_lf(
        session,
        project,
        name,
        "python",
        {"file": "written in the browser"},
        source,
        author,
        description,
    )
    row.deleted_at = None
    session.commit()
    return row, created


def save_declarative(
    session: Session, project: Project, spec: Any, author: User, description: str, replace: bool
) -> tuple[LabelingFunction, bool]:
    """A keyword, regex or metadata LF; over an existing name only with ``replace``."""
    name = spec.get("name") if isinstance(spec, dict) else None
    if isinstance(name, str):
        check_replace(session, project.id, name, replace)
    row, created = save_lf(session, project, spec, author, description)
    row.deleted_at = None
    session.commit()
    return row, created


def _all_versions(session: Session, project_id: int, lf_id: int) -> list[LabelingFunction]:
    row = get_lf(session, project_id, lf_id)
    return versions(session, project_id, row.name)


def rename(session: Session, project: Project, lf_id: int, new_name: str) -> LabelingFunction:
    """Give every version of the LF a new name (its history moves with it)."""
    start_write(session)
    rows = _all_versions(session, project.id, lf_id)
    new_name = new_name.strip()
    old = rows[-1].name
    if rows[-1].kind == "python":
        raise UserError(
            f"{old!r} is a Python LF: its name is its function's name; rename the function in "
            "the code and save it (the old name can then be deleted)"
        )
    if not new_name or len(new_name) > 100 or not (new_name[0].isalpha() or new_name[0] == "_"):
        raise UserError(
            f"invalid name {new_name!r}: start with a letter or _, at most 100 characters"
        )
    if new_name != old and versions(session, project.id, new_name):
        raise Conflict(f"the name {new_name!r} is taken (an LF or the history of a deleted one)")
    for row in rows:
        row.name = new_name
        row.spec = {**row.spec, "name": new_name}
    session.commit()
    return rows[-1]


def delete_lf(session: Session, project: Project, lf_id: int) -> dict[str, Any]:
    """Delete an LF: its votes are removed, every version is switched off and marked deleted
    (the history stays, and its name can be used again as the next version)."""
    start_write(session)
    rows = _all_versions(session, project.id, lf_id)
    ids = [r.id for r in rows]
    removed = session.execute(delete(WeakLabel).where(WeakLabel.lf_id.in_(ids))).rowcount
    now = utcnow()
    session.execute(
        update(LabelingFunction)
        .where(LabelingFunction.id.in_(ids))
        .values(active=False, deleted_at=now)
    )
    session.commit()
    return {"name": rows[-1].name, "versions": len(rows), "votes_removed": int(removed or 0)}


def _text(row: LabelingFunction) -> list[str]:
    if row.kind == "python":
        return (row.source or "").splitlines()
    spec = {k: v for k, v in row.spec.items() if k != "name"}
    return json.dumps(spec, indent=2, sort_keys=True).splitlines()


def compare(session: Session, project: Project, lf_id: int, other_id: int) -> dict[str, Any]:
    """A unified diff from version ``other_id`` to ``lf_id`` (two versions of one name)."""
    row = get_lf(session, project.id, lf_id)
    other = get_lf(session, project.id, other_id)
    if row.name != other.name:
        raise UserError(
            f"{other.name!r} v{other.version} is another LF than {row.name!r}: "
            "compare versions of one LF"
        )
    lines = list(
        difflib.unified_diff(
            _text(other),
            _text(row),
            f"{other.name} v{other.version}",
            f"{row.name} v{row.version}",
            lineterm="",
        )
    )
    return {
        "name": row.name,
        "from_version": other.version,
        "to_version": row.version,
        "kind_changed": row.kind != other.kind,
        "diff": lines,
    }
