"""The review page's list: every item of a project with its resolved label and source, annotators'
answers, weak label, model prediction, label-issue score and reasons and open flags; filtered,
sorted by a score, in keyset pages (``after`` = the last row's sort value and item id).

The facts come from :mod:`labelapp.services.labels` (one rule) for the whole project, then the
page's rows are read by id. See :mod:`labelapp.services.review_item` for one item's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import Flag, Item, LabelCorrection, LabelIssue, Project, User
from labelapp.services.errors import UserError
from labelapp.services.label_issues import latest_run
from labelapp.services.labels import WEAK_SOURCES, predictions, resolve_labels
from labelapp.services.overview import live_labels
from labelapp.services.review_names import MAX_PAGE_SIZE, PAGE_SIZE, REVIEW_SORTS


@dataclass(frozen=True)
class ReviewFilter:
    """What the list shows; None (or False) means no condition."""

    label: str | None = None
    source: str | None = None
    annotator: str | None = None  # a username: items they answered
    min_confidence: float | None = None
    max_confidence: float | None = None
    disagreement: bool = False  # annotators gave different answers
    flagged: bool = False  # an open flag
    min_score: float | None = None  # label-issue score from this up
    unlabeled: bool = False  # only items without a resolved label


@dataclass
class ReviewRow:
    """One item as the review page shows it."""

    item_id: int
    external_id: str = ""
    text: str | None = None
    image_path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    labels: list[str] | None = None
    source: str | None = None
    confidence: float | None = None
    answers: list[tuple[str, list[str]]] = field(default_factory=list)
    weak: tuple[list[str], str, float] | None = None
    prediction: tuple[list[str], str, float] | None = None
    issue: dict[str, Any] | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    corrections: int = 0

    def sort_value(self, sort: str) -> float:
        if sort == "issue_score":
            return float(self.issue["score"]) if self.issue else -1.0
        if sort == "confidence":
            return float(self.confidence) if self.confidence is not None else -1.0
        return float(self.item_id)


@dataclass
class ReviewPage:
    total: int
    rows: list[ReviewRow]
    next_after: str | None


def parse_after(after: str | None) -> tuple[float, int] | None:
    """The keyset cursor ``"<sort value>:<item id>"``; a UserError if it is not one."""
    if not after:
        return None
    try:
        value, item_id = after.rsplit(":", 1)
        return float(value), int(item_id)
    except ValueError:
        raise UserError(
            f"after={after!r} is not a cursor from a review page's next_after"
        ) from None


def review_page(
    session: Session,
    project: Project,
    flt: ReviewFilter,
    sort: str = "issue_score",
    descending: bool = True,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> ReviewPage:
    """One page of the project's items under ``flt``, sorted by ``sort`` (ties by item id)."""
    if sort not in REVIEW_SORTS:
        raise UserError(f"sort by one of {', '.join(REVIEW_SORTS)}, not {sort!r}")
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    rows = [r for r in _facts(session, project) if _keep(r, flt)]
    sign = -1.0 if descending else 1.0
    rows.sort(key=lambda r: (sign * r.sort_value(sort), sign * r.item_id))
    cursor = parse_after(after)
    if cursor is not None:
        key = (sign * cursor[0], sign * cursor[1])
        rows_after = [r for r in rows if (sign * r.sort_value(sort), sign * r.item_id) > key]
    else:
        rows_after = rows
    page = rows_after[:limit]
    _fill(session, project, page)
    last = page[-1] if len(rows_after) > limit else None
    return ReviewPage(
        len(rows), page, f"{last.sort_value(sort)!r}:{last.item_id}" if last else None
    )


def _facts(session: Session, project: Project) -> list[ReviewRow]:
    """A row per item of the project with what the filters and sorts need."""
    resolved = resolve_labels(session, project).labels
    rows = {
        i: ReviewRow(i)
        for i in session.scalars(select(Item.id).where(Item.project_id == project.id))
    }
    for item_id, (labels, source, confidence) in resolved.items():
        row = rows.get(item_id)
        if row is not None:
            row.labels, row.source, row.confidence = labels, source, confidence
    names = dict(session.execute(select(User.id, User.username)).all())
    for item_id, user_id, labels in live_labels(session, project.id):
        if item_id in rows:
            rows[item_id].answers.append((names.get(user_id, f"user {user_id}"), labels))
    run = latest_run(session, project.id)
    if run is not None:
        for item_id, score, suggested, reasons, flagged in session.execute(
            select(
                LabelIssue.item_id,
                LabelIssue.score,
                LabelIssue.suggested,
                LabelIssue.reasons,
                LabelIssue.flagged,
            ).where(LabelIssue.run_id == run.id)
        ):
            if item_id in rows:
                rows[item_id].issue = _issue(score, suggested, reasons, flagged)
    for item_id, n in session.execute(
        select(Flag.item_id, func.count())
        .where(Flag.project_id == project.id, Flag.resolved_at.is_(None))
        .group_by(Flag.item_id)
    ):
        if item_id in rows:
            rows[item_id].flags = [{"open": int(n)}]
    return list(rows.values())


def _issue(
    score: float, suggested: str, reasons: list[str] | None, flagged: bool
) -> dict[str, Any]:
    return {
        "score": float(score),
        "suggested": suggested,
        "reasons": list(reasons or []),
        "flagged": bool(flagged),
    }


def _keep(row: ReviewRow, flt: ReviewFilter) -> bool:
    """Whether ``row`` passes every condition of ``flt``."""
    if flt.unlabeled and row.labels is not None:
        return False
    if flt.label is not None and (row.labels is None or flt.label not in row.labels):
        return False
    if flt.source is not None and row.source != flt.source:
        return False
    if flt.annotator is not None and all(name != flt.annotator for name, _ in row.answers):
        return False
    conf = row.confidence
    if flt.min_confidence is not None and (conf is None or conf < flt.min_confidence):
        return False
    if flt.max_confidence is not None and (conf is None or conf > flt.max_confidence):
        return False
    if flt.disagreement and len({tuple(sorted(labels)) for _, labels in row.answers}) < 2:
        return False
    if flt.flagged and not row.flags:
        return False
    return flt.min_score is None or (row.issue is not None and row.issue["score"] >= flt.min_score)


def _fill(session: Session, project: Project, page: list[ReviewRow]) -> None:
    """Content, weak label, prediction, open flags and corrections of the page's rows."""
    ids = [r.item_id for r in page]
    if not ids:
        return
    by_id = {r.item_id: r for r in page}
    for item_id, external_id, text, image_path, meta in session.execute(
        select(Item.id, Item.external_id, Item.text, Item.image_path, Item.meta).where(
            Item.id.in_(ids)
        )
    ):
        row = by_id[item_id]
        row.external_id, row.text, row.image_path, row.meta = (
            external_id,
            text,
            image_path,
            meta or {},
        )
    for item_id, guess in predictions(session, project, WEAK_SOURCES, ids).items():
        by_id[item_id].weak = guess
    for item_id, guess in predictions(session, project, ("model",), ids).items():
        by_id[item_id].prediction = guess
    for row in page:
        row.flags = []
    for item_id, reason, comment in session.execute(
        select(Flag.item_id, Flag.reason, Flag.comment)
        .where(Flag.item_id.in_(ids), Flag.resolved_at.is_(None))
        .order_by(Flag.id)
    ):
        by_id[item_id].flags.append({"reason": reason, "comment": comment})
    for item_id, n in session.execute(
        select(LabelCorrection.item_id, func.count())
        .where(LabelCorrection.item_id.in_(ids))
        .group_by(LabelCorrection.item_id)
    ):
        by_id[item_id].corrections = int(n)


def item_row(session: Session, project: Project, item_id: int) -> ReviewRow:
    """One item's row, as the list shows it (resolved for that item only)."""
    row = ReviewRow(item_id)
    resolved = resolve_labels(session, project, item_ids=[item_id]).labels.get(item_id)
    if resolved is not None:
        row.labels, row.source, row.confidence = resolved
    names = dict(session.execute(select(User.id, User.username)).all())
    row.answers = [
        (names.get(u, f"user {u}"), labels)
        for _, u, labels in live_labels(session, project.id, [item_id])
    ]
    run = latest_run(session, project.id)
    issue = session.get(LabelIssue, (run.id, item_id)) if run is not None else None
    if issue is not None:
        row.issue = _issue(issue.score, issue.suggested, issue.reasons, issue.flagged)
    _fill(session, project, [row])
    return row
