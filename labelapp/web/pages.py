"""Pages: the project list, a project's overview, import, and images."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required
from sqlalchemy import func, select
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from labelapp import config
from labelapp.models import REVIEWER_ROLES, Annotation, ImportBatch, Item
from labelapp.models.roles import Role
from labelapp.services.counts import project_counts
from labelapp.services.errors import UserError
from labelapp.services.flags import list_flags, resolve_flag
from labelapp.services.overview import project_overview
from labelapp.services.project_lifecycle import new_project
from labelapp.services.projects import get_project_for, project_roles, visible_projects
from labelapp.services.queue import has_seen
from labelapp.web.access import me, project_for_me, reviews
from labelapp.web.db import get_db
from labelapp.web.forms import ImageImportForm, ImportForm, ProjectForm
from labelapp.web.labeling import FLAG_TEXTS
from labelapp.web.learning import learning_context
from labelapp.web.page_blueprint import pages


@pages.route("/")
@login_required
def projects() -> str:
    session = get_db()
    visible = visible_projects(session, me())
    counts = project_counts(session, [p.id for p in visible])  # the same numbers as every page
    form = ProjectForm() if me().is_admin else None
    return render_template(
        "projects.html",
        projects=visible,
        counts=counts,
        form=form,
        roles=None if me().is_admin else project_roles(session, me()),  # the sme chips
    )


@pages.route("/projects", methods=["POST"])
@login_required
def create() -> str | Response:
    if not me().is_admin:
        abort(403, "Only admins create projects.")
    form = ProjectForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{field}: {'; '.join(errors)}", "error")
        return redirect(url_for("pages.projects"))
    session = get_db()
    try:
        project = new_project(
            session,
            form.name.data or "",
            form.labels.data or "",
            task_type=form.task_type.data or "text",
            multi_label=bool(form.multi_label.data),
            allow_ambiguous=bool(form.allow_ambiguous.data),
            overlap_k=form.overlap_k.data or 1,
            description=form.description.data or "",
            author=me(),
        )
    except UserError as exc:
        session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("pages.projects"))
    flash(f"Project {project.name!r} created. Import items to start.", "info")
    return redirect(url_for("pages.project", project_id=project.id))


@pages.route("/projects/<int:project_id>")
@login_required
def project(project_id: int) -> str:
    session = get_db()
    proj = project_for_me(project_id)
    counts = project_counts(session, [proj.id])[proj.id]  # the same numbers as every page
    by_source = dict(
        session.execute(
            select(Annotation.source, func.count())
            .where(Annotation.project_id == proj.id, Annotation.kind == "label")
            .group_by(Annotation.source)
        ).all()
    )
    annotations, gold = by_source.pop("human", 0), by_source.pop("gold", 0)
    imported = sum(by_source.values())
    reviewer = reviews(proj)  # its annotators see no imports, gold answers or model runs
    imports = (
        session.scalars(
            select(ImportBatch)
            .where(ImportBatch.project_id == proj.id)
            .order_by(ImportBatch.id.desc())
            .limit(20)
        ).all()
        if reviewer
        else []
    )
    overview = project_overview(session, proj) if me().is_admin else None
    flag_total, flags = list_flags(session, proj, limit=20) if reviewer else (0, [])
    return render_template(
        "project.html",
        overview=overview,
        reviewer=reviewer,
        flags=flags,
        flag_total=flag_total,
        flag_texts=FLAG_TEXTS,
        **(learning_context(proj) if reviewer else {}),
        project=proj,
        counts=counts,
        annotations=annotations,
        imported=imported if reviewer else 0,
        gold=gold if reviewer else 0,
        imports=imports,
        form=(ImportForm() if proj.task_type == "text" else ImageImportForm())
        if reviewer
        else None,
    )


@pages.route("/projects/<int:project_id>/import", methods=["POST"])
@login_required
def import_file(project_id: int) -> Response:
    """The project page's import form: the upload is kept and an import job stores it; its
    page shows the progress, then the numbers (or each problem, nothing stored)."""
    proj = project_for_me(project_id, Role.SME)
    images = proj.task_type == "image"
    form = ImageImportForm() if images else ImportForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{field}: {'; '.join(errors)}", "error")
        return redirect(url_for("pages.project", project_id=proj.id))
    from labelapp.services import uploads

    upload = form.file.data
    filename = secure_filename(upload.filename or "upload.csv") or "upload.csv"
    if images:
        options = dict(
            folder_labels=form.folder_labels.data,
            label_source=form.label_source.data or None,
            schema=form.schema.data,
        )
    else:
        options = dict(
            text_col=form.text_col.data or None,
            id_col=form.id_col.data or None,
            label_col=form.label_col.data or None,
            label_source=form.label_source.data or None,
            group_col=form.group_col.data or None,
            schema=form.schema.data,
        )
    try:
        job = uploads.import_new_upload(
            get_db(),
            current_app.extensions["labelapp.sessions"],
            proj,
            me(),
            upload,
            filename,
            options,
            images,
        )
    except UserError as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.project", project_id=proj.id))
    return redirect(url_for("admin.import_job", project_id=proj.id, job_id=job.id))


@pages.route("/media/items/<int:item_id>")
@login_required
def item_image(item_id: int) -> Response:
    session = get_db()
    item = session.get(Item, item_id)
    if item is None or item.image_path is None:
        abort(404)
    get_project_for(session, me(), item.project_id)
    if not reviews(item.project_id) and not has_seen(session, me(), item.id):
        abort(403, "annotators see the items the queue gave them, and no others")
    path = (config.media_dir() / item.image_path).resolve()
    if not path.is_relative_to(config.media_dir()) or not path.exists():
        abort(404)
    return send_file(path, max_age=3600)


@pages.route("/projects/<int:project_id>/flags/<int:flag_id>/resolve", methods=["POST"])
@login_required
def resolve_flag_page(project_id: int, flag_id: int) -> Response:
    """A reviewer closes a flag from the project page, saying what was done."""
    proj = project_for_me(project_id, *REVIEWER_ROLES)
    flag = resolve_flag(get_db(), me(), flag_id, request.form.get("resolution", ""), proj.id)
    flash(f"Flag on item {flag.item_id} resolved.", "info")
    return redirect(url_for("pages.project", project_id=proj.id, _anchor="flags"))
