"""The project's text featurizer on the project page: shown to reviewers, set by admins."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange

from active_learning.names import FEATURIZER_NAMES, FEATURIZER_TITLES
from labelapp.models import Project
from labelapp.models.roles import Role
from labelapp.services.errors import UserError
from labelapp.services.featurizer_settings import MAX_EMBEDDING_ITEMS_LIMIT
from labelapp.services.featurizers import featurizer_status, save_featurizer_settings
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages

CHOICES = [(name, FEATURIZER_TITLES[name]) for name in FEATURIZER_NAMES]


class FeaturizerForm(FlaskForm):
    """Which features every model of a text project learns from (admins)."""

    featurizer = SelectField("Text features", choices=CHOICES)
    embedding_max_items = IntegerField(
        "Use TF-IDF above this many items",
        validators=[NumberRange(0, MAX_EMBEDDING_ITEMS_LIMIT)],
    )


@pages.app_template_global("featurizer_panel")
def featurizer_panel(project: Project) -> dict:
    """What the project page's featurizer panel shows (included in the reviewers' card; the
    form for admins). A template global, so the project view needs no import of this module."""
    status = featurizer_status(get_db(), project)
    form = None
    if status["applies"] and me().is_admin:
        form = FeaturizerForm(
            data={
                "featurizer": project.featurizer,
                "embedding_max_items": project.embedding_max_items,
            }
        )
    return {"features": status, "featurizer_form": form, "featurizer_titles": FEATURIZER_TITLES}


@pages.route("/projects/<int:project_id>/featurizer", methods=["POST"])
@login_required
def save_featurizer(project_id: int) -> Response:
    project = project_for_me(project_id, Role.ADMIN)
    form = FeaturizerForm()
    if project.task_type != "text":
        flash("Image projects always use pixel features: there is nothing to choose.", "error")
    elif not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{field}: {'; '.join(errors)}", "error")
    else:
        try:
            save_featurizer_settings(
                get_db(),
                project,
                {
                    "featurizer": form.featurizer.data,
                    "embedding_max_items": form.embedding_max_items.data,
                },
            )
            flash(
                "Featurizer saved: the next retrain, propagation, end model and label-issue "
                "scan use it.",
                "info",
            )
        except UserError as exc:
            flash(exc.message, "error")
    return redirect(url_for("pages.project", project_id=project.id) + "#features")
