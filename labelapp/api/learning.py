"""Active learning over HTTP: project settings, retrain on demand, jobs and model runs."""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify
from flask_login import login_required
from sqlalchemy import select

from labelapp.api import api
from labelapp.api.projects import json_body
from labelapp.api.schemas.learning import JobOut, LearningOut, ModelRunList, ProjectSettings
from labelapp.api.schemas.projects import ProjectOut
from labelapp.api.serializers.jobs import job_json, model_run_json
from labelapp.api.serializers.projects import project_json
from labelapp.api.validation import validate
from labelapp.models import REVIEWER_ROLES, Job, ModelRun, Project
from labelapp.models.roles import Role
from labelapp.services.errors import UserError
from labelapp.services.jobs import cancel, start_job
from labelapp.services.projects import change_settings, get_project_for, require_project_role
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.patch("/projects/<int:project_id>")
@login_required
@validate(json=ProjectSettings, resp={200: ProjectOut})
def patch_project(project_id: int):
    """Change a project's settings (admin)

    strategy, batch_size, retrain_every, lease_seconds, queue_order, overlap_k, overlap_share,
    gold_rate, description, featurizer, embedding_max_items; only those sent change."""
    project = project_for_me(project_id, Role.ADMIN)
    session = get_db()
    change_settings(session, project, json_body())
    return jsonify(project_json(project))


def start_project_job(project: Project, kind: str) -> tuple[Response, int]:
    """Queue a ``kind`` job for ``project`` as the current user: 202 with the new job, or 200
    with the one already queued or running."""
    job, future = start_job(
        get_db(), current_app.extensions["labelapp.sessions"], project.id, kind, user=me()
    )
    return jsonify(job_json(job)), 202 if future is not None else 200


@api.post("/projects/<int:project_id>/retrain")
@login_required
@validate(resp={202: JobOut, 200: JobOut})
def retrain_now(project_id: int):
    """Retrain and rescore the queue now (sme, admin)

    200 if a retrain is already queued or running (that job is returned)."""
    project = project_for_me(project_id, Role.SME)
    if project.multi_label:
        raise UserError("active learning orders single-label projects only")
    return start_project_job(project, "retrain")


@api.get("/jobs/<int:job_id>")
@login_required
@validate(resp={200: JobOut})
def get_job(job_id: int):
    """A background job (sme, admin)"""
    return jsonify(job_json(_job_for_reviewer(job_id)))


def _job_for_reviewer(job_id: int) -> Job:
    """The job if the current user is a reviewer of its project (404 / 403 otherwise)."""
    session = get_db()
    job = session.get(Job, job_id)
    if job is None or job.project_id is None:
        abort(404, f"no job {job_id}")
    project = get_project_for(session, me(), job.project_id)
    require_project_role(session, me(), project, *REVIEWER_ROLES)
    return job


@api.post("/jobs/<int:job_id>/cancel")
@login_required
@validate(resp={200: JobOut})
def cancel_job(job_id: int):
    """Cancel a job (sme, admin): a queued one at once, a running one within seconds

    Poll the job until its status is ``cancelled``; a finished job is returned unchanged."""
    _job_for_reviewer(job_id)
    get_db().rollback()  # the service writes in its own transaction
    return jsonify(job_json(cancel(current_app.extensions["labelapp.sessions"], job_id)))


@api.get("/projects/<int:project_id>/model-runs")
@login_required
@validate(resp={200: ModelRunList})
def model_runs(project_id: int):
    """Model runs with held-out metrics, oldest first (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    runs = get_db().scalars(
        select(ModelRun).where(ModelRun.project_id == project.id).order_by(ModelRun.id)
    )
    return jsonify({"model_runs": [model_run_json(r) for r in runs]})


@api.get("/projects/<int:project_id>/learning")
@login_required
@validate(resp={200: LearningOut})
def learning(project_id: int):
    """The active-learning story (sme, admin): strategy, the model run that ordered the queue,
    the next retrain or the running one"""
    from labelapp.services.learning_story import learning_story

    project = project_for_me(project_id, *REVIEWER_ROLES)
    return jsonify(learning_story(get_db(), project).as_json())
