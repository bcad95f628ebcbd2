"""The review page's list: every item of a project with its resolved label and source, annotators'
answers, weak label, model prediction, label-issue score and reasons and open flags; filtered,
sorted by a score, in keyset pages (``after`` = the last row's sort value and item id).

The list reads :class:`~labelapp.models.ItemLabel`, the one rule's output kept current by every
write (:func:`labelapp.services.labels.refresh_item_labels`): filters and sorts are SQL over its
indexes and a page is one keyset range scan, whatever the project's size; then only the page's
rows get their content, answers, weak label, prediction, scan reasons and flags, read by id. See
:mod:`labelapp.services.review_item` for one item's history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, literal, select, tuple_
from sqlalchemy.orm import Session

from labelapp.models import (
    Annotation,
    Flag,
    Item,
    ItemLabel,
    LabelCorrection,
    LabelIssue,
    LabelIssueRun,
    Project,
    User,
)
from labelapp.models.item_labels import LABEL_SEPARATOR, NO_SCORE
from labelapp.services.current_answers import is_current_label, ranked_answers
from labelapp.services.errors import UserError
from labelapp.services.label_facts import Scope, latest_weak_query
from labelapp.services.labels import PREDICTION_SOURCES, WEAK_SOURCES
from labelapp.services.review_names import COUNT_CAP, MAX_PAGE_SIZE, PAGE_SIZE, REVIEW_SORTS


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
    total: int  # items matching the filter, counted up to COUNT_CAP
    rows: list[ReviewRow]
    next_after: str | None
    total_exact: bool = True  # False: more than ``total`` items match


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
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    count, rows = page_queries(session, project, flt, sort, descending, after, limit)
    total = int(session.scalar(count) or 0)
    found = session.execute(rows).all()
    page = [_row(r) for r in found[:limit]]
    _fill(session, project, page)
    last = page[-1] if len(found) > limit else None
    return ReviewPage(
        min(total, COUNT_CAP),
        page,
        f"{last.sort_value(sort)!r}:{last.item_id}" if last else None,
        total <= COUNT_CAP,
    )


def page_queries(
    session: Session,
    project: Project,
    flt: ReviewFilter,
    sort: str,
    descending: bool,
    after: str | None,
    limit: int,
) -> tuple[Any, Any]:
    """The two statements of a page: the filter's count (stopping after COUNT_CAP + 1), and
    ``limit + 1`` rows after the cursor in sort order (one more tells whether a next page
    exists)."""
    if sort not in REVIEW_SORTS:
        raise UserError(f"sort by one of {', '.join(REVIEW_SORTS)}, not {sort!r}")
    il = ItemLabel
    where = [il.project_id == project.id, *_conditions(session, project, flt)]
    matching = select(il.item_id).where(*where).limit(COUNT_CAP + 1).subquery()
    count = select(func.count()).select_from(matching)
    key = {"issue_score": il.issue_score, "confidence": il.confidence, "item": il.item_id}[sort]
    cursor = parse_after(after)
    if cursor is not None:
        value, item_id = cursor
        if sort == "item":
            where.append(il.item_id < item_id if descending else il.item_id > item_id)
        elif descending:
            where.append(tuple_(key, il.item_id) < tuple_(value, item_id))
        else:
            where.append(tuple_(key, il.item_id) > tuple_(value, item_id))
    order = (key.desc(), il.item_id.desc()) if descending else (key.asc(), il.item_id.asc())
    rows = (
        _rows(project.id)
        .where(*where)
        .order_by(*(order[1:] if sort == "item" else order))
        .limit(limit + 1)
    )
    return count, rows


def _rows(project_id: int) -> Any:
    """The page's rows with their item's content, the latest scan's details and the number of
    corrections, in one statement (joined row by row along the index order)."""
    il, li, c = ItemLabel, LabelIssue, LabelCorrection
    run = (
        select(func.max(LabelIssueRun.id))
        .where(LabelIssueRun.project_id == project_id)
        .scalar_subquery()
    )
    corrections = (
        select(func.count()).where(c.item_id == il.item_id).correlate(il).scalar_subquery()
    )
    return (
        select(
            il.item_id,
            il.labels,
            il.source,
            il.confidence,
            il.issue_score,
            Item.external_id,
            Item.text,
            Item.image_path,
            Item.meta,
            li.suggested,
            li.reasons,
            li.flagged,
            corrections,
        )
        .join(Item, Item.id == il.item_id)
        .outerjoin(li, and_(li.run_id == run, li.item_id == il.item_id))
    )


def _row(found: Any) -> ReviewRow:
    (item_id, labels, source, confidence, score, external_id, text, image, meta) = found[:9]
    suggested, reasons, flagged, corrections = found[9:]
    row = ReviewRow(item_id, external_id, text, image, meta or {}, list(labels) if labels else None)
    row.source, row.corrections = source, int(corrections or 0)
    row.confidence = None if confidence == NO_SCORE else float(confidence)
    if score != NO_SCORE:
        row.issue = _issue(score, suggested, reasons, flagged)
    return row


def _conditions(session: Session, project: Project, flt: ReviewFilter) -> list[Any]:
    """``flt`` as SQL conditions on :class:`ItemLabel` (each served by one of its indexes)."""
    il = ItemLabel
    out: list[Any] = []
    if flt.unlabeled:
        out.append(il.label.is_(None))
    if flt.label is not None:
        if project.multi_label:
            sep = literal(LABEL_SEPARATOR)
            key = sep + il.label + sep
            out.append(
                key.contains(f"{LABEL_SEPARATOR}{flt.label}{LABEL_SEPARATOR}", autoescape=True)
            )
        else:
            out.append(il.label == flt.label)
    if flt.source is not None:
        out.append(il.source == flt.source)
    if flt.annotator is not None:
        out.append(il.item_id.in_(_answered_by(session, project, flt.annotator)))
    if flt.min_confidence is not None or flt.max_confidence is not None:
        out.append(il.confidence != NO_SCORE)
    if flt.min_confidence is not None:
        out.append(il.confidence >= flt.min_confidence)
    if flt.max_confidence is not None:
        out.append(il.confidence <= flt.max_confidence)
    if flt.disagreement:  # the bare column: the partial indexes' predicate
        out.append(il.disagreement)
    if flt.flagged:
        out.append(il.flagged)
    if flt.min_score is not None:
        out.extend((il.issue_score != NO_SCORE, il.issue_score >= flt.min_score))
    return out


def _answered_by(session: Session, project: Project, username: str) -> Any:
    """The items ``username`` currently labels (their latest row is a label)."""
    a = Annotation
    user_id = session.scalar(select(User.id).where(User.username == username))
    ranked = (
        select(
            a.item_id,
            a.kind,
            func.row_number().over(partition_by=a.item_id, order_by=a.id.desc()).label("rk"),
        )
        .where(a.project_id == project.id, a.user_id == user_id, a.kind != "adjudicate")
        .subquery()
    )
    return select(ranked.c.item_id).where(ranked.c.rk == 1, ranked.c.kind == "label")


def _issue(
    score: float, suggested: str, reasons: list[str] | None, flagged: bool
) -> dict[str, Any]:
    return {
        "score": float(score),
        "suggested": suggested,
        "reasons": list(reasons or []),
        "flagged": bool(flagged),
    }


def _fill(session: Session, project: Project, page: list[ReviewRow]) -> None:
    """Answers, weak label, prediction and open flags of the page's rows."""
    ids = [r.item_id for r in page]
    if not ids:
        return
    by_id = {r.item_id: r for r in page}
    for row in page:
        row.answers, row.flags = [], []
    for item_id, name, labels in _answers(session, ids):
        by_id[item_id].answers.append((name, list(labels)))
    latest = latest_weak_query(project.id, PREDICTION_SOURCES, Scope(ids=tuple(ids)))
    for item_id, source, label, confidence in session.execute(
        select(latest.c.item_id, latest.c.source, latest.c.label, latest.c.confidence)
    ):  # the weak label (the first of WEAK_SOURCES an item has) and the end model's
        row, guess = by_id[item_id], _guess(project, label, source, confidence)
        if source not in WEAK_SOURCES:
            row.prediction = guess
        elif row.weak is None or WEAK_SOURCES.index(source) < WEAK_SOURCES.index(row.weak[1]):
            row.weak = guess
    for item_id, reason, comment in session.execute(
        select(Flag.item_id, Flag.reason, Flag.comment)
        .where(Flag.item_id.in_(ids), Flag.resolved_at.is_(None))
        .order_by(Flag.id)
    ):
        by_id[item_id].flags.append({"reason": reason, "comment": comment})


def _answers(session: Session, ids: list[int]) -> list[tuple[int, str, list[str]]]:
    """(item id, username, labels) of each annotator's current label on the items ``ids``
    (their latest row, when it is a label; as :func:`~labelapp.services.overview.live_labels`)."""
    ranked = ranked_answers(Annotation.item_id.in_(ids))
    return [
        (item_id, name or f"user {user_id}", labels)
        for item_id, user_id, name, labels in session.execute(
            select(ranked.c.item_id, ranked.c.user_id, User.username, ranked.c.labels)
            .outerjoin(User, User.id == ranked.c.user_id)
            .where(is_current_label(ranked))
            .order_by(ranked.c.item_id, ranked.c.user_id)
        )
    ]


def _guess(
    project: Project, label: str, source: str, confidence: float
) -> tuple[list[str], str, float]:
    return (label.split("|") if project.multi_label else [label], source, float(confidence))


def item_row(session: Session, project: Project, item_id: int) -> ReviewRow:
    """One item's row, as the list shows it."""
    il = ItemLabel
    found = session.execute(
        _rows(project.id).where(il.item_id == item_id, il.project_id == project.id)
    ).first()
    if found is None:  # no row yet (written behind the services' back): the item alone
        item = session.get(Item, item_id)
        row = ReviewRow(item_id)
        if item is not None:
            row.external_id, row.text, row.image_path = item.external_id, item.text, item.image_path
            row.meta = item.meta or {}
    else:
        row = _row(found)
    _fill(session, project, [row])
    return row
