"""Agreement over HTTP: the report, the adjudication backlog, final labels, guideline versions."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import login_required
from sqlalchemy import select

from labelapp.api import api
from labelapp.api.projects import page_args
from labelapp.api.schemas.learning import (
    Adjudication,
    AgreementOut,
    AgreementQuery,
    BacklogPage,
    BacklogQuery,
    GuidelineList,
    GuidelineOut,
    GuidelinesBody,
    JobOut,
)
from labelapp.api.schemas.queue import AnnotationOut
from labelapp.api.serializers.items import annotation_json, item_json
from labelapp.api.serializers.jobs import job_json
from labelapp.api.serializers.projects import guideline_json
from labelapp.api.serializers.review import entry_dict
from labelapp.api.validation import args, body, validate
from labelapp.models import REVIEWER_ROLES, Guideline, Item
from labelapp.models.roles import Role
from labelapp.services import adjudication, agreement_store, agreement_view
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
@validate(query=AgreementQuery, resp={200: AgreementOut, 202: JobOut})
def agreement_report(project_id: int):
    """Agreement report (admin)

    Percent agreement, Fleiss' kappa, Krippendorff's alpha with bootstrap intervals, pairwise
    Cohen's kappa, per-label agreement, annotator reliability (Dawid-Skene, gold accuracy), human
    level next to the queue's model, ambiguous answers, agreement per guideline version and over
    time, the adjudication backlog. A job computes the report in a worker when answers changed;
    the request waits for it up to ``wait`` seconds, then answers the last report (``current``
    false, ``job`` computing the next) or, without one, 202 with the job."""
    project = project_for_me(project_id, Role.ADMIN)
    session = get_db()
    query: AgreementQuery = args()
    wanted = agreement_store.params(
        query.n_resamples, query.min_confidence, flag_arg("model", True)
    )
    found, job = agreement_store.current_report(
        session, current_app.extensions["labelapp.sessions"], project, wanted, me(), query.wait
    )
    if found is None:
        return jsonify(job_json(job)), 202
    data = agreement_store.snapshot(found)
    out = agreement_view.report_json(session, data, query.max_disagreements)
    return jsonify(
        {
            **out,
            "retired_labels": project.retired_labels,
            "current": found.current,
            "job": job_json(job) if job else None,
        }
    )


@api.get("/projects/<int:project_id>/adjudication")
@login_required
@validate(query=BacklogQuery, resp={200: BacklogPage, 202: JobOut})
def adjudication_backlog(project_id: int):
    """Items awaiting adjudication (sme, admin), least confident first

    With every current answer and who gave it, the majority and the Dawid-Skene suggestion.
    From the latest agreement report (see GET /api/projects/{id}/agreement and its ``wait``);
    items adjudicated since are left out at once."""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query: BacklogQuery = args()
    min_confidence, include_ambiguous = query.min_confidence, flag_arg("include_ambiguous")
    offset, limit = page_args()
    session = get_db()
    wanted = (
        agreement_store.PAGE_PARAMS
        if min_confidence is None
        else agreement_store.params(0, min_confidence, False)
    )
    found, job = agreement_store.current_report(
        session,
        current_app.extensions["labelapp.sessions"],
        project,
        wanted,
        me(),
        query.wait,
        any_resamples=True,
    )
    if found is None:
        return jsonify(job_json(job)), 202
    data = agreement_store.snapshot(found)
    backlog = agreement_view.open_backlog(session, data, include_ambiguous, offset, limit)
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
                {**entry_dict(e), "item": item_json(items[e.item_id])} for e in backlog.entries
            ],
            "computed_at": data["computed_at"],
            "current": found.current,
            "job": job_json(job) if job else None,
        }
    )


@api.post("/items/<int:item_id>/adjudication")
@login_required
@validate(json=Adjudication, resp={201: AnnotationOut, 200: AnnotationOut}, errors=(409,))
def adjudicate_item(item_id: int):
    """Record the final label of an item with a reason (sme, admin)

    201, or 200 with the stored one when the client_id was already used for it."""
    decision: Adjudication = body()
    result = adjudication.adjudicate(
        get_db(),
        me(),
        item_id,
        labels=decision.labels,
        reason=decision.reason,
        client_id=decision.client_id,
    )
    return (
        jsonify(annotation_json(result.annotation, me().username)),
        201 if result.created else 200,
    )


@api.get("/projects/<int:project_id>/guidelines")
@login_required
@validate(resp={200: GuidelineList})
def list_guidelines(project_id: int):
    """Every guideline version, oldest first"""
    project = project_for_me(project_id)
    rows = get_db().scalars(
        select(Guideline).where(Guideline.project_id == project.id).order_by(Guideline.version)
    )
    return jsonify({"guidelines": [guideline_json(g) for g in rows]})


@api.post("/projects/<int:project_id>/guidelines")
@login_required
@validate(json=GuidelinesBody, resp={201: GuidelineOut, 200: GuidelineOut})
def new_guidelines(project_id: int):
    """Save the guidelines as a new version (sme, admin)

    200 with the current version when the text is unchanged. Answers record the version they were
    given under."""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    session = get_db()
    guideline, created = service.new_guideline_version(session, project, body().body, me())
    return jsonify(guideline_json(guideline)), 201 if created else 200
