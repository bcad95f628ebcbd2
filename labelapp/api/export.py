"""Exports over HTTP (sme, admin): start an export job, list dataset versions, compare two."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import login_required

from labelapp.api import api
from labelapp.api.learning import job_json
from labelapp.api.openapi import _json, _op, _path_id, register_paths
from labelapp.api.projects import json_body
from labelapp.services import export as service
from labelapp.services.errors import UserError
from labelapp.services.jobs import enqueue
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.post("/projects/<int:project_id>/exports")
@login_required
def start_export(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    body = json_body()
    plan = service.plan_from_user(body.get("augment"), body.get("copies"))
    params = service.request_from(body, augment=plan).checked(project).to_params()
    get_db().commit()  # end the read: the job runs in its own session
    job, future = enqueue(current_app.extensions["labelapp.sessions"], project.id, "export",
                          params, user=me())  # fmt: skip
    return jsonify(job_json(job)), 202 if future is not None else 200


@api.get("/projects/<int:project_id>/exports")
@login_required
def export_versions(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    versions = service.list_versions(get_db(), project.id)
    return jsonify({"versions": [service.version_summary(v) for v in versions]})


@api.get("/projects/<int:project_id>/exports/<int:version>")
@login_required
def export_version(project_id: int, version: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    row = service.get_version(get_db(), project.id, version)
    return jsonify({**service.version_summary(row), "manifest": row.manifest})


@api.get("/projects/<int:project_id>/exports/diff")
@login_required
def export_diff(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id, "sme")
    try:
        old, new = int(request.args["old"]), int(request.args["new"])
    except (KeyError, ValueError):
        raise UserError("give the two versions to compare: ?old=1&new=2") from None
    return jsonify(service.diff(get_db(), project.id, old, new))


_VERSION = {"name": "version", "in": "path", "required": True, "schema": {"type": "integer"}}

register_paths(
    {
        "/api/projects/{project_id}/exports": {
            "post": _op(
                "Start an export job (sme, admin); poll /api/jobs/{id}; its result names the new "
                "dataset version. 200 if an export is already queued or running (that job)",
                ok="202",
                params=[_path_id("project_id")],
                body=_json(
                    {
                        "type": "object",
                        "required": ["format"],
                        "properties": {
                            "format": {"enum": list(service.FORMATS)},
                            "seed": {"type": "integer", "default": 0},
                            "ratios": {
                                "type": "array",
                                "items": {"type": "number"},
                                "minItems": 3,
                                "maxItems": 3,
                                "default": [0.8, 0.1, 0.1],
                            },
                            "min_confidence": {"type": "number", "default": 0.9},
                            "resplit": {"type": "boolean", "default": False},
                            "augment": {
                                "description": "a shipped pipeline name, 'text', or a plan "
                                "object (albumentations to_dict, or {'text': {...}})",
                                "oneOf": [{"type": "string"}, {"type": "object"}],
                            },
                            "copies": {"type": "integer", "minimum": 1, "maximum": 20},
                        },
                    }
                ),
            ),
            "get": _op(
                "Dataset versions, oldest first: counts per split and label, label sources, "
                "parameters (sme, admin)",
                params=[_path_id("project_id")],
            ),
        },
        "/api/projects/{project_id}/exports/{version}": {
            "get": _op(
                "One dataset version with its manifest (sme, admin)",
                params=[_path_id("project_id"), _VERSION],
            )
        },
        "/api/projects/{project_id}/exports/diff": {
            "get": _op(
                "Compare two versions: items added, removed, relabeled, moved; count deltas; "
                "changed parameters (sme, admin)",
                params=[
                    _path_id("project_id"),
                    {"name": "old", "in": "query", "required": True, "schema": {"type": "integer"}},
                    {"name": "new", "in": "query", "required": True, "schema": {"type": "integer"}},
                ],
            )
        },
    }
)
