"""Overlap for items already imported: how many more answers each item needs under a new overlap
setting (a preview), and queueing them (apply). The same seeded share of items is chosen as the
importer chooses for new items (``overlap_targets`` on each item's queue position)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Annotation, Item, Project, QueueEntry

if TYPE_CHECKING:  # numpy loads when an overlap is planned, not when a page imports this
    import numpy as np


@dataclass(frozen=True)
class OverlapPlan:
    """What applying ``overlap_k``/``overlap_share`` to existing items would change."""

    overlap_k: int
    overlap_share: float
    n_items: int  # non-gold items in the queue
    n_overlap: int  # of them, the ones that need overlap_k annotators
    n_queued: int  # items that get queued for more answers than they need now
    n_answers: int  # answers added to the queue in all
    n_released: int  # items that need fewer answers than now (overlap lowered)

    def as_dict(self) -> dict[str, int | float]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _answered(session: Session, project_id: int) -> dict[int, int]:
    """Distinct people with a label answer per item (an undone answer still counted once, as the
    queue counts it)."""
    rows = session.execute(
        select(Annotation.item_id, func.count(func.distinct(Annotation.user_id)))
        .where(
            Annotation.project_id == project_id,
            Annotation.kind == "label",
            Annotation.user_id.is_not(None),
        )
        .group_by(Annotation.item_id)
    )
    return dict(rows.all())


def _targets(session: Session, project: Project, k: int, share: float) -> tuple[np.ndarray, ...]:
    import numpy as np

    from labelapp.services.imports.importer import overlap_targets

    rows = session.execute(
        select(QueueEntry.item_id, QueueEntry.position, QueueEntry.remaining).where(
            QueueEntry.project_id == project.id, QueueEntry.is_gold.is_(False)
        )
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    positions = np.array([r[1] for r in rows], dtype=np.int64)
    remaining = np.array([r[2] for r in rows], dtype=np.int64)
    probe = Project(overlap_k=k, overlap_share=share, queue_seed=project.queue_seed)
    target = overlap_targets(probe, positions)
    done = _answered(session, project.id)
    answered = np.array([done.get(int(i), 0) for i in ids], dtype=np.int64)
    return ids, remaining, target, np.maximum(0, target - answered)


def plan(session: Session, project: Project, overlap_k: int, overlap_share: float) -> OverlapPlan:
    """The preview: how many existing items would be queued for more answers."""
    ids, remaining, target, new_remaining = _targets(session, project, overlap_k, overlap_share)
    return plan_from(overlap_k, overlap_share, ids, remaining, target, new_remaining)


def save_settings(
    session: Session, project: Project, changes: dict, apply_existing: bool
) -> OverlapPlan | None:
    """Overlap and gold settings (checked by ``update_settings``); with ``apply_existing`` the
    items already imported are queued too. Commits; returns what applying changed."""
    from labelapp.services.projects import update_settings

    update_settings(project, changes)
    result = queue_overlap(session, project) if apply_existing else None
    session.commit()
    return result


def apply_to_existing(session: Session, project: Project) -> OverlapPlan:
    """Set every existing non-gold item's remaining answers from the project's current overlap
    (``max(0, target - people who answered)``); commits. Returns what changed."""
    result = queue_overlap(session, project)
    session.commit()
    return result


def queue_overlap(session: Session, project: Project) -> OverlapPlan:
    """:func:`apply_to_existing` inside the caller's transaction (flushed, not committed)."""
    import numpy as np

    ensure_write_lock(session)
    k, share = project.overlap_k, project.overlap_share
    ids, remaining, target, new_remaining = _targets(session, project, k, share)
    result = plan_from(k, share, ids, remaining, target, new_remaining)
    changed = new_remaining != remaining
    for value in np.unique(new_remaining[changed]):
        chosen = ids[changed & (new_remaining == value)].tolist()
        for start in range(0, len(chosen), 500):
            session.execute(
                update(QueueEntry)
                .where(QueueEntry.item_id.in_(chosen[start : start + 500]))
                .values(remaining=int(value))
            )
    for value in np.unique(target[target > 1]):  # items record how many answers they need
        chosen = ids[target == value].tolist()
        for start in range(0, len(chosen), 500):
            session.execute(
                update(Item)
                .where(Item.id.in_(chosen[start : start + 500]), Item.target_k < int(value))
                .values(target_k=int(value))
            )
    session.flush()
    return result


def plan_from(
    k: int,
    share: float,
    ids: np.ndarray,
    remaining: np.ndarray,
    target: np.ndarray,
    new_remaining: np.ndarray,
) -> OverlapPlan:
    """The counts of an :class:`OverlapPlan` from the per-item arrays."""
    more = new_remaining > remaining
    return OverlapPlan(
        overlap_k=k,
        overlap_share=share,
        n_items=len(ids),
        n_overlap=int((target > 1).sum()),
        n_queued=int(more.sum()),
        n_answers=int((new_remaining - remaining)[more].sum()),
        n_released=int((new_remaining < remaining).sum()),
    )
