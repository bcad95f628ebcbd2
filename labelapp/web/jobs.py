"""Cancelling a background job from a page (the retrain, export and weak-supervision panels)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from labelapp.models import Job, Project
from labelapp.models.roles import Role
from labelapp.services.job_reports import Report, ReportKind
from labelapp.services.jobs import cancel
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages


def job_page(job: Job) -> str:
    """The page that shows a job of this kind."""
    if job.kind == "export":
        return url_for("pages.export_page", project_id=job.project_id)
    if job.kind == "import":
        return url_for("admin.import_job", project_id=job.project_id, job_id=job.id)
    if job.kind.startswith("ws_"):
        return url_for("pages.lfs_page", project_id=job.project_id)
    return url_for("pages.project", project_id=job.project_id) + "#learning"


def report_on_page(reports: ReportKind, project: Project) -> tuple[Report | None, Job | None]:
    """A page's stored report of this kind and the job computing a newer one
    (:meth:`ReportKind.on_page`); ``?report_job=`` names the job the page was reloaded after."""
    return reports.on_page(
        get_db(),
        current_app.extensions["labelapp.sessions"],
        project,
        me(),
        request.args.get("report_job", type=int),
    )


@pages.route("/projects/<int:project_id>/jobs/<int:job_id>/cancel", methods=["POST"])
@login_required
def cancel_job(project_id: int, job_id: int) -> Response:
    project = project_for_me(project_id, Role.SME)
    job = get_db().get(Job, job_id)
    if job is None or job.project_id != project.id:
        abort(404, f"no job {job_id} in this project")
    get_db().rollback()  # the service writes in its own transaction
    job = cancel(current_app.extensions["labelapp.sessions"], job_id)
    if job.status == "cancelled":
        flash(f"Job #{job.id} ({job.kind}) is cancelled.", "info")
    elif job.cancel_requested and job.status == "running":
        flash(f"Job #{job.id} ({job.kind}) is being stopped; this takes a few seconds.", "info")
    else:
        flash(f"Job #{job.id} had already finished ({job.status}).", "info")
    return redirect(job_page(job))
