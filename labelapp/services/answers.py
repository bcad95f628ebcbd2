"""An annotator's own answers: the earlier-answers list (searchable) and the progress panel.

An answer is the annotator's latest live row (``label`` or ``skip``) for an item; changing it
appends a new ``label`` row through :func:`labelapp.services.queue.record`, as undo appends a
``retract``: nothing is overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Item, Project, QueueEntry, User, utcnow
from labelapp.services.queue import LIVE_KINDS

MAX_QUERY = 200


def _latest_rows(project: Project, user: User):
    """The id of the user's latest row per item in the project (what state each pair is in)."""
    a = Annotation
    return (
        select(func.max(a.id).label("id"))
        .where(a.project_id == project.id, a.user_id == user.id, a.kind != "adjudicate")
        .group_by(a.item_id)
        .subquery()
    )


@dataclass(frozen=True)
class MyAnswer:
    """An item and the annotator's current answer to it."""

    item: Item
    annotation: Annotation


def my_answers(
    session: Session,
    project: Project,
    user: User,
    *,
    query: str = "",
    label: str = "",
    offset: int = 0,
    limit: int = 20,
) -> tuple[int, list[MyAnswer]]:
    """The user's current answers in the project, newest first: (total, one page).

    ``query`` matches the item's text or external id (case-insensitive, as typed); ``label`` keeps
    answers that include that label. Items whose latest row is a retract (undone) are left out.
    """
    a = Annotation
    latest = _latest_rows(project, user)
    where: list[Any] = [a.kind.in_(LIVE_KINDS)]
    if query := query.strip()[:MAX_QUERY]:
        where.append(
            or_(
                Item.text.icontains(query, autoescape=True),
                Item.external_id.icontains(query, autoescape=True),
            )
        )
    if label:
        # labels is a JSON list: its text holds each name in double quotes on both databases.
        where.append(cast(a.labels, String).contains(f'"{label}"', autoescape=True))
    base = (
        select(a, Item)
        .join(latest, latest.c.id == a.id)
        .join(Item, Item.id == a.item_id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(a.id.desc()).offset(offset).limit(limit)).all()
    session.commit()
    return int(total), [MyAnswer(item, annotation) for annotation, item in rows]


@dataclass(frozen=True)
class Progress:
    """The progress panel: the annotator's own counts and rate, and the project's remaining work."""

    done_today: int
    done_total: int  # items the user's current answer labels
    left_in_queue: int  # the project's: labels still needed from anyone
    leased_now: int
    left_for_me: int  # items this annotator could still get (some may be open on other screens)
    held_by_others: int
    labels_needed_total: int  # the project's: labels asked for in all (non-gold items)
    answered_today: int  # labels and skips
    seconds_on_items_today: float
    rate_per_hour: float | None  # answers per hour of time spent on items today


def _my_today(
    session: Session, project: Project, user: User, now: datetime
) -> tuple[int, int, float]:
    """Labels and answers (labels + skips) given today, by latest row per item, and the seconds
    spent on items in them."""
    a = Annotation
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = session.execute(
        select(a.item_id, a.kind, a.duration_ms)
        .where(a.project_id == project.id, a.user_id == user.id, a.created_at >= midnight)
        .where(a.kind != "adjudicate")
        .order_by(a.id)
    ).all()
    latest = {item_id: kind for item_id, kind, _ in rows}
    labels = sum(1 for kind in latest.values() if kind == "label")
    answered = sum(1 for kind in latest.values() if kind in LIVE_KINDS)
    seconds = sum((ms or 0) for _, kind, ms in rows if kind in LIVE_KINDS) / 1000
    return labels, answered, seconds


def progress(session: Session, project: Project, user: User) -> Progress:
    """What the annotator has done (today, in all, how fast) and what is left, for them and for
    the project. Read in one transaction, so the counts agree with each other."""
    now = utcnow()
    done_today, answered_today, seconds = _my_today(session, project, user, now)
    a, q = Annotation, QueueEntry
    latest = _latest_rows(project, user)
    done_total = session.scalar(  # items whose current answer from this user is a label
        select(func.count())
        .select_from(a)
        .join(latest, latest.c.id == a.id)
        .where(a.kind == "label")
    )
    needed_left, needed_total = session.execute(
        select(
            func.coalesce(func.sum(case((q.remaining > 0, q.remaining), else_=0)), 0),
            func.coalesce(func.sum(Item.target_k), 0),
        )
        .select_from(q)
        .join(Item, Item.id == q.item_id)
        .where(q.project_id == project.id, q.is_gold.is_(False))
    ).one()
    not_mine = ~exists().where(a.item_id == q.item_id, a.user_id == user.id)
    live_lease = and_(q.leased_by_id.is_not(None), q.lease_expires_at > now)
    left_for_me, held = session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((and_(live_lease, q.leased_by_id != user.id), 1), else_=0)), 0
            ),
        ).where(q.project_id == project.id, q.remaining > 0, q.is_gold.is_(False), not_mine)
    ).one()
    leased = session.scalar(select(func.count()).where(q.project_id == project.id, live_lease))
    session.commit()
    rate = 3600 * answered_today / seconds if answered_today and seconds >= 1 else None
    return Progress(
        done_today=done_today,
        done_total=int(done_total or 0),
        left_in_queue=int(needed_left or 0),
        leased_now=int(leased or 0),
        left_for_me=int(left_for_me or 0),
        held_by_others=int(held or 0),
        labels_needed_total=max(int(needed_total or 0), int(needed_left or 0)),
        answered_today=answered_today,
        seconds_on_items_today=round(seconds, 1),
        rate_per_hour=round(rate, 1) if rate is not None else None,
    )
