"""Agreement over HTTP: the report, the adjudication backlog, final labels, guideline versions."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import login_required
from sqlalchemy import select

from labelapp.api import api
from labelapp.api.openapi import _PAGE, _json, _op, _path_id, register_paths
from labelapp.api.projects import json_body, page_args
from labelapp.api.serialize import annotation_json, item_json
from labelapp.models import Guideline, Item
from labelapp.services import adjudication
from labelapp.services import agreement as service
from labelapp.services.errors import UserError
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


def float_arg(name: str) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise UserError(f"{name} must be a number, e.g. ?{name}=0.8; got {raw!r}") from None


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"{name} must be a whole number; got {raw!r}") from None


def flag_arg(name: str, default: bool = False) -> bool:
    raw = request.args.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise UserError(f"{name} must be 1 or 0; got {raw!r}")


@api.get("/projects/<int:project_id>/agreement")
@login_required
def agreement_report(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "admin")
    session = get_db()
    result = service.project_agreement(
        session,
        project,
        n_resamples=int_arg("n_resamples", 1000),
        min_confidence=float_arg("min_confidence"),
        with_model=flag_arg("model", True),
    )
    limit = int_arg("max_disagreements", 50)
    if not 0 <= limit <= 10_000:
        raise UserError("max_disagreements must be from 0 to 10000")
    return jsonify(service.agreement_dict(session, result, max_disagreements=limit))


@api.get("/projects/<int:project_id>/adjudication")
@login_required
def adjudication_backlog(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, *adjudication.REVIEWER_ROLES)
    min_confidence, include_ambiguous = float_arg("min_confidence"), flag_arg("include_ambiguous")
    offset, limit = page_args(default_limit=50)
    session = get_db()
    result = service.project_agreement(
        session, project, n_resamples=0, min_confidence=min_confidence, with_model=False
    )
    backlog = adjudication.open_backlog(session, result, include_ambiguous, offset, limit)
    items = {
        item.id: item
        for item in session.scalars(
            select(Item).where(Item.id.in_([e.item_id for e in backlog.entries]))
        )
    }
    return jsonify(
        {
            "total": backlog.total,
            "offset": offset,
            "entries": [
                {**adjudication.entry_dict(e), "item": item_json(items[e.item_id])}
                for e in backlog.entries
            ],
        }
    )


@api.post("/items/<int:item_id>/adjudication")
@login_required
def adjudicate_item(item_id: int):  # noqa: ANN201
    body = json_body()
    result = adjudication.adjudicate(
        get_db(),
        me(),
        item_id,
        labels=body.get("labels"),
        reason=body.get("reason"),
        client_id=body.get("client_id"),
    )
    return (
        jsonify(annotation_json(result.annotation, me().username)),
        201 if result.created else 200,
    )


def guideline_json(guideline) -> dict:  # noqa: ANN001
    return {
        "version": guideline.version,
        "body": guideline.body,
        "author_id": guideline.author_id,
        "created_at": guideline.created_at.isoformat(),
    }


@api.get("/projects/<int:project_id>/guidelines")
@login_required
def list_guidelines(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id)
    rows = get_db().scalars(
        select(Guideline).where(Guideline.project_id == project.id).order_by(Guideline.version)
    )
    return jsonify({"guidelines": [guideline_json(g) for g in rows]})


@api.post("/projects/<int:project_id>/guidelines")
@login_required
def new_guidelines(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, *adjudication.REVIEWER_ROLES)
    session = get_db()
    guideline, created = service.new_guideline_version(
        session, project, json_body().get("body"), me()
    )
    session.commit()
    return jsonify(guideline_json(guideline)), 201 if created else 200


_MIN_CONFIDENCE = {
    "name": "min_confidence",
    "in": "query",
    "schema": {"type": "number", "minimum": 0, "maximum": 1},
    "description": "also flag items whose Dawid-Skene confidence is below this",
}

register_paths(
    {
        "/api/projects/{project_id}/agreement": {
            "get": _op(
                "Agreement report (admin): percent agreement, Fleiss' kappa, Krippendorff's "
                "alpha with bootstrap intervals, pairwise Cohen's kappa, per-label agreement, "
                "annotator reliability (Dawid-Skene, gold accuracy), human level next to the "
                "queue's model, ambiguous answers, agreement per guideline version and over "
                "time, the adjudication backlog",
                params=[
                    _path_id("project_id"),
                    _MIN_CONFIDENCE,
                    {"name": "n_resamples", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "maximum": 10000,
                                "default": 1000}},
                    {"name": "model", "in": "query", "schema": {"enum": ["0", "1"]},
                     "description": "0 skips the model comparison (faster)"},
                    {"name": "max_disagreements", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "default": 50}},
                ],
            )
        },
        "/api/projects/{project_id}/adjudication": {
            "get": _op(
                "Items awaiting adjudication (sme, admin), least confident first, with every "
                "current answer and who gave it, the majority and the Dawid-Skene suggestion",
                params=[
                    _path_id("project_id"),
                    *_PAGE,
                    _MIN_CONFIDENCE,
                    {"name": "include_ambiguous", "in": "query", "schema": {"enum": ["0", "1"]},
                     "description": "1 also lists items someone answered 'ambiguous'"},
                ],
            )
        },
        "/api/projects/{project_id}/guidelines": {
            "get": _op("Every guideline version, oldest first", params=[_path_id("project_id")]),
            "post": _op(
                "Save the guidelines as a new version (sme, admin); 200 with the current version "
                "when the text is unchanged. Answers record the version they were given under.",
                ok="201",
                params=[_path_id("project_id")],
                body=_json({"type": "object", "required": ["body"],
                            "properties": {"body": {"type": "string"}}}),
            ),
        },
        "/api/items/{item_id}/adjudication": {
            "post": _op(
                "Record the final label of an item with a reason (sme, admin); 201, or 200 "
                "with the stored one when the client_id was already used for it",
                ok="201",
                params=[_path_id("item_id")],
                body=_json(
                    {
                        "type": "object",
                        "required": ["labels", "reason", "client_id"],
                        "properties": {
                            "labels": {"type": "array", "items": {"type": "string"}},
                            "reason": {"type": "string", "maxLength": adjudication.MAX_REASON},
                            "client_id": {"type": "string", "maxLength": 64},
                        },
                    }
                ),
                responses={"200": {"description": "Already stored (retry)"},
                           "409": {"$ref": "#/components/responses/Error"}},
            )
        },
    }
)
