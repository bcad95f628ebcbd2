"""The annotation loop over HTTP: next, submit, skip, undo, heartbeat, release, progress."""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_login import login_required
from sqlalchemy import func, select

from labelapp.api import api
from labelapp.api.projects import page_args
from labelapp.api.schemas.queue import (
    AnnotationOut,
    AnnotationPage,
    AnnotationQuery,
    Answer,
    ClaimOut,
    HeartbeatOut,
    LeaseTicket,
    ProgressOut,
    ReleaseOut,
    UndoRequest,
)
from labelapp.api.serializers.items import annotation_json, claim_json
from labelapp.api.validation import body, validate
from labelapp.models import Annotation, Item, User
from labelapp.services import answers, queue
from labelapp.services.errors import Forbidden
from labelapp.services.projects import get_project_for
from labelapp.services.users import get_user
from labelapp.web.access import me, project_for_me, reviews
from labelapp.web.db import get_db

_LOST = (409,)  # the lease went to someone else, or the client_id was used for another item


@api.post("/projects/<int:project_id>/next")
@login_required
@validate(resp={200: ClaimOut, 204: None})
def next_item(project_id: int):
    """Claim the next item under a lease (204: nothing left for you)

    With a Retry-After header on the 204, items held by others may come back: ask again then."""
    project = project_for_me(project_id)
    session = get_db()
    claim = queue.claim_next(session, project, me())
    if claim is None:
        # Nothing for you now. If others hold items you could still get, say when to ask again.
        response = Response(status=204)
        if waiting := queue.held_by_others(session, project, me()):
            response.headers["Retry-After"] = "5"
            response.headers["X-Held-By-Others"] = str(waiting)
        return response
    return jsonify(claim_json(claim, me().id))


def _record(item_id: int, kind: str):
    answer: Answer = body()
    result = queue.record(
        get_db(),
        me(),
        item_id,
        kind=kind,
        client_id=answer.client_id,
        labels=answer.labels,
        duration_ms=answer.duration_ms,
        guideline_version=answer.guideline_version,
        note=answer.note or None,
    )
    return jsonify(
        annotation_json(result.annotation, me().username)
    ), 201 if result.created else 200


@api.post("/items/<int:item_id>/annotations")
@login_required
@validate(json=Answer, resp={201: AnnotationOut, 200: AnnotationOut}, errors=_LOST)
def submit_annotation(item_id: int):
    """Label an item (201); a repeated client_id returns the stored annotation (200)"""
    return _record(item_id, "label")


@api.post("/items/<int:item_id>/skip")
@login_required
@validate(json=Answer, resp={201: AnnotationOut, 200: AnnotationOut}, errors=_LOST)
def skip_item(item_id: int):
    """Skip an item (you will not get it again); idempotent by client_id"""
    return _record(item_id, "skip")


@api.post("/projects/<int:project_id>/undo")
@login_required
@validate(json=UndoRequest, resp={200: ClaimOut, 204: None}, errors=_LOST)
def undo(project_id: int):
    """Retract your latest label or skip; the item returns to you leased (204: nothing to undo)"""
    project = project_for_me(project_id)
    claim = queue.undo_last(get_db(), project, me(), body().client_id)
    if claim is None:
        return Response(status=204)
    return jsonify(claim_json(claim, me().id))


@api.post("/items/<int:item_id>/heartbeat")
@login_required
@validate(json=LeaseTicket, optional_body=True, resp={200: HeartbeatOut}, errors=_LOST)
def heartbeat(item_id: int):
    """Extend your lease on an open item (409 if it was lost); send the claim's lease_ticket"""
    ticket = (body() or LeaseTicket()).lease_ticket or ""
    expected = queue.lease_ticket(current_app.config["SECRET_KEY"], me().id, item_id)
    served = hmac.compare_digest(ticket.encode(), expected.encode())
    expires = queue.heartbeat(get_db(), me(), item_id, served=served)
    return jsonify({"item_id": item_id, "lease_expires_at": expires.isoformat()})


@api.post("/items/<int:item_id>/release")
@login_required
@validate(resp={200: ReleaseOut})
def release(item_id: int):
    """Give back your lease on an item"""
    session = get_db()
    item = session.get(Item, item_id)
    if item is not None:
        get_project_for(session, me(), item.project_id)
    return jsonify({"item_id": item_id, "released": queue.release(session, me(), item_id)})


@api.get("/projects/<int:project_id>/progress")
@login_required
@validate(resp={200: ProgressOut})
def progress(project_id: int):
    """Your progress (counts, rate, what is left for you) and what the project still needs"""
    project = project_for_me(project_id)
    return jsonify(asdict(answers.progress(get_db(), project, me())))


@api.get("/projects/<int:project_id>/annotations")
@login_required
@validate(query=AnnotationQuery, resp={200: AnnotationPage})
def list_annotations(project_id: int):
    """The project's annotation rows, oldest first; ``?user=NAME``, ``?kind=label`` filter.
    Reviewers see every row; an annotator sees only their own."""
    project = project_for_me(project_id)
    offset, limit = page_args()
    session = get_db()
    a = Annotation
    where: list[Any] = [a.project_id == project.id]
    if kind := request.args.get("kind"):
        where.append(a.kind == kind)
    username = request.args.get("user")
    if not reviews(project):
        if username not in (None, me().username):
            raise Forbidden("annotators see only their own annotations")
        username = me().username
    if username:
        where.append(a.user_id == get_user(session, username).id)
    total = session.scalar(select(func.count()).select_from(a).where(*where))
    rows = list(session.scalars(select(a).where(*where).order_by(a.id).offset(offset).limit(limit)))
    user_ids = {r.user_id for r in rows if r.user_id is not None}
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(user_ids))).all())
    return jsonify(
        {
            "total": total,
            "offset": offset,
            "annotations": [annotation_json(r, names.get(r.user_id)) for r in rows],
        }
    )
