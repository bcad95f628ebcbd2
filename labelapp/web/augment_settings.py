"""The augmentation preview's notes and setting: what the chosen pipeline does, which of its
transforms may change a label, and (admins) whether horizontal flips keep this project's labels."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from labelapp.models import Project
from labelapp.services.errors import UserError
from labelapp.services.projects import change_settings
from labelapp.web.access import project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages


def augment_notes(project: Project, plan: dict[str, Any] | None) -> tuple[dict | None, dict]:
    """The plan as the project's export would use it (flips out where they change labels) and
    the page's notes on it: the pipeline's own description, one line per transform, warnings."""
    notes: dict[str, Any] = {"description": "", "steps": [], "warnings": []}
    if plan is None or plan.get("kind") != "image":
        return plan, notes
    from augment.label_safety import describe, label_warnings, plan_for_project

    used = plan_for_project(plan, project.flips_keep_label)
    notes["description"] = str(plan["spec"].get("description", ""))
    notes["steps"] = describe(plan["spec"])
    notes["warnings"] = label_warnings(plan["spec"], project.flips_keep_label)
    return used, notes


@pages.route("/projects/<int:project_id>/augment/settings", methods=["POST"])
@login_required
def save_augment_settings(project_id: int) -> Response:
    """Admins: whether a horizontal flip keeps this project's labels."""
    project = project_for_me(project_id, "admin")
    keep = request.form.get("flips_keep_label") == "on"
    try:
        change_settings(get_db(), project, {"flips_keep_label": keep})
    except UserError as exc:
        get_db().rollback()
        flash(exc.message, "error")
    else:
        flash(
            "Horizontal flips keep this project's labels: exports use them."
            if keep
            else "Horizontal flips change this project's labels: exports leave them out.",
            "info",
        )
    return redirect(url_for("pages.augment_page", project_id=project.id, **request.args))
