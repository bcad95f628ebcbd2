"""Weak supervision over HTTP (sme, admin): labeling functions, preview, analysis, the
apply / label model / propagation / end model jobs, and the probabilistic labels they store.
Only declarative LFs are accepted here: Python LFs come from files through ``labelapp lf load``
and run only in the job worker process."""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app, jsonify, request
from flask_login import login_required

from labelapp.api import api
from labelapp.api.learning import job_json
from labelapp.api.openapi import _json, _op, _path_id, register_paths
from labelapp.api.projects import json_body
from labelapp.services import weak as service
from labelapp.services.errors import UserError
from labelapp.services.jobs import enqueue
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db

# step name in the URL -> its job kind: apply, fit, propagate, train, pipeline
STEPS = {kind.removeprefix("ws_"): kind for kind in service.JOB_STEPS}


@api.get("/projects/<int:project_id>/lfs")
@login_required
def list_lfs(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    rows = service.latest_lfs(get_db(), project.id)
    return jsonify({"classes": service.class_names(project),
                    "lfs": [service.lf_json(r) for r in rows]})  # fmt: skip


@api.post("/projects/<int:project_id>/lfs")
@login_required
def save_lf(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    session = get_db()
    body = json_body()
    description = body.pop("description", "")
    row, created = service.save_lf(session, project, body, me(), str(description or ""))
    session.commit()
    return jsonify(service.lf_json(row)), 201 if created else 200


@api.post("/projects/<int:project_id>/lfs/preview")
@login_required
def preview_lf(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    return jsonify(service.preview(get_db(), project, json_body()))


@api.get("/projects/<int:project_id>/lfs/<int:lf_id>/versions")
@login_required
def lf_versions(project_id: int, lf_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    session = get_db()
    row = service.get_lf(session, project.id, lf_id)
    return jsonify({"versions": [service.lf_json(r)
                                 for r in service.versions(session, project.id, row.name)]})  # fmt: skip


@api.patch("/projects/<int:project_id>/lfs/<int:lf_id>")
@login_required
def patch_lf(project_id: int, lf_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise UserError('send {"active": true} or {"active": false}')
    session = get_db()
    row = service.set_active(session, project.id, lf_id, body["active"])
    session.commit()
    return jsonify(service.lf_json(row))


@api.get("/projects/<int:project_id>/lfs/analysis")
@login_required
def lf_analysis(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    return jsonify(asdict(service.analysis(get_db(), project)))


@api.post("/projects/<int:project_id>/ws/<step>")
@login_required
def start_step(project_id: int, step: str):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    if step not in STEPS:
        raise UserError(f"unknown step {step!r}: use one of {', '.join(STEPS)}")
    service.class_names(project)  # a multi-label project fails here, not in the job
    get_db().commit()  # end the read: the job runs in its own session
    job, future = enqueue(current_app.extensions["labelapp.sessions"], project.id, STEPS[step],
                          user=me())  # fmt: skip
    return jsonify(job_json(job)), 202 if future is not None else 200


@api.get("/projects/<int:project_id>/ws/runs")
@login_required
def ws_runs(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    session = get_db()
    runs = service.latest_runs(session, project.id)
    return jsonify({
        "latest": {kind: service.run_json(run) for kind, run in runs.items()},
        "prob_labels": service.prob_label_counts(session, project.id),
    })  # fmt: skip


@api.get("/projects/<int:project_id>/prob-labels")
@login_required
def prob_labels(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    source = request.args.get("source") or None
    limit, after = request.args.get("limit", 1000), request.args.get("after", 0)
    try:
        limit, after = int(limit), int(after)
    except ValueError:
        raise UserError(f"limit and after must be whole numbers, got {limit!r} and {after!r}") from None
    rows = service.list_prob_labels(get_db(), project.id, source, limit, after)
    return jsonify({"classes": service.class_names(project), "prob_labels": rows,
                    "next_after": rows[-1]["id"] if len(rows) == limit else None})  # fmt: skip


_LF_ID = _path_id("lf_id")
_SPEC = _json(
    {
        "type": "object",
        "required": ["kind", "name", "label"],
        "properties": {
            "kind": {"enum": list(service.DECLARATIVE_KINDS)},
            "name": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.\\-]{0,99}$"},
            "label": {"type": "string", "description": "a label name of the project"},
            "keywords": {"type": "array", "items": {"type": "string"}},
            "case_sensitive": {"type": "boolean"},
            "pattern": {"type": "string", "description": "Python regular expression"},
            "ignore_case": {"type": "boolean"},
            "field": {"type": "string", "description": "text (default) or a metadata key"},
            "op": {"enum": ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]},
            "value": {},
            "description": {"type": "string"},
        },
    }
)

register_paths(
    {
        "/api/projects/{project_id}/lfs": {
            "get": _op("The latest version of each labeling function, and the classes they vote "
                       "(sme, admin)", params=[_path_id("project_id")]),  # fmt: skip
            "post": _op(
                "Save a declarative LF (keyword, regex, metadata); a new name is version 1, a "
                "changed one its next version, an unchanged one is returned with 200 (sme, admin). "
                "Python LFs are loaded from files with `labelapp lf load` only",
                ok="201",
                params=[_path_id("project_id")],
                body=_SPEC,
            ),
        },
        "/api/projects/{project_id}/lfs/preview": {
            "post": _op(
                "What an unsaved LF would do on the first 5,000 items: its first 20 hits, "
                "coverage and empirical accuracy against human labels (sme, admin)",
                params=[_path_id("project_id")],
                body=_SPEC,
            )
        },
        "/api/projects/{project_id}/lfs/{lf_id}": {
            "patch": _op(
                "Switch an LF on or off: {\"active\": bool} (its latest version; sme, admin)",
                params=[_path_id("project_id"), _LF_ID],
                body=_json({"type": "object", "required": ["active"],
                            "properties": {"active": {"type": "boolean"}}}),  # fmt: skip
            )
        },
        "/api/projects/{project_id}/lfs/{lf_id}/versions": {
            "get": _op("Every version of this LF's name, oldest first (sme, admin)",
                       params=[_path_id("project_id"), _LF_ID])  # fmt: skip
        },
        "/api/projects/{project_id}/lfs/analysis": {
            "get": _op(
                "Per active LF from its stored votes: polarity, coverage, overlaps, conflicts, "
                "correct/incorrect/emp_accuracy against human labels, example hits and "
                "disagreements (sme, admin)",
                params=[_path_id("project_id")],
            )
        },
        "/api/projects/{project_id}/ws/{step}": {
            "post": _op(
                "Start a job (sme, admin): apply (votes of the active LFs; on Dask when "
                "configured or the project is large), fit (label model), propagate (label "
                "spreading), train (end model on the label-model labels, scored on the held-out "
                "human-labeled items), or pipeline (apply, fit, propagate). Poll /api/jobs/{id}; "
                "200 if that job is already queued or running",
                ok="202",
                params=[_path_id("project_id"),
                        {"name": "step", "in": "path", "required": True,
                         "schema": {"enum": list(STEPS)}}],  # fmt: skip
            )
        },
        "/api/projects/{project_id}/ws/runs": {
            "get": _op(
                "The latest run of each kind (apply, label_model, propagation, end_model) with "
                "its metrics, and how many items hold a probabilistic label from each source "
                "(sme, admin)",
                params=[_path_id("project_id")],
            )
        },
        "/api/projects/{project_id}/prob-labels": {
            "get": _op(
                "Probabilistic labels in id order, each with its item, source (label_model, "
                "propagation, model), run id and run kind, label, confidence and class "
                "probabilities (in the order of `classes`); page with ?after=<next_after> "
                "(sme, admin)",
                params=[
                    _path_id("project_id"),
                    {"name": "source", "in": "query", "required": False,
                     "schema": {"enum": list(service.PROB_SOURCES)}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10000,
                                "default": 1000}},
                    {"name": "after", "in": "query", "required": False,
                     "schema": {"type": "integer", "default": 0}},
                ],  # fmt: skip
            )
        },
    }
)
