"""The annotation loop over HTTP: next, submit, skip, undo, heartbeat, release, progress."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from flask_login import login_required
from sqlalchemy import func, select

from labelapp.api import api
from labelapp.api.openapi import _ERROR, _PAGE, _json, _op, _path_id, register_paths
from labelapp.api.projects import json_body, page_args
from labelapp.api.serialize import annotation_json, claim_json
from labelapp.models import Annotation, Item, User
from labelapp.services import queue
from labelapp.services.projects import get_project_for
from labelapp.services.retrain import maybe_retrain
from labelapp.services.users import get_user
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.post("/projects/<int:project_id>/next")
@login_required
def next_item(project_id: int):  # noqa: ANN201
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
    return jsonify(claim_json(claim))


def _record(item_id: int, kind: str):  # noqa: ANN202
    body = json_body()
    result = queue.record(
        get_db(),
        me(),
        item_id,
        kind=kind,
        client_id=body.get("client_id"),
        labels=body.get("labels"),
        duration_ms=body.get("duration_ms"),
        guideline_version=body.get("guideline_version"),
        note=str(body["note"])[:2000] if body.get("note") else None,
    )
    if result.created and kind == "label" and result.project is not None:
        maybe_retrain(get_db(), current_app.extensions["labelapp.sessions"], result.project)
    return jsonify(annotation_json(result.annotation, me().username)), 201 if result.created else 200


@api.post("/items/<int:item_id>/annotations")
@login_required
def submit_annotation(item_id: int):  # noqa: ANN201
    return _record(item_id, "label")


@api.post("/items/<int:item_id>/skip")
@login_required
def skip_item(item_id: int):  # noqa: ANN201
    return _record(item_id, "skip")


@api.post("/projects/<int:project_id>/undo")
@login_required
def undo(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id)
    claim = queue.undo_last(get_db(), project, me(), json_body().get("client_id"))
    if claim is None:
        return Response(status=204)
    return jsonify(claim_json(claim))


@api.post("/items/<int:item_id>/heartbeat")
@login_required
def heartbeat(item_id: int):  # noqa: ANN201
    expires = queue.heartbeat(get_db(), me(), item_id)
    return jsonify({"item_id": item_id, "lease_expires_at": expires.isoformat()})


@api.post("/items/<int:item_id>/release")
@login_required
def release(item_id: int):  # noqa: ANN201
    session = get_db()
    item = session.get(Item, item_id)
    if item is not None:
        get_project_for(session, me(), item.project_id)
    return jsonify({"item_id": item_id, "released": queue.release(session, me(), item_id)})


@api.get("/projects/<int:project_id>/progress")
@login_required
def progress(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id)
    p = queue.progress(get_db(), project, me())
    return jsonify(
        {
            "done_today": p.done_today,
            "done_total": p.done_total,
            "left_in_queue": p.left_in_queue,
            "leased_now": p.leased_now,
        }
    )


@api.get("/projects/<int:project_id>/annotations")
@login_required
def list_annotations(project_id: int):  # noqa: ANN201
    """Every annotation row of the project, oldest first; ``?user=NAME``, ``?kind=label`` filter."""
    project = project_for_me(project_id)
    offset, limit = page_args()
    session = get_db()
    a = Annotation
    where: list[Any] = [a.project_id == project.id]
    if kind := request.args.get("kind"):
        where.append(a.kind == kind)
    if username := request.args.get("user"):
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


_CLAIM = {
    "type": "object",
    "properties": {
        "item": {"type": "object"},
        "lease_expires_at": {"type": "string", "format": "date-time"},
        "queued_by": {"type": "object"},
    },
}
_SUBMIT = _json(
    {
        "type": "object",
        "required": ["client_id"],
        "properties": {
            "labels": {"type": "array", "items": {"type": "string"}},
            "client_id": {"type": "string", "maxLength": 64},
            "duration_ms": {"type": "integer", "minimum": 0},
            "guideline_version": {"type": "integer"},
            "note": {"type": "string"},
        },
    }
)
_LOST = {"409": _ERROR}

register_paths(
    {
        "/api/projects/{project_id}/next": {
            "post": _op(
                "Claim the next item under a lease (204: nothing left for you)",
                params=[_path_id("project_id")],
                responses={"200": {"description": "The leased item", "content": _json(_CLAIM)},
                           "204": {"description": "Nothing left for this annotator; with a "
                                          "Retry-After header, items held by others may come "
                                          "back: ask again then"}},
            )
        },
        "/api/items/{item_id}/annotations": {
            "post": _op(
                "Label an item (201); a repeated client_id returns the stored annotation (200)",
                ok="201",
                body=_SUBMIT,
                params=[_path_id("item_id")],
                responses={"200": {"description": "Already stored (retry)"}, **_LOST},
            )
        },
        "/api/items/{item_id}/skip": {
            "post": _op(
                "Skip an item (you will not get it again); idempotent by client_id",
                ok="201",
                body=_SUBMIT,
                params=[_path_id("item_id")],
                responses=_LOST,
            )
        },
        "/api/projects/{project_id}/undo": {
            "post": _op(
                "Retract your latest label or skip; the item comes back to you leased",
                body=_json({"type": "object", "required": ["client_id"]}),
                params=[_path_id("project_id")],
                responses={"204": {"description": "Nothing to undo"}},
            )
        },
        "/api/items/{item_id}/heartbeat": {
            "post": _op(
                "Extend your lease on an open item (409 if it was lost)",
                params=[_path_id("item_id")],
                responses=_LOST,
            )
        },
        "/api/items/{item_id}/release": {
            "post": _op("Give back your lease on an item", params=[_path_id("item_id")])
        },
        "/api/projects/{project_id}/progress": {
            "get": _op("Your progress and what the project still needs",
                       params=[_path_id("project_id")])
        },
        "/api/projects/{project_id}/annotations": {
            "get": _op(
                "Annotations of the project, oldest first (paginated; filter by user, kind)",
                params=[
                    _path_id("project_id"),
                    *_PAGE,
                    {"name": "user", "in": "query", "schema": {"type": "string"}},
                    {"name": "kind", "in": "query",
                     "schema": {"enum": ["label", "skip", "retract", "adjudicate"]}},
                ],
            )
        },
    }
)
