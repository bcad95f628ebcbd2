"""When to retrain: every use case that stores human labels calls :func:`maybe_retrain` after
its commit, so labels count toward the next retrain whichever path wrote them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.db import make_session_factory
from labelapp.models import Annotation, ModelRun, Project
from labelapp.services.jobs import enqueue

# The annotation kinds that are human labels the model trains on.
HUMAN_LABEL_KINDS = ("label", "adjudicate")


def labels_since_last_run(session: Session, project_id: int, cap: int) -> int:
    """Human labels stored since the last model run read its training set (counted up to ``cap``,
    so the check stays cheap on every submit however large the project)."""
    through = session.scalar(
        select(func.max(ModelRun.trained_through_annotation_id)).where(
            ModelRun.project_id == project_id
        )
    )
    a = Annotation
    recent = (
        select(a.id)
        .where(a.project_id == project_id, a.kind.in_(HUMAN_LABEL_KINDS), a.user_id.is_not(None))
        .where(a.id > (through or 0))
        .limit(cap)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(recent)) or 0


def maybe_retrain(session: Session, project: Project) -> None:
    """After a use case stored human labels (a submit, an adjudication): queue a retrain once
    ``retrain_every`` new ones have arrived, whatever path wrote them."""
    if project.retrain_every <= 0 or project.multi_label:
        return
    due = labels_since_last_run(session, project.id, project.retrain_every) >= project.retrain_every
    session.commit()  # end the read: the job runs in its own session
    if due:
        enqueue(make_session_factory(session.get_bind()), project.id, "retrain")
