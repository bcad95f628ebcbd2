"""Data validation over HTTP: the project schema (read; admins loosen it), drift between two
groups of items, and slices. (labelapp.api.validation is the request-checking machinery.)"""

from __future__ import annotations

from flask import current_app, jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.schemas.data_validation import (
    ColumnLoosen,
    DriftOut,
    DriftQuery,
    SchemaOut,
    SchemaVersionOut,
    SliceQuery,
    SlicesOut,
)
from labelapp.api.validation import args, body, validate
from labelapp.models import REVIEWER_ROLES
from labelapp.models.roles import Role
from labelapp.services.schema.views import schema_overview, version_json
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.get("/projects/<int:project_id>/schema")
@login_required
@validate(resp={200: SchemaOut})
def project_schema(project_id: int):
    """Project schema: current version (pandera JSON), all versions, import checks (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    return jsonify(schema_overview(get_db(), project))


@api.post("/projects/<int:project_id>/schema/columns")
@login_required
@validate(json=ColumnLoosen, resp={201: SchemaVersionOut})
def loosen_schema(project_id: int):
    """Loosen a column (admin): wider range or text length, an allowed value, optional, nullable"""
    from labelapp.services.schema.edit import ColumnEdit, edit_schema

    project = project_for_me(project_id, Role.ADMIN)
    request: ColumnLoosen = body()
    edit = ColumnEdit(
        request.column,
        request.optional,
        request.nullable,
        request.min_value,
        request.max_value,
        list(request.add_values),
    )
    return jsonify(version_json(edit_schema(get_db(), project, edit, me()))), 201


@api.get("/projects/<int:project_id>/drift")
@login_required
@validate(query=DriftQuery, resp={200: DriftOut})
def project_drift(project_id: int):
    """Drift of group b against group a (sme, admin): per-column tests, text, domain AUC, labels"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query: DriftQuery = args()
    from labelapp.services.drift.service import Selector

    Selector.parse(query.a), Selector.parse(query.b)  # a malformed selector answers at once
    params = {
        "a": query.a,
        "b": query.b,
        "seed": query.seed,
        "alpha": query.alpha,
        "min_auc": query.min_auc,
        "min_ks": query.min_ks,
        "min_v": query.min_v,
    }
    return jsonify(_in_child("drift", project.id, params))


@api.get("/projects/<int:project_id>/slices")
@login_required
@validate(query=SliceQuery, resp={200: SlicesOut})
def project_slices(project_id: int):
    """Per metadata value and per class: model held-out accuracy, human level (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query: SliceQuery = args()
    return jsonify(_in_child("slices", project.id, {"column": query.by or None}))


def _in_child(analysis: str, project_id: int, params: dict) -> dict:
    """scipy and scikit-learn stay out of the web process: the analysis runs in a child."""
    from labelapp.services.analysis_child import analyse

    return analyse(current_app.config["DATABASE_URL"], analysis, project_id, params, get_db())
