"""Projects, their items and imports, and who is asking."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, jsonify, request
from flask_login import login_required
from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from labelapp.api import api
from labelapp.api.schemas.admin import MemberAddRole
from labelapp.api.schemas.common import Page
from labelapp.api.schemas.learning import JobOut
from labelapp.api.schemas.projects import (
    ImportForm,
    ImportList,
    ItemOut,
    ItemPage,
    MemberOut,
    ProjectCreate,
    ProjectList,
    ProjectOut,
    WhoAmIOut,
)
from labelapp.api.serializers.items import import_json, item_json
from labelapp.api.serializers.jobs import job_json
from labelapp.api.serializers.projects import project_json
from labelapp.api.serializers.users import user_json
from labelapp.api.validation import args, body, validate
from labelapp.models import REVIEWER_ROLES, ImportBatch, Item
from labelapp.models.roles import Role
from labelapp.services import project_lifecycle
from labelapp.services.errors import Forbidden, UserError
from labelapp.services.projects import get_project_for, project_roles, visible_projects
from labelapp.services.queue import has_seen
from labelapp.web.access import me, project_for_me, reviews
from labelapp.web.db import get_db


def json_body() -> dict[str, Any]:
    """The route's checked JSON body as a dict of the fields that were sent."""
    return body().model_dump(exclude_unset=True)


def page_args() -> tuple[int, int]:
    """``offset`` and ``limit`` from the route's checked query string."""
    query = args()
    return query.offset, query.limit


@api.get("/me")
@login_required
@validate(resp={200: WhoAmIOut})
def whoami():
    """The authenticated user, with their role in each project"""
    roles = project_roles(get_db(), me())
    return jsonify({**user_json(me()), "project_roles": {str(k): v for k, v in roles.items()}})


@api.get("/projects")
@login_required
@validate(resp={200: ProjectList})
def list_projects():
    """Projects the caller is a member of (admins: all)"""
    return jsonify({"projects": [project_json(p) for p in visible_projects(get_db(), me())]})


@api.post("/projects")
@login_required
@validate(json=ProjectCreate, resp={201: ProjectOut}, errors=(409,))
def new_project():
    """Create a project (admin)"""
    if not me().is_admin:
        abort(403, "only admins create projects")
    new: ProjectCreate = body()
    session = get_db()
    project = project_lifecycle.new_project(
        session,
        new.name,
        new.labels,
        task_type=new.task_type,
        multi_label=new.multi_label,
        allow_ambiguous=new.allow_ambiguous,
        hotkeys=new.hotkeys,
        description=new.description,
        guidelines=new.guidelines,
        overlap_k=new.overlap_k,
        queue_order=new.queue_order,
        lease_seconds=new.lease_seconds,
        author=me(),
    )
    return jsonify(project_json(project)), 201


@api.get("/projects/<int:project_id>")
@login_required
@validate(resp={200: ProjectOut})
def get_project(project_id: int):
    """A project with its label names (`labels`) and settings"""
    return jsonify(project_json(project_for_me(project_id)))


@api.post("/projects/<int:project_id>/members")
@login_required
@validate(json=MemberAddRole, resp={201: MemberOut, 200: MemberOut}, errors=(409,))
def add_project_member(project_id: int):
    """Add a user to the project, or change a member's role in it: ``role`` is annotator or sme
    in this project (default: the highest their account allows; an annotator account is an
    annotator everywhere, and an admin giving it sme makes the account sme). Admins; the
    project's smes if it lets them, up to the account's role"""
    from labelapp.api.admin import add_member_with_role

    member, project = add_member_with_role(project_id)
    return jsonify(
        {"project_id": project.id, "role": member.role, "user": user_json(member.user)}
    ), 201 if member.added else 200


@api.get("/projects/<int:project_id>/items")
@login_required
@validate(query=Page, resp={200: ItemPage})
def list_items(project_id: int):
    """Items in import order, paginated (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    offset, limit = page_args()
    session = get_db()
    total = session.scalar(select(func.count()).where(Item.project_id == project.id))
    items = session.scalars(
        select(Item)
        .where(Item.project_id == project.id)
        .order_by(Item.position)
        .offset(offset)
        .limit(limit)
    )
    return jsonify({"total": total, "offset": offset, "items": [item_json(i) for i in items]})


@api.get("/items/<int:item_id>")
@login_required
@validate(resp={200: ItemOut})
def get_item(item_id: int):
    """One item (annotators: only items the queue gave them)"""
    session = get_db()
    item = session.get(Item, item_id)
    if item is None:
        abort(404, f"no item {item_id}")
    get_project_for(session, me(), item.project_id)
    if not reviews(item.project_id) and not has_seen(session, me(), item.id):
        raise Forbidden("annotators see the items the queue gave them, and no others")
    return jsonify(item_json(item))


@api.get("/projects/<int:project_id>/imports")
@login_required
@validate(resp={200: ImportList})
def list_imports(project_id: int):
    """Past imports (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    batches = get_db().scalars(
        select(ImportBatch).where(ImportBatch.project_id == project.id).order_by(ImportBatch.id)
    )
    return jsonify({"imports": [import_json(b) for b in batches]})


_TRUE = ("1", "true", "on", "yes")


@api.post("/projects/<int:project_id>/imports")
@login_required
@validate(form=ImportForm, resp={202: JobOut}, errors=(409, 413))
def create_import(project_id: int):
    """Import a CSV/TSV/JSONL/Parquet file, or a zip of images for an image project (sme, admin)

    Multipart field ``file``; column options as form fields. The upload is kept and an import
    job parses, checks and stores it: poll /api/jobs/{id}. Its result is the import report (rows
    read, new items, already present, duplicates in the file, labels). All rows are validated
    first; a bad row fails the job with its line number, in ``error`` and, one per problem, in
    ``result.details``, and nothing is stored. ``dry_run=true`` checks and reports without
    storing. One import runs per project at a time: 409 while another does."""
    from labelapp.services import uploads  # the upload waits for a worker: no pandas here

    project = project_for_me(project_id, Role.SME)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UserError("send the file as multipart/form-data in the field 'file'")
    form = request.form
    filename = secure_filename(upload.filename) or "upload"
    images = project.task_type == "image"
    if images:
        options = dict(
            folder_labels=form.get("folder_labels", "").lower() in _TRUE,
            label_source=form.get("label_source") or None,
            label_kind=form.get("label_kind") or None,
            schema=form.get("schema") or "strict",
        )
    else:
        options = dict(
            text_col=form.get("text_col") or None,
            id_col=form.get("id_col") or None,
            label_col=form.get("label_col") or None,
            label_source=form.get("label_source") or None,
            label_kind=form.get("label_kind") or None,
            confidence_col=form.get("confidence_col") or None,
            group_col=form.get("group_col") or None,
            format=form.get("format") or None,
            schema=form.get("schema") or "strict",
        )
    job = uploads.import_new_upload(
        get_db(),
        current_app.extensions["labelapp.sessions"],
        project,
        me(),
        upload,
        filename,
        options,
        images,
        dry_run=form.get("dry_run", "").lower() in _TRUE,
    )
    return jsonify(job_json(job)), 202
