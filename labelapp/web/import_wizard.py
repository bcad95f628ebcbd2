"""The web import wizard (text projects): upload, preview the first rows, pick the text, id,
group and label columns (and what the labels are), check every line before anything is
stored, then import."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.utils import secure_filename

from labelapp.models import REVIEWER_ROLES, Project
from labelapp.services import import_wizard
from labelapp.services.errors import UserError
from labelapp.services.label_kinds import LABEL_KINDS
from labelapp.web.access import me, project_for_me
from labelapp.web.admin import admin, back_on_error
from labelapp.web.db import get_db

COLUMN_FIELDS = ("text_col", "id_col", "group_col", "label_col")


def _project(project_id: int) -> Project:
    project = project_for_me(project_id, *REVIEWER_ROLES)
    if project.task_type != "text":
        raise UserError(
            "the wizard imports text files; for images upload a zip on the project page"
        )
    return project


@admin.route("/projects/<int:project_id>/import-wizard", methods=["GET", "POST"])
@login_required
@back_on_error
def import_upload(project_id: int) -> Any:
    """Step 1: upload a file; it is kept (not imported) for the next steps."""
    project = _project(project_id)
    if request.method == "GET":
        return render_template("admin/import_upload.html", project=project)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UserError("choose a file to upload")
    filename = secure_filename(upload.filename) or "upload.csv"
    token = import_wizard.stash(upload, filename)
    return redirect(url_for("admin.import_columns", project_id=project.id, token=token))


def _choices(columns: list[str]) -> dict[str, str]:
    """The chosen columns (from the form) or the first guesses; unknown names are dropped."""
    guessed = import_wizard.guess_columns(columns)
    chosen = {}
    for name in COLUMN_FIELDS:
        value = request.form.get(name, guessed[name]) if request.method == "POST" else guessed[name]
        chosen[name] = value if value in columns else ""
    kind = request.form.get("label_kind", "human")
    chosen["label_kind"] = kind if kind in LABEL_KINDS else "human"
    return chosen


def _options(chosen: dict[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {name: chosen[name] or None for name in COLUMN_FIELDS}
    if chosen["label_col"]:
        options["label_kind"] = chosen["label_kind"]
    if not chosen["text_col"]:
        raise UserError("choose the column that holds the text")
    return options


def _page(
    project: Project,
    token: str,
    report: dict | None = None,
    problem: UserError | None = None,
    status: int = 200,
) -> Any:
    path = import_wizard.stashed(token)
    preview = import_wizard.preview(path)
    return render_template(
        "admin/import_columns.html",
        project=project,
        token=token,
        preview=preview,
        chosen=_choices(preview.columns),
        label_like=import_wizard.label_like(preview.columns),
        label_kinds=LABEL_KINDS,
        report=report,
        problem=problem,
    ), status


@admin.route("/projects/<int:project_id>/import-wizard/<token>", methods=["GET", "POST"])
@login_required
def import_columns(project_id: int, token: str) -> Any:
    """Step 2: the first rows and the column choices; POST checks every line (stores nothing)."""
    project = _project(project_id)
    if request.method == "GET":
        return _page(project, token)
    report, failed = _attempt(project, token, dry_run=True)
    return failed or _page(project, token, report=report)


@admin.route("/projects/<int:project_id>/import-wizard/<token>/import", methods=["POST"])
@login_required
def import_run(project_id: int, token: str) -> Any:
    """Step 3: import for real (all lines checked again, one transaction), then forget the file."""
    project = _project(project_id)
    report, failed = _attempt(project, token, dry_run=False)
    if failed:
        return failed
    import_wizard.discard(token)
    flash(import_wizard.summary(report), "info")
    return redirect(url_for("pages.project", project_id=project.id, _anchor="imports"))


def _attempt(project: Project, token: str, dry_run: bool) -> tuple[dict, Any]:
    """Check (``dry_run``) or import the upload with the chosen columns: the report, or the
    wizard page showing why the file cannot be imported."""
    path = import_wizard.stashed(token)
    columns = import_wizard.preview(path).columns
    try:
        return _run(project, path, _options(_choices(columns)), dry_run=dry_run), None
    except UserError as exc:
        if exc.status in (403, 404):
            raise
        return {}, _page(project, token, problem=exc, status=400)


def _run(project: Project, path: Any, options: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    from labelapp.services.uploads import import_upload as run_import

    get_db().rollback()  # end this request's read: the import runs in a child process
    return run_import(
        current_app.config["DATABASE_URL"],
        project.id,
        me().id,
        path,
        path.name,
        options,
        False,
        dry_run=dry_run,
    )
