"""The three numbers every page shows about a project, from one query: items, still to label
(gold items excluded: they never need the team's labels) and labeled (no label still needed).
``items == to_label + labeled + gold``, so the numbers add up wherever they appear."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from labelapp.models import Item, QueueEntry


@dataclass(frozen=True)
class Counts:
    items: int = 0
    to_label: int = 0
    labeled: int = 0
    gold: int = 0


def _flag(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def project_counts(session: Session, project_ids: list[int]) -> dict[int, Counts]:
    """Counts per project id (projects without items get zeros)."""
    if not project_ids:
        return {}
    q = QueueEntry
    gold = q.is_gold.is_(True)
    rows = session.execute(
        select(
            Item.project_id,
            func.count(Item.id),
            _flag((q.remaining > 0) & ~gold),
            _flag((func.coalesce(q.remaining, 0) == 0) & ~func.coalesce(gold, False)),
            _flag(gold),
        )
        .outerjoin(q, q.item_id == Item.id)
        .where(Item.project_id.in_(project_ids))
        .group_by(Item.project_id)
    )
    out = {pid: Counts() for pid in project_ids}
    for pid, items, to_label, labeled, gold_items in rows:
        out[pid] = Counts(int(items), int(to_label), int(labeled), int(gold_items))
    return out
