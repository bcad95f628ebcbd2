"""The export page (start an export job, dataset versions, compare two, download one) and the
augmentation preview (a grid of augmented samples from the project), for SMEs and admins."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from labelapp.models import Project
from labelapp.models.roles import Role
from labelapp.services import analysis_child, augment_choices
from labelapp.services import export as service
from labelapp.services.analysis_child import analyse
from labelapp.services.errors import UserError
from labelapp.services.export.snapshots import get_version, list_versions
from labelapp.services.jobs import active_job, start_job
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages

MAX_COPIES = 8


def _formats(project: Project) -> list[str]:
    return [f for f in service.FORMATS if f != "imagefolder" or project.task_type == "image"]


@pages.route("/projects/<int:project_id>/export")
@login_required
def export_page(project_id: int) -> str:
    project = project_for_me(project_id, Role.SME)
    session = get_db()
    versions = list_versions(session, project.id)
    summaries = [service.version_summary(v) for v in versions]
    comparison = None
    old, new = request.args.get("old", type=int), request.args.get("new", type=int)
    if old is not None and new is not None:
        try:
            comparison = service.diff(session, project.id, old, new)
        except UserError as exc:
            flash(exc.message, "error")
    job_id = request.args.get("job", type=int)
    job = active_job(session, project.id, "export")
    if job is None and job_id is not None:
        from labelapp.models import Job

        finished = session.get(Job, job_id)
        if finished is not None and finished.project_id == project.id:
            job = finished
    return render_template(
        "export.html",
        project=project,
        versions=list(reversed(summaries)),
        comparison=comparison,
        old=old,
        new=new,
        job=job,
        formats=_formats(project),
        augment_choices=augment_choices.choices(project.task_type),
        defaults=request.args,
    )


@pages.route("/projects/<int:project_id>/export", methods=["POST"])
@login_required
def start_export(project_id: int) -> Response:
    project = project_for_me(project_id, Role.SME)
    form = request.form
    try:
        choice = form.get("augment", "")
        plan_source = form.get("augment_json", "") if choice == "custom" else choice
        params = analysis_child.export_params(
            current_app.config["DATABASE_URL"],
            project,
            form.to_dict(),
            plan_source or None,
            form.get("copies") if plan_source else None,
            get_db(),
        )
    except UserError as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.export_page", project_id=project.id))
    job, future = start_job(
        get_db(),
        current_app.extensions["labelapp.sessions"],
        project.id,
        "export",
        params,
        user=me(),
    )
    if future is None:
        flash(f"An export is already {job.status} (job #{job.id}).", "info")
    return redirect(url_for("pages.export_page", project_id=project.id, job=job.id))


@pages.route("/projects/<int:project_id>/export/v<int:version>.zip")
@login_required
def download_version(project_id: int, version: int) -> Response:
    project = project_for_me(project_id, Role.SME)
    row = get_version(get_db(), project.id, version)
    folder = Path(row.out_dir)
    if not folder.is_dir():
        abort(404, f"the files of version {version} are no longer at {folder}")
    # On disk, not in memory: an export can be gigabytes. Deleted when the response closes it.
    archive = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 - send_file closes it
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zipped:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zipped.write(path, path.relative_to(folder).as_posix())
    archive.seek(0)
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{project.name}-v{version}.zip",
    )


# --- augmentation preview --------------------------------------------------------------------


@pages.route("/projects/<int:project_id>/augment")
@login_required
def augment_page(project_id: int) -> str:
    project = project_for_me(project_id, Role.SME)
    args = request.args
    choices = augment_choices.choices(project.task_type)
    choice = args.get("pipeline", choices[0][0])
    spec_text = args.get("spec", "")
    seed = args.get("seed", 0, type=int)
    copies = max(1, min(MAX_COPIES, args.get("copies", 4, type=int)))
    params = {
        "choice": choice,
        "spec_text": spec_text,
        "seed": seed,
        "copies": copies,
        "swap_prob": args.get("swap_prob", 0.1, type=float),
        "delete_prob": args.get("delete_prob", 0.1, type=float),
    }
    error, shown = None, {"grid": [], "plan": None, "notes": {}}
    try:  # the augment library runs in a child process, never in this one
        shown = analyse(
            current_app.config["DATABASE_URL"], "augment_preview", project.id, params, get_db()
        )
    except UserError as exc:
        error = exc.message
    grid, plan, notes = shown["grid"], shown["plan"], shown["notes"]
    return render_template(
        "augment.html",
        project=project,
        choices=choices,
        choice=choice,
        spec_text=spec_text,
        seed=seed,
        copies=copies,
        grid=grid,
        error=error,
        plan=plan,
        notes=notes,
        args=args,
    )
