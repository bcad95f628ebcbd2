"""The review list and an item's history over HTTP; reviewers correct labels and send sets of
items to adjudication or back to the labeling queue (sme, admin)."""

from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.schemas.review_items import (
    BatchAction,
    BatchResult,
    CorrectionOut,
    ItemReviewOut,
    NewCorrection,
    ReviewPageOut,
    ReviewQuery,
)
from labelapp.api.serializers.review import correction_json, row_json
from labelapp.api.validation import args, body, validate
from labelapp.models import REVIEWER_ROLES, Project
from labelapp.services import review, review_item
from labelapp.services.corrections import correct_label
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


def review_filter(query: ReviewQuery) -> review.ReviewFilter:
    return review.ReviewFilter(
        label=query.label or None,
        source=query.source or None,
        annotator=query.annotator or None,
        min_confidence=query.min_confidence,
        max_confidence=query.max_confidence,
        disagreement=query.disagreement,
        flagged=query.flagged,
        min_score=query.min_score,
        unlabeled=query.unlabeled,
    )


def review_page_for(project: Project, query: ReviewQuery) -> review.ReviewPage:
    """The review list's page that ``query`` asks for: the API's and the review page's."""
    return review.review_page(
        get_db(),
        project,
        review_filter(query),
        query.sort,
        query.order == "desc",
        query.after or None,
        query.limit,
    )


@api.get("/projects/<int:project_id>/review")
@login_required
@validate(query=ReviewQuery, resp={200: ReviewPageOut})
def review_list(project_id: int):
    """Items with their resolved label and source, answers, weak label, prediction, label-issue
    score and flags; filtered, sorted, keyset-paged (?after=next_after) (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query: ReviewQuery = args()
    page = review_page_for(project, query)
    return jsonify(
        {
            "total": page.total,
            "total_exact": page.total_exact,
            "next_after": page.next_after,
            "items": [row_json(r) for r in page.rows],
        }
    )


@api.get("/projects/<int:project_id>/review/items/<int:item_id>")
@login_required
@validate(resp={200: ItemReviewOut})
def review_item_detail(project_id: int, item_id: int):
    """One item with its whole history in order: answers, corrections, adjudications, flags, LF
    votes, weak and model labels, label-issue scans (sme, admin)"""
    session = get_db()
    project, item = review_item.review_item(session, me(), project_id, item_id)
    row = review.item_row(session, project, item.id)
    events = review_item.history(session, project, item.id)
    return jsonify({"item": row_json(row), "history": [e.to_dict() for e in events]})


@api.post("/items/<int:item_id>/corrections")
@login_required
@validate(json=NewCorrection, resp={201: CorrectionOut})
def correct_item(item_id: int):
    """Correct an item's label with a reason (sme, admin): appended, never overwritten; the
    latest correction is the item's label everywhere (source 'corrected')"""
    request: NewCorrection = body()
    correction = correct_label(get_db(), me(), item_id, request.labels, request.reason)
    return jsonify(correction_json(correction)), 201


@api.post("/projects/<int:project_id>/review/actions")
@login_required
@validate(json=BatchAction, resp={200: BatchResult})
def review_action(project_id: int):
    """Send items to adjudication (with a reason) or back to the labeling queue for k more
    annotators (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    request: BatchAction = body()
    session = get_db()
    if request.action == "adjudicate":
        n = review_item.send_to_adjudication(
            session, me(), project, request.item_ids, request.reason
        )
    else:
        n = review_item.send_to_queue(session, me(), project, request.item_ids, request.k)
    return jsonify({"action": request.action, "items": n})
