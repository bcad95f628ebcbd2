"""One item under review: its whole history in order (answers, corrections, adjudications, flags,
LF votes, weak and model labels, label-issue scans), and what a reviewer does with a set of items:
send them to adjudication, or back to the labeling queue for k more annotators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from labelapp.db import start_write
from labelapp.models import (
    REVIEWER_ROLES,
    AdjudicationRequest,
    Annotation,
    Flag,
    Item,
    LabelCorrection,
    LabelingFunction,
    LabelIssue,
    LabelIssueRun,
    ProbLabel,
    Project,
    QueueEntry,
    User,
    WeakLabel,
)
from labelapp.services.errors import NotFound, UserError
from labelapp.services.projects import get_project_for, require_project_role, require_writable
from labelapp.services.review_names import MAX_REQUEUE_K

MAX_BATCH = 10_000
MAX_REASON = 2000


@dataclass(frozen=True)
class Event:
    """Something that happened to an item: when, what (``kind``), who or which source, details."""

    at: datetime
    kind: str
    who: str
    labels: list[str]
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind,
            "who": self.who,
            "labels": self.labels,
            "detail": self.detail,
        }


def review_item(
    session: Session, user: User, project_id: int, item_id: int
) -> tuple[Project, Item]:
    """The project and item if ``user`` reviews the project (sme, admin); else 403/404."""
    project = get_project_for(session, user, project_id)
    require_project_role(session, user, project, *REVIEWER_ROLES)
    item = session.get(Item, item_id)
    if item is None or item.project_id != project.id:
        raise NotFound(f"no item {item_id} in project {project_id}")
    return project, item


def history(session: Session, project: Project, item_id: int) -> list[Event]:
    """Every event of the item, oldest first."""
    names = dict(session.execute(select(User.id, User.username)).all())
    events = [
        Event(
            at,
            kind if kind != "label" else "answer",
            names.get(uid, source) if uid else source,
            list(labels or []),
            note or "",
        )
        for at, kind, uid, source, labels, note in session.execute(
            select(
                Annotation.created_at,
                Annotation.kind,
                Annotation.user_id,
                Annotation.source,
                Annotation.labels,
                Annotation.note,
            ).where(Annotation.item_id == item_id)
        )
    ]
    c = LabelCorrection
    for at, uid, labels, reason, prev, prev_source in session.execute(
        select(
            c.created_at, c.user_id, c.labels, c.reason, c.previous_labels, c.previous_source
        ).where(c.item_id == item_id)
    ):
        was = f" (was {'|'.join(prev)} from {prev_source})" if prev else ""
        events.append(Event(at, "correction", names.get(uid, "?"), list(labels), reason + was))
    for at, uid, reason in session.execute(
        select(
            AdjudicationRequest.created_at, AdjudicationRequest.user_id, AdjudicationRequest.reason
        ).where(AdjudicationRequest.item_id == item_id)
    ):
        events.append(Event(at, "sent to adjudication", names.get(uid, "?"), [], reason))
    for at, uid, reason, comment, resolved_at, resolution in session.execute(
        select(
            Flag.created_at,
            Flag.user_id,
            Flag.reason,
            Flag.comment,
            Flag.resolved_at,
            Flag.resolution,
        ).where(Flag.item_id == item_id)
    ):
        events.append(
            Event(at, "flag", names.get(uid, "?"), [], f"{reason}: {comment}".rstrip(": "))
        )
        if resolved_at is not None:
            events.append(Event(resolved_at, "flag resolved", "", [], resolution or ""))
    events += _machine_events(session, project, item_id)
    return sorted(events, key=lambda e: e.at)


def _machine_events(session: Session, project: Project, item_id: int) -> list[Event]:
    """LF votes, probabilistic labels (label model, propagation, end model, weak imports) and
    label-issue scans of the item."""
    classes = [lab.name for lab in project.labels if not lab.is_ambiguous]  # index = LF vote
    events = [
        Event(
            at, "LF vote", f"{name} v{version}", [classes[vote]] if 0 <= vote < len(classes) else []
        )
        for at, name, version, vote in session.execute(
            select(
                LabelingFunction.created_at,
                LabelingFunction.name,
                LabelingFunction.version,
                WeakLabel.vote,
            )
            .join(WeakLabel, WeakLabel.lf_id == LabelingFunction.id)
            .where(WeakLabel.item_id == item_id)
        )
    ]
    for at, source, label, confidence in session.execute(
        select(ProbLabel.created_at, ProbLabel.source, ProbLabel.label, ProbLabel.confidence).where(
            ProbLabel.item_id == item_id
        )
    ):
        events.append(
            Event(
                at,
                "model run" if source == "model" else "weak label",
                source,
                label.split("|"),
                f"confidence {confidence:.2f}",
            )
        )
    for at, score, label, suggested, reasons in session.execute(
        select(
            LabelIssueRun.created_at,
            LabelIssue.score,
            LabelIssue.label,
            LabelIssue.suggested,
            LabelIssue.reasons,
        )
        .join(LabelIssueRun, LabelIssueRun.id == LabelIssue.run_id)
        .where(LabelIssue.item_id == item_id)
    ):
        events.append(
            Event(
                at,
                "label-issue scan",
                "scan",
                [label],
                f"score {score:.2f}, suggests {suggested}; " + "; ".join(reasons or []),
            )
        )
    return events


def _checked_ids(session: Session, project: Project, item_ids: Sequence[int]) -> list[int]:
    ids = sorted({int(i) for i in item_ids})
    if not ids:
        raise UserError("no items selected: filter the list, then send the items shown")
    if len(ids) > MAX_BATCH:
        raise UserError(
            f"{len(ids):,} items at once; send at most {MAX_BATCH:,} (narrow the filter)"
        )
    found = set(
        session.scalars(select(Item.id).where(Item.project_id == project.id, Item.id.in_(ids)))
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise UserError(
            f"{len(missing)} item(s) are not in project {project.name!r} "
            f"(first: {missing[0]}); send ids from this project's review list"
        )
    return ids


def send_to_adjudication(
    session: Session, user: User, project: Project, item_ids: Sequence[int], reason: str
) -> int:
    """Put the items in the adjudication backlog with ``reason`` (sme, admin); commits."""
    require_project_role(session, user, project, *REVIEWER_ROLES)
    require_writable(project, "review actions")
    ids = _checked_ids(session, project, item_ids)
    reason = (reason or "").strip()[:MAX_REASON] or "sent from the review page"
    start_write(session)
    session.add_all(
        AdjudicationRequest(project_id=project.id, item_id=i, user_id=user.id, reason=reason)
        for i in ids
    )
    session.commit()
    return len(ids)


def send_to_queue(
    session: Session, user: User, project: Project, item_ids: Sequence[int], k: int
) -> int:
    """Queue the items again for ``k`` more annotators (not those who answered already; sme,
    admin); commits. Returns how many items went back."""
    require_project_role(session, user, project, *REVIEWER_ROLES)
    require_writable(project, "review actions")
    if not 1 <= int(k) <= MAX_REQUEUE_K:
        raise UserError(f"overlap k must be between 1 and {MAX_REQUEUE_K}, got {k}")
    ids = _checked_ids(session, project, item_ids)
    start_write(session)
    session.execute(
        update(QueueEntry)
        .where(QueueEntry.item_id.in_(ids))
        .values(remaining=int(k), leased_by_id=None, lease_expires_at=None)
    )
    session.execute(update(Item).where(Item.id.in_(ids)).values(target_k=Item.target_k + int(k)))
    session.commit()
    return len(ids)


def open_requests(session: Session, project_id: int) -> list[int]:
    """Items sent to adjudication and not adjudicated or corrected since, oldest request first."""
    r, a, c = AdjudicationRequest, Annotation, LabelCorrection
    decided_since = (
        select(a.id)
        .where(a.item_id == r.item_id, a.kind == "adjudicate", a.created_at >= r.created_at)
        .exists()
    )
    corrected_since = (
        select(c.id).where(c.item_id == r.item_id, c.created_at >= r.created_at).exists()
    )
    ids = session.scalars(
        select(r.item_id)
        .where(r.project_id == project_id, ~decided_since, ~corrected_since)
        .order_by(r.id)
    )
    return list(dict.fromkeys(ids))
