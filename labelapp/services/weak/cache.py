"""What the LF analysis reads, summarised: computing the analysis reads every item's text, every
vote and every human label, so it is computed by a job and served until one of those changes
(:mod:`.analysis_report`).

The key is what the analysis reads, each summarised by a cheap query: the latest LF apply run
(votes are only written by an apply, which records one), the active LF versions, the items
(count, newest id), the annotations (count, newest id: a new label, edit, undo or adjudication
changes it) and the label set. The job reads the key before the analysis, so a change committed
in between at worst costs one extra computation, never a stale result shown as current.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Item, LabelingFunction, LabelModelRun, Project


def _utc(moment: datetime | None) -> datetime | None:
    """The same instant whether the database gave it back with a time zone or without (UTC)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


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
        _utc(project.created_at),  # ids restart when a database is recreated; creation times do not
        project.multi_label,
        tuple((lab.name, lab.is_ambiguous) for lab in project.labels),
        (apply_run[0], _utc(apply_run[1])) if apply_run is not None else None,
        tuple(active_lfs),
        tuple(items.one()),
        tuple(annotations.one()),
    )
