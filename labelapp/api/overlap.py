"""Overlap for items already imported, over HTTP (admin): preview and apply."""

from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.schemas.overlap import OverlapPlanOut, OverlapQuery
from labelapp.api.validation import args, validate
from labelapp.models.roles import Role
from labelapp.services import overlap as service
from labelapp.web.access import project_for_me
from labelapp.web.db import get_db


@api.get("/projects/<int:project_id>/overlap/preview")
@login_required
@validate(query=OverlapQuery, resp={200: OverlapPlanOut})
def overlap_preview(project_id: int):
    """How many items already imported a new overlap would queue for more answers (admin)

    n_queued items would need n_answers more answers in all; n_released would need fewer. Nothing
    changes: POST /overlap/apply (after PATCHing the project's overlap) applies it."""
    project = project_for_me(project_id, Role.ADMIN)
    query: OverlapQuery = args()
    return jsonify(service.plan(get_db(), project, query.overlap_k, query.overlap_share).as_dict())


@api.post("/projects/<int:project_id>/overlap/apply")
@login_required
@validate(resp={200: OverlapPlanOut})
def overlap_apply(project_id: int):
    """Apply the project's overlap setting to the items already imported (admin)

    Each non-gold item then needs max(0, target - people who answered it) more answers."""
    project = project_for_me(project_id, Role.ADMIN)
    return jsonify(service.apply_to_existing(get_db(), project).as_dict())
