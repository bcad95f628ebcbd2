"""Labeling functions over HTTP, beyond the declarative ones (sme, admin): Python LFs written in
the browser (previewed and saved; run only in the sandbox), rename, delete, compare versions."""

from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.schemas.lf_versions import (
    CompareOut,
    CompareQuery,
    DeletedOut,
    PythonPreviewOut,
    PythonSave,
    PythonSource,
    RenameBody,
)
from labelapp.api.schemas.weak import LFOut
from labelapp.api.validation import args, body, validate
from labelapp.models.roles import Role
from labelapp.services import lf_versions as service
from labelapp.services.weak.lfs import lf_json
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.post("/projects/<int:project_id>/lfs/python/preview")
@login_required
@validate(json=PythonSource, resp={200: PythonPreviewOut})
def preview_python_lf(project_id: int):
    """What a Python LF would vote on the first 2,000 items, run in the sandbox (sme, admin)

    The sandbox's limits apply (capped at 20 s for a preview); one that is hit is a 400 saying
    which. Coverage and accuracy come with their count and 95% interval."""
    project = project_for_me(project_id, Role.SME)
    return jsonify(service.python_preview(get_db(), project, body().source))


@api.post("/projects/<int:project_id>/lfs/python")
@login_required
@validate(json=PythonSave, resp={201: LFOut, 200: LFOut}, errors=(409,))
def save_python_lf(project_id: int):
    """Save a Python LF written in the browser (sme, admin)

    Its name is its function's. 409 when that name exists, unless replace is true: then it is
    the name's next version."""
    project = project_for_me(project_id, Role.SME)
    data: PythonSave = body()
    row, created = service.save_python(
        get_db(), project, data.source, me(), data.description, data.replace
    )
    return jsonify(lf_json(row)), 201 if created else 200


@api.post("/projects/<int:project_id>/lfs/<int:lf_id>/rename")
@login_required
@validate(json=RenameBody, resp={200: LFOut}, errors=(409,))
def rename_lf(project_id: int, lf_id: int):
    """Rename an LF, every version of it (sme, admin); 409 if the name is taken"""
    project = project_for_me(project_id, Role.SME)
    return jsonify(lf_json(service.rename(get_db(), project, lf_id, body().name)))


@api.delete("/projects/<int:project_id>/lfs/<int:lf_id>")
@login_required
@validate(resp={200: DeletedOut})
def delete_lf(project_id: int, lf_id: int):
    """Delete an LF (sme, admin): its votes are removed, its versions kept as history"""
    project = project_for_me(project_id, Role.SME)
    return jsonify(service.delete_lf(get_db(), project, lf_id))


@api.get("/projects/<int:project_id>/lfs/<int:lf_id>/compare")
@login_required
@validate(query=CompareQuery, resp={200: CompareOut})
def compare_lf_versions(project_id: int, lf_id: int):
    """A unified diff from version ?other=<id> to this one (two versions of one LF; sme, admin)"""
    project = project_for_me(project_id, Role.SME)
    return jsonify(service.compare(get_db(), project, lf_id, args().other))
