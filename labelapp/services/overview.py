"""A project's labeling at a glance: labels per class, per annotator and per day, the queue, leases,
open flags."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Flag, Project, QueueEntry, User, utcnow
from labelapp.services.counts import project_counts
from labelapp.services.current_answers import is_current_label, ranked_answers


@dataclass
class AnnotatorRow:
    username: str
    labels: int
    skips: int
    undos: int
    median_seconds: float | None
    last_active: datetime | None


@dataclass
class Overview:
    per_label: list[tuple[str, int]]
    per_annotator: list[AnnotatorRow]
    per_day: list[tuple[date, int]]
    items_waiting: int
    labels_needed: int
    items_done: int
    leases: list[tuple[str, int, datetime]] = field(default_factory=list)
    open_flags: int = 0  # items annotators flagged that no reviewer resolved yet


def live_labels(
    session: Session, project_id: int, item_ids: Collection[int] | None = None
) -> list[tuple[int, int, list[str]]]:
    """(item_id, user_id, labels) for each human's current label: their latest row, if a label
    (of the items ``item_ids`` only, when given)."""
    a = Annotation
    scope = a.item_id.in_(list(item_ids)) if item_ids is not None else true()
    ranked = ranked_answers(a.project_id == project_id, scope)
    rows = session.execute(
        select(ranked.c.item_id, ranked.c.user_id, ranked.c.labels).where(is_current_label(ranked))
    )
    return [(i, u, list(labels)) for i, u, labels in rows]


def project_overview(session: Session, project: Project, days: int = 30) -> Overview:
    live = live_labels(session, project.id)
    counts = Counter(label for _, _, labels in live for label in labels)
    per_label = [(lab.name, counts.get(lab.name, 0)) for lab in project.labels]

    a = Annotation
    names = dict(session.execute(select(User.id, User.username)).all())
    by_user = session.execute(
        select(a.user_id, a.kind, func.count(), func.max(a.created_at))
        .where(a.project_id == project.id, a.user_id.is_not(None))
        .group_by(a.user_id, a.kind)
    ).all()
    live_per_user = Counter(u for _, u, _ in live)
    stats: dict[int, dict] = {}
    for user_id, kind, count, last in by_user:
        s = stats.setdefault(user_id, {"skip": 0, "retract": 0, "last": None})
        s[kind] = count
        s["last"] = max(filter(None, [s["last"], last]), default=None)
    durations = _median_seconds(session, project.id)
    per_annotator = sorted(
        (
            AnnotatorRow(
                username=names.get(user_id, f"user {user_id}"),
                labels=live_per_user.get(user_id, 0),
                skips=s["skip"],
                undos=s["retract"],
                median_seconds=durations.get(user_id),
                last_active=s["last"],
            )
            for user_id, s in stats.items()
        ),
        key=lambda r: -r.labels,
    )

    day = func.date(a.created_at)
    since = utcnow().date().toordinal() - days
    per_day_rows = session.execute(
        select(day, func.count())
        .where(a.project_id == project.id, a.kind == "label", a.user_id.is_not(None))
        .group_by(day)
        .order_by(day)
    ).all()
    per_day = [
        (d if isinstance(d, date) else date.fromisoformat(str(d)), n) for d, n in per_day_rows
    ]
    per_day = [(d, n) for d, n in per_day if d.toordinal() >= since]

    q = QueueEntry
    needed = session.scalar(
        select(func.coalesce(func.sum(q.remaining), 0)).where(
            q.project_id == project.id, q.remaining > 0, q.is_gold.is_(False)
        )
    )
    counts = project_counts(session, [project.id])[project.id]  # as every page counts
    waiting, done = counts.to_label, counts.labeled
    now = utcnow()
    leases = [
        (names.get(user_id, "?"), item_id, expires)
        for user_id, item_id, expires in session.execute(
            select(q.leased_by_id, q.item_id, q.lease_expires_at)
            .where(
                q.project_id == project.id, q.leased_by_id.is_not(None), q.lease_expires_at > now
            )
            .order_by(q.lease_expires_at)
            .limit(200)
        )
    ]
    flags = open_flags(session, [project.id])[project.id]
    return Overview(
        per_label, per_annotator, per_day, waiting, int(needed), done or 0, leases, flags
    )


def open_flags(session: Session, project_ids: list[int]) -> dict[int, int]:
    """Open flags per project id (the admin overview's and the project overview's count)."""
    out = dict.fromkeys(project_ids, 0)
    if project_ids:
        f = Flag
        out.update(
            session.execute(
                select(f.project_id, func.count())
                .where(f.project_id.in_(project_ids), f.resolved_at.is_(None))
                .group_by(f.project_id)
            ).all()
        )
    return out


def _median_seconds(session: Session, project_id: int) -> dict[int, float]:
    """Median time on screen per annotator, over their last 1,000 labels."""
    a = Annotation
    rows = session.execute(
        select(a.user_id, a.duration_ms)
        .where(a.project_id == project_id, a.kind == "label", a.duration_ms.is_not(None))
        .order_by(a.id.desc())
        .limit(50_000)
    ).all()
    per_user: dict[int, list[int]] = {}
    for user_id, ms in rows:
        bucket = per_user.setdefault(user_id, [])
        if len(bucket) < 1000:
            bucket.append(ms)
    out = {}
    for user_id, values in per_user.items():
        values.sort()
        out[user_id] = values[len(values) // 2] / 1000
    return out
