"""The augmentation preview's setting (admins): whether horizontal flips keep this project's
labels (the notes on a pipeline's transforms: :mod:`labelapp.services.augment_preview`)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from labelapp.models.roles import Role
from labelapp.services.errors import UserError
from labelapp.services.projects import change_settings
from labelapp.web.access import project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages


@pages.route("/projects/<int:project_id>/augment/settings", methods=["POST"])
@login_required
def save_augment_settings(project_id: int) -> Response:
    """Admins: whether a horizontal flip keeps this project's labels."""
    project = project_for_me(project_id, Role.ADMIN)
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
