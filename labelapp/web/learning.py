"""Active learning on the project page: settings, retrain on demand, model runs over time."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from active_learning.names import STRATEGY_NAMES, STRATEGY_TITLES
from labelapp.models import ModelRun, Project
from labelapp.models.roles import Role
from labelapp.services.errors import UserError
from labelapp.services.jobs import active_job, start_job
from labelapp.services.learning_story import learning_story
from labelapp.services.projects import change_settings
from labelapp.web.access import me, project_for_me, reviews
from labelapp.web.db import get_db
from labelapp.web.forms import LearningForm
from labelapp.web.page_blueprint import pages

# The strategies' names from the library's cheap names module (no scikit-learn in web workers).
STRATEGY_CHOICES = [(name, STRATEGY_TITLES[name]) for name in STRATEGY_NAMES]


def learning_context(project: Project) -> dict:
    """What the project page shows about active learning."""
    session = get_db()
    runs = list(
        session.scalars(
            select(ModelRun).where(ModelRun.project_id == project.id).order_by(ModelRun.id)
        )
    )
    form = LearningForm(
        data={
            "strategy": project.strategy,
            "batch_size": project.batch_size,
            "retrain_every": project.retrain_every,
            "lease_seconds": project.lease_seconds,
        }
    )
    form.strategy.choices = STRATEGY_CHOICES
    return {
        "runs": runs,
        # The chart is drawn in the browser from GET /api/projects/{id}/model-runs (learning.js).
        "chart": any(r.metrics.get("accuracy") is not None for r in runs),
        "learning_form": form if me().is_admin else None,
        "retrain_job": active_job(session, project.id, "retrain"),
        "story": learning_story(session, project),
        "can_retrain": reviews(project) and not project.multi_label and not project.archived_at,
    }


@pages.route("/projects/<int:project_id>/learning", methods=["POST"])
@login_required
def save_learning(project_id: int) -> Response:
    project = project_for_me(project_id, Role.ADMIN)
    form = LearningForm()
    form.strategy.choices = STRATEGY_CHOICES
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{field}: {'; '.join(errors)}", "error")
    else:
        try:
            change_settings(
                get_db(),
                project,
                {
                    "strategy": form.strategy.data,
                    "batch_size": form.batch_size.data,
                    "retrain_every": form.retrain_every.data,
                    "lease_seconds": form.lease_seconds.data,
                },
            )
            flash("Active-learning settings saved.", "info")
        except UserError as exc:
            get_db().rollback()
            flash(exc.message, "error")
    return redirect(url_for("pages.project", project_id=project.id) + "#learning")


@pages.route("/projects/<int:project_id>/retrain", methods=["POST"])
@login_required
def retrain(project_id: int) -> Response:
    project = project_for_me(project_id, Role.SME)
    job, future = start_job(
        get_db(), current_app.extensions["labelapp.sessions"], project.id, "retrain", user=me()
    )
    flash(
        f"Retraining (job #{job.id}); the queue reorders when it finishes."
        if future is not None
        else f"A retrain is already {job.status} (job #{job.id}).",
        "info",
    )
    return redirect(url_for("pages.project", project_id=project.id) + "#learning")
