"""Exports over HTTP (sme, admin): start an export job, list dataset versions, compare two."""

from __future__ import annotations

from flask import current_app, jsonify, url_for
from flask_login import login_required

from labelapp.api import api
from labelapp.api.learning import job_json
from labelapp.api.projects import json_body
from labelapp.api.schemas.learning import (
    ExportDiffOut,
    ExportDiffQuery,
    ExportManifestOut,
    ExportStart,
    ExportVersionList,
    JobOut,
)
from labelapp.api.validation import args, validate
from labelapp.services import export as service
from labelapp.services.export.snapshots import get_version, list_versions
from labelapp.services.jobs import start_job
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.post("/projects/<int:project_id>/exports")
@login_required
@validate(json=ExportStart, resp={202: JobOut, 200: JobOut})
def start_export(project_id: int):
    """Start an export job (sme, admin); poll /api/jobs/{id}

    Its result names the new dataset version. 200 if an export is already queued or running
    (that job)."""
    project = project_for_me(project_id, "sme")
    body = json_body()
    plan = service.plan_from_user(body.get("augment"), body.get("copies"))
    params = service.request_from(body, augment=plan).checked(project).to_params()
    job, future = start_job(
        get_db(),
        current_app.extensions["labelapp.sessions"],
        project.id,
        "export",
        params,
        user=me(),
    )
    return jsonify(job_json(job)), 202 if future is not None else 200


@api.get("/projects/<int:project_id>/exports")
@login_required
@validate(resp={200: ExportVersionList})
def export_versions(project_id: int):
    """Dataset versions, oldest first (sme, admin)

    Counts per split and label, label sources, parameters."""
    project = project_for_me(project_id, "sme")
    versions = list_versions(get_db(), project.id)
    return jsonify({"versions": [_summary(v) for v in versions]})


@api.get("/projects/<int:project_id>/exports/<int:version>")
@login_required
@validate(resp={200: ExportManifestOut})
def export_version(project_id: int, version: int):
    """One dataset version with its manifest (sme, admin)"""
    project = project_for_me(project_id, "sme")
    row = get_version(get_db(), project.id, version)
    return jsonify({**_summary(row), "manifest": row.manifest})


def _summary(version) -> dict:
    """A version as the API shows it: a download link, no server path."""
    url = url_for("pages.download_version", project_id=version.project_id, version=version.version)
    return {**service.version_summary(version), "download_url": url}


@api.get("/projects/<int:project_id>/exports/diff")
@login_required
@validate(query=ExportDiffQuery, resp={200: ExportDiffOut})
def export_diff(project_id: int):
    """Compare two versions (sme, admin)

    Items added, removed, relabeled, moved; count deltas; changed parameters."""
    project = project_for_me(project_id, "sme")
    query: ExportDiffQuery = args()
    return jsonify(service.diff(get_db(), project.id, query.old, query.new))
