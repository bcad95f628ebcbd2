"""The adjudication backlog and adjudications: which items reviewers still have to decide, and
their decisions.

The backlog is the agreement report's disagreements (annotators disagree; optionally also a
Dawid-Skene confidence below the report's ``min_confidence``; optionally items someone called
ambiguous), without gold items (their answer is known) and without items already adjudicated.
Each entry's suggestion is the label of the aggregation method picked for the project's answers
(:mod:`labelapp.services.aggregation`: best on gold items, else a documented rule). The open
backlog is built from the stored report by :mod:`labelapp.services.agreement_view`.
A reviewer's decision is an append-only ``Annotation`` with ``kind="adjudicate"``,
``source="adjudication"`` and the reason in ``note``; the latest adjudication of an item is its
final label.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelapp.db import start_write
from labelapp.models import REVIEWER_ROLES, Annotation, Project, User, utcnow
from labelapp.services.errors import Conflict, UserError
from labelapp.services.labels import refresh_item_labels
from labelapp.services.projects import (
    current_guideline,
    get_project_of_item,
    require_project_role,
    require_writable,
)
from labelapp.services.queue import (
    annotation_by_client_id,
    check_client_id,
    stored_by_the_other_copy,
)
from labelapp.services.retrain_trigger import maybe_retrain

if TYPE_CHECKING:
    from labelapp.services.agreement import ProjectAgreement
    from weak_supervision.agreement.report import AgreementReport

MAX_REASON = 2000


# --- the adjudication backlog --------------------------------------------------------------


@dataclass(frozen=True)
class Adjudication:
    """An item's latest adjudication."""

    annotation_id: int
    labels: list[str]
    reviewer: str
    reason: str
    created_at: datetime


def adjudications(session: Session, project_id: int) -> dict[int, Adjudication]:
    """item id -> its latest adjudication."""
    a = Annotation
    rows = session.execute(
        select(a.id, a.item_id, a.labels, User.username, a.note, a.created_at)
        .join(User, User.id == a.user_id, isouter=True)
        .where(a.project_id == project_id, a.kind == "adjudicate")
        .order_by(a.id)
    ).all()
    return {
        item_id: Adjudication(ann_id, list(labels), name or "?", note or "", created_at)
        for ann_id, item_id, labels, name, note, created_at in rows
    }


@dataclass(frozen=True)
class BacklogEntry:
    """An item to adjudicate: why, who said what, and what the consensus models suggest."""

    item_id: int
    reason: str
    answers: list[tuple[str, list[str], datetime]]
    majority: str | None
    majority_share: float | None
    suggestion: str | None
    confidence: float | None
    suggested_by: str = "Dawid-Skene"  # the title of the method that made the suggestion
    dawid_skene: str | None = None  # Dawid-Skene's label (``confidence`` is its posterior)


@dataclass(frozen=True)
class Backlog:
    """One page of the open backlog and its full length."""

    total: int
    entries: list[BacklogEntry]


def with_open_backlog(session: Session, agreement: ProjectAgreement) -> AgreementReport | None:
    """The report with ``disagreements`` cut to the open backlog (for tables and the CLI)."""
    report = agreement.report
    if report is None:
        return None
    skip = set(adjudications(session, agreement.project_id)) | set(agreement.gold)
    remaining = report.disagreements[~report.disagreements.index.isin(list(skip))]
    return replace(report, disagreements=remaining)


# --- adjudicating --------------------------------------------------------------------------


@dataclass(frozen=True)
class Adjudicated:
    """The stored adjudication and whether this request stored it (False: a retry)."""

    annotation: Annotation
    created: bool


def _final_labels(project: Project, labels: object) -> list[str]:
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise UserError('labels must be a list of label names, e.g. {"labels": ["spam"]}')
    names = [lab.name for lab in project.labels]
    unknown = [x for x in labels if x not in names]
    if unknown:
        raise UserError(
            f"unknown label(s) {', '.join(map(repr, unknown))} for project {project.name!r}",
            [f"known labels: {', '.join(names)}"],
        )
    chosen = [n for n in names if n in set(labels)]
    if not chosen:
        raise UserError("choose the final label")
    if len(chosen) > 1 and not project.multi_label:
        raise UserError("this project takes one label per item: choose one final label")
    ambiguous = {lab.name for lab in project.labels if lab.is_ambiguous}
    if ambiguous & set(chosen):
        raise UserError(
            "'ambiguous' cannot be the final label: adjudication decides the item; if the "
            "guidelines do not say, write that in the reason and choose the closest label"
        )
    return chosen


def adjudicate(session: Session, reviewer: User, item_id: int, **decision: object) -> Adjudicated:
    """The adjudication use case: store it (:func:`store_adjudication`), then count the new
    human label toward the next retrain."""
    result = store_adjudication(session, reviewer, item_id, **decision)  # type: ignore[arg-type]
    if result.created:
        project = session.get(Project, result.annotation.project_id)
        if project is not None:
            maybe_retrain(session, project)
    return result


def store_adjudication(
    session: Session,
    reviewer: User,
    item_id: int,
    *,
    labels: object,
    reason: object,
    client_id: object,
) -> Adjudicated:
    """Record ``reviewer``'s final label for an item with their reason; retries are no-ops.

    Reviewers are SMEs and admins of the item's project. The row is appended; an earlier
    adjudication of the item stays in the history and the latest one counts.
    """
    project = get_project_of_item(session, reviewer, item_id)
    require_project_role(session, reviewer, project, *REVIEWER_ROLES)
    require_writable(project, "adjudications")
    client_id = check_client_id(client_id)
    if not isinstance(reason, str) or not reason.strip():
        raise UserError("write a reason: why this label (it is kept with the decision)")
    if len(reason) > MAX_REASON:
        raise UserError(f"the reason is {len(reason)} characters; keep it under {MAX_REASON}")
    chosen = _final_labels(project, labels)

    start_write(session)
    existing = annotation_by_client_id(session, reviewer, client_id)
    if existing is not None:
        session.commit()
        return _replay(existing, item_id)
    guideline = current_guideline(session, project)
    annotation = Annotation(
        item_id=item_id,
        project_id=project.id,
        user_id=reviewer.id,
        source="adjudication",
        kind="adjudicate",
        labels=chosen,
        client_id=client_id,
        guideline_version=guideline.version if guideline else None,
        note=reason.strip(),
        created_at=utcnow(),
    )
    session.add(annotation)
    try:
        refresh_item_labels(session, project, [item_id])  # flushes the row: may raise too
        session.commit()
    except IntegrityError as error:
        return _replay(stored_by_the_other_copy(session, reviewer, client_id, error), item_id)
    return Adjudicated(annotation, created=True)


def _replay(existing: Annotation, item_id: int) -> Adjudicated:
    if existing.item_id != item_id or existing.kind != "adjudicate":
        raise Conflict(
            f"client_id {existing.client_id!r} was already used for another submit (item "
            f"{existing.item_id}, {existing.kind}); make a new client_id for each submit"
        )
    return Adjudicated(existing, created=False)
