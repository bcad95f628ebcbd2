"""Projects, their items and imports, and who is asking."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from flask import abort, jsonify, request
from flask_login import login_required
from sqlalchemy import func, select
from werkzeug.utils import secure_filename

from labelapp.api import api
from labelapp.api.serialize import import_json, item_json, project_json, user_json
from labelapp.models import ImportBatch, Item
from labelapp.services.errors import UserError
from labelapp.services.projects import create_project, get_project_for, visible_projects
from labelapp.services.users import add_member, get_user
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db

MAX_PAGE = 1000


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise UserError("send a JSON object with Content-Type: application/json")
    return body


def page_args(default_limit: int = 100) -> tuple[int, int]:
    """``offset`` and ``limit`` from the query string, checked."""
    try:
        offset = int(request.args.get("offset", 0))
        limit = int(request.args.get("limit", default_limit))
    except ValueError:
        raise UserError("offset and limit must be whole numbers") from None
    if offset < 0 or not 1 <= limit <= MAX_PAGE:
        raise UserError(f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
    return offset, limit


@api.get("/me")
@login_required
def whoami():  # noqa: ANN201
    return jsonify(user_json(me()))


@api.get("/projects")
@login_required
def list_projects():  # noqa: ANN201
    return jsonify({"projects": [project_json(p) for p in visible_projects(get_db(), me())]})


@api.post("/projects")
@login_required
def new_project():  # noqa: ANN201
    if not me().is_admin:
        abort(403, "only admins create projects")
    body = json_body()
    session = get_db()
    project = create_project(
        session,
        str(body.get("name", "")),
        body.get("labels") or [],
        task_type=str(body.get("task_type", "text")),
        multi_label=bool(body.get("multi_label", False)),
        allow_ambiguous=bool(body.get("allow_ambiguous", False)),
        hotkeys=body.get("hotkeys"),
        description=str(body.get("description", "")),
        guidelines=str(body.get("guidelines", "")),
        overlap_k=int(body.get("overlap_k", 1)),
        queue_order=str(body.get("queue_order", "import")),
        lease_seconds=int(body.get("lease_seconds", 600)),
        author=me(),
    )
    session.commit()
    return jsonify(project_json(project)), 201


@api.get("/projects/<int:project_id>")
@login_required
def get_project(project_id: int):  # noqa: ANN201
    return jsonify(project_json(project_for_me(project_id)))


@api.post("/projects/<int:project_id>/members")
@login_required
def add_project_member(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id)
    if not me().is_admin:
        abort(403, "only admins add members")
    session = get_db()
    user = get_user(session, str(json_body().get("username", "")))
    add_member(session, user, project)
    session.commit()
    return jsonify({"project_id": project.id, "user": user_json(user)}), 201


@api.get("/projects/<int:project_id>/items")
@login_required
def list_items(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id)
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
def get_item(item_id: int):  # noqa: ANN201
    session = get_db()
    item = session.get(Item, item_id)
    if item is None:
        abort(404, f"no item {item_id}")
    get_project_for(session, me(), item.project_id)
    return jsonify(item_json(item))


@api.get("/projects/<int:project_id>/imports")
@login_required
def list_imports(project_id: int):  # noqa: ANN201
    project = project_for_me(project_id)
    batches = get_db().scalars(
        select(ImportBatch).where(ImportBatch.project_id == project.id).order_by(ImportBatch.id)
    )
    return jsonify({"imports": [import_json(b) for b in batches]})


@api.post("/projects/<int:project_id>/imports")
@login_required
def create_import(project_id: int):  # noqa: ANN201
    """Upload a CSV/TSV/JSONL/Parquet file, or a zip of images for an image project (multipart
    field ``file``); column options as form fields."""
    project = project_for_me(project_id, "sme")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise UserError("send the file as multipart/form-data in the field 'file'")
    form = request.form
    filename = secure_filename(upload.filename) or "upload"
    session = get_db()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / filename
        upload.save(path)
        # pandas/pyarrow load only when someone imports: workers stay small.
        from labelapp.services.imports import ImportOptions, import_path

        if project.task_type == "image":
            from labelapp.services.imports.archive import unpack_images_zip

            folder = unpack_images_zip(path, Path(tmp) / "unpacked", filename)
            options = ImportOptions(
                folder_labels=form.get("folder_labels", "").lower() in ("1", "true", "on", "yes"),
                label_source=form.get("label_source") or None,
            )
            report = import_path(
                session, project, folder, options, user=me(), display_name=filename
            )
        else:
            options = ImportOptions(
                text_col=form.get("text_col") or None,
                id_col=form.get("id_col") or None,
                label_col=form.get("label_col") or None,
                label_source=form.get("label_source") or None,
                group_col=form.get("group_col") or None,
                format=form.get("format") or None,
            )
            report = import_path(
                session, project, path, options, user=me(), display_name=filename
            )
    session.commit()
    return jsonify(report.to_dict()), 201
