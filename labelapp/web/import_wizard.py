"""The web import wizard: upload (a table, or a zip of images for an image project), preview the
first rows or images, pick what the columns (or subfolders) mean, check every line, then import.

The check and the import are ``import`` jobs run by a worker (:mod:`labelapp.services.uploads`,
:mod:`labelapp.services.import_job`); the job page shows their progress, then the check's report
(with the button that imports what was checked) or the import's numbers. Nothing here parses
the file beyond its first rows."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.utils import secure_filename

from labelapp.models import REVIEWER_ROLES, Job, Project
from labelapp.services import import_wizard, uploads
from labelapp.services.errors import UserError
from labelapp.services.label_kinds import LABEL_KINDS
from labelapp.services.schema.names import (
    DEFAULT_SCHEMA_MODE,
    SCHEMA_MODE_TEXT,
    SCHEMA_MODES,
    SCHEMA_REFUSAL,
)
from labelapp.web.access import me, project_for_me
from labelapp.web.admin import admin, back_on_error
from labelapp.web.db import get_db

COLUMN_FIELDS = ("text_col", "id_col", "group_col", "label_col")
TRUE = ("1", "true", "on", "yes")


def _project(project_id: int) -> Project:
    return project_for_me(project_id, *REVIEWER_ROLES)


def _images(project: Project) -> bool:
    return project.task_type == "image"


@admin.route("/projects/<int:project_id>/import-wizard", methods=["GET", "POST"])
@login_required
@back_on_error
def import_upload(project_id: int) -> Any:
    """Step 1: upload a file; it is kept (not imported) for the next steps."""
    project = _project(project_id)
    if request.method == "GET":
        return render_template("admin/import_upload.html", project=project, images=_images(project))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UserError("choose a file to upload")
    filename = secure_filename(upload.filename) or (
        "upload.zip" if _images(project) else "upload.csv"
    )
    token = import_wizard.stash(upload, filename, images=_images(project))
    return redirect(url_for("admin.import_columns", project_id=project.id, token=token))


def _choices(columns: list[str]) -> dict[str, str]:
    """The chosen columns (from the form, or the link back from a check) or the first guesses;
    unknown names are dropped."""
    guessed = import_wizard.guess_columns(columns)
    given = request.form if request.method == "POST" else request.args
    chosen = {}
    for name in COLUMN_FIELDS:
        value = given.get(name, guessed[name])
        chosen[name] = value if value in columns else ""
    return chosen | _kind_and_schema(given)


def _kind_and_schema(given: Any) -> dict[str, str]:
    kind, schema = given.get("label_kind", "human"), given.get("schema", DEFAULT_SCHEMA_MODE)
    return {
        "label_kind": kind if kind in LABEL_KINDS else "human",
        "schema": schema if schema in SCHEMA_MODES else DEFAULT_SCHEMA_MODE,
    }


def _text_options(chosen: dict[str, str]) -> dict[str, Any]:
    if not chosen["text_col"]:
        raise UserError("choose the column that holds the text")
    options: dict[str, Any] = {name: chosen[name] or None for name in COLUMN_FIELDS}
    if chosen["label_col"]:
        options["label_kind"] = chosen["label_kind"]
    options["schema"] = chosen["schema"]
    return options


def _image_choices(given: Any) -> dict[str, str]:
    """The choices of an image zip (from the form, or the link back from a check)."""
    folder_labels = "1" if given.get("folder_labels", "").lower() in TRUE else ""
    return {"folder_labels": folder_labels} | _kind_and_schema(given)


def _image_options() -> dict[str, Any]:
    chosen = _image_choices(request.form)
    options: dict[str, Any] = {
        "folder_labels": bool(chosen["folder_labels"]),
        "schema": chosen["schema"],
    }
    if options["folder_labels"]:
        options["label_kind"] = chosen["label_kind"]
    return options


def _schema_modes() -> dict[str, str]:
    return {m: SCHEMA_MODE_TEXT[m] for m in SCHEMA_MODES}


@admin.route("/projects/<int:project_id>/import-wizard/<token>", methods=["GET", "POST"])
@login_required
@back_on_error
def import_columns(project_id: int, token: str) -> Any:
    """Step 2: the first rows (or images) and what they mean; POST checks every line in a job
    that stores nothing."""
    project = _project(project_id)
    path = uploads.stashed(token)
    if _images(project):
        preview = import_wizard.preview_zip(path)
        if request.method == "POST":
            return _start(project, token, _image_options(), dry_run=True)
        labels = {label.name for label in project.labels}
        return render_template(
            "admin/import_columns.html",
            project=project,
            token=token,
            zip=preview,
            images=True,
            folders_are_labels=bool(preview.folders) and set(preview.folders) <= labels,
            chosen=_image_choices(request.args),
            label_kinds=LABEL_KINDS,
            schema_modes=_schema_modes(),
        )
    preview = import_wizard.preview(path)
    chosen = _choices(preview.columns)
    if request.method == "POST":
        return _start(project, token, _text_options(chosen), dry_run=True)
    return render_template(
        "admin/import_columns.html",
        project=project,
        token=token,
        preview=preview,
        images=False,
        chosen=chosen,
        label_like=import_wizard.label_like(preview.columns),
        label_kinds=LABEL_KINDS,
        schema_modes=_schema_modes(),
    )


@admin.route("/projects/<int:project_id>/import-wizard/<token>/images/<int:index>")
@login_required
def import_thumbnail(project_id: int, token: str, index: int) -> Response:
    """One of the first images of an uploaded zip, as stored in it (for the preview)."""
    _project(project_id)
    data, mimetype = import_wizard.thumbnail(uploads.stashed(token), index)
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = "private, max-age=600"
    return response


@admin.route("/projects/<int:project_id>/import-wizard/<token>/import", methods=["POST"])
@login_required
@back_on_error
def import_run(project_id: int, token: str) -> Any:
    """Step 3: import what the check job (form field ``check``) checked, as a job; the upload is
    removed when that job ends."""
    project = _project(project_id)
    check = _import_job(project, request.form.get("check", type=int))
    params = check.params
    if params.get("upload") != token or not params.get("dry_run") or check.status != "done":
        raise UserError("check the file before importing it: choose the columns and press Check")
    return _start(project, token, params.get("options") or {}, dry_run=False)


def _start(project: Project, token: str, options: dict[str, Any], dry_run: bool) -> Any:
    job = uploads.start_import(
        get_db(),
        current_app.extensions["labelapp.sessions"],
        project,
        me(),
        token,
        options,
        _images(project),
        dry_run=dry_run,
    )
    return redirect(url_for("admin.import_job", project_id=project.id, job_id=job.id))


def _import_job(project: Project, job_id: int | None) -> Job:
    job = get_db().get(Job, job_id) if job_id else None
    if job is None or job.project_id != project.id or job.kind != uploads.IMPORT_KIND:
        abort(404, "no such import in this project")
    return job


@admin.route("/projects/<int:project_id>/import-wizard/jobs/<int:job_id>")
@login_required
def import_job(project_id: int, job_id: int) -> Any:
    """A check or an import: its progress while it runs, then the report (a check's with the
    button that imports), or each problem found, with its line."""
    project = _project(project_id)
    job = _import_job(project, job_id)
    params = job.params
    dry_run = bool(params.get("dry_run"))
    token = params.get("upload", "")
    try:
        uploads.stashed(token)
        kept = True
    except UserError:
        kept = False
    message, details = job.error or "", []
    if job.status == "failed" and (job.result or {}).get("details"):
        message, details = message.split("\n", 1)[0], job.result["details"]
    report = job.result if job.status == "done" else None
    options = params.get("options") or {}
    back = _back_link(project, token, options) if kept else None
    evolve = None  # refused by the schema under strict: check again as its next version
    if back and job.status == "failed" and SCHEMA_REFUSAL in message:
        evolve = _back_link(project, token, options | {"schema": "evolve"})
    schema_lines = []
    if report and report.get("schema"):
        from labelapp.services.schema import report_lines

        schema_lines = report_lines(report["schema"])
    return render_template(
        "admin/import_job.html",
        project=project,
        job=job,
        dry_run=dry_run,
        filename=params.get("filename", ""),
        token=token if kept else None,
        back=back,
        evolve=evolve,
        report=report,
        problem=message if job.status == "failed" else None,
        details=details,
        schema_lines=schema_lines,
    )


def _back_link(project: Project, token: str, options: dict[str, Any]) -> str:
    """Step 2 again, with the choices of this check."""
    chosen = {k: v for k, v in options.items() if isinstance(v, str) and v}
    if options.get("folder_labels"):
        chosen["folder_labels"] = "1"
    return url_for("admin.import_columns", project_id=project.id, token=token, **chosen)
