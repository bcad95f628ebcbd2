"""The LF analysis, cached per project: computing it reads every item's text, every vote and
every human label, so each page view must not redo it while none of those changed.

The cache key is what the analysis reads, each summarised by a cheap query: the latest LF apply
run (votes are only written by an apply, which records one), the active LF versions, the items
(count, newest id), the annotations (count, newest id: a new label, edit, undo or adjudication
changes it) and the label set. The key is read before the analysis, so a change committed in
between at worst costs one extra computation on the next view, never a stale result.
Each process (e.g. each gunicorn worker) keeps its own cache of the last ``MAX_PROJECTS``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Item, LabelingFunction, LabelModelRun, Project

MAX_PROJECTS = 32
T = TypeVar("T")

_cache: OrderedDict[tuple[str, int], tuple[Hashable, Any]] = OrderedDict()
_lock = threading.Lock()


def analysis_key(session: Session, project: Project) -> tuple:
    """A summary of everything the analysis of ``project`` depends on."""
    pid = project.id
    apply_run = session.execute(
        select(LabelModelRun.id, LabelModelRun.created_at)
        .where(LabelModelRun.project_id == pid, LabelModelRun.kind == "apply")
        .order_by(LabelModelRun.id.desc())
        .limit(1)
    ).first()
    active_lfs = session.scalars(
        select(LabelingFunction.id)
        .where(LabelingFunction.project_id == pid, LabelingFunction.active.is_(True))
        .order_by(LabelingFunction.id)
    ).all()
    items = session.execute(select(func.count(), func.max(Item.id)).where(Item.project_id == pid))
    annotations = session.execute(
        select(func.count(), func.max(Annotation.id)).where(Annotation.project_id == pid)
    )
    return (
        project.created_at,  # ids restart when a database is recreated; creation times do not
        project.multi_label,
        tuple((lab.name, lab.is_ambiguous) for lab in project.labels),
        tuple(apply_run) if apply_run is not None else None,
        tuple(active_lfs),
        tuple(items.one()),
        tuple(annotations.one()),
    )


def cached(session: Session, project: Project, compute: Callable[[Session, Project], T]) -> T:
    """``compute(session, project)``, or its stored result if the project's key is unchanged.
    The result is shared between callers: treat it as read-only."""
    slot = (session.get_bind().url.render_as_string(hide_password=True), project.id)
    key = analysis_key(session, project)
    with _lock:
        held = _cache.get(slot)
        if held is not None and held[0] == key:
            _cache.move_to_end(slot)
            return held[1]
    result = compute(session, project)
    with _lock:
        _cache[slot] = (key, result)
        _cache.move_to_end(slot)
        while len(_cache) > MAX_PROJECTS:
            _cache.popitem(last=False)
    return result


def clear() -> None:
    """Forget every cached analysis (tests, or after restoring a database)."""
    with _lock:
        _cache.clear()
