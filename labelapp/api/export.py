"""Exports over HTTP (sme, admin): export (a job, answered finished when it is quick), list
dataset versions, compare two."""

from __future__ import annotations

from flask import current_app, jsonify, url_for
from flask_login import login_required

from labelapp import config
from labelapp.api import api
from labelapp.api.projects import json_body
from labelapp.api.schemas.learning import (
    ExportDiffOut,
    ExportDiffQuery,
    ExportManifestOut,
    ExportStart,
    ExportVersionList,
    JobOut,
)
from labelapp.api.serializers.jobs import job_json
from labelapp.api.validation import args, validate
from labelapp.models.roles import Role
from labelapp.services import analysis_child
from labelapp.services import export as service
from labelapp.services.export.snapshots import get_version, list_versions
from labelapp.services.jobs import FINISHED, start_job, wait
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.post("/projects/<int:project_id>/exports")
@login_required
@validate(json=ExportStart, resp={201: JobOut, 202: JobOut, 200: JobOut})
def start_export(project_id: int):
    """Export (sme, admin): 201 with the finished job, or 202 with the job to poll

    The answer waits up to LABELAPP_EXPORT_WAIT_SECONDS (default 2) for the export job: 201 if
    it finished by then (status done, its result names the new dataset version; or failed, with
    the error), else 202 with the job to poll at /api/jobs/{id}. 200 if an export is already
    queued or running (that job)."""
    project = project_for_me(project_id, Role.SME)
    body = json_body()
    params = analysis_child.export_params(  # an augmentation plan is checked in a child
        current_app.config["DATABASE_URL"],
        project,
        body,
        body.get("augment"),
        body.get("copies"),
        get_db(),
    )
    sessions = current_app.extensions["labelapp.sessions"]
    job, handle = start_job(get_db(), sessions, project.id, "export", params, user=me())
    if handle is None:
        return jsonify(job_json(job)), 200
    seconds = config.export_wait_seconds()
    if seconds > 0:
        job = wait(sessions, job.id, seconds)
    return jsonify(job_json(job)), 201 if job.status in FINISHED else 202


@api.get("/projects/<int:project_id>/exports")
@login_required
@validate(resp={200: ExportVersionList})
def export_versions(project_id: int):
    """Dataset versions, oldest first (sme, admin)

    Counts per split and label, label sources, parameters."""
    project = project_for_me(project_id, Role.SME)
    versions = list_versions(get_db(), project.id)
    return jsonify({"versions": [_summary(v) for v in versions]})


@api.get("/projects/<int:project_id>/exports/<int:version>")
@login_required
@validate(resp={200: ExportManifestOut})
def export_version(project_id: int, version: int):
    """One dataset version with its manifest (sme, admin)"""
    project = project_for_me(project_id, Role.SME)
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
    project = project_for_me(project_id, Role.SME)
    query: ExportDiffQuery = args()
    return jsonify(service.diff(get_db(), project.id, query.old, query.new))
