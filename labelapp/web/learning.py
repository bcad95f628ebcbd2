"""Active learning on the project page: settings, retrain on demand, model runs over time."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from active_learning.names import STRATEGY_NAMES, STRATEGY_TITLES
from labelapp.models import ModelRun, Project
from labelapp.services.errors import UserError
from labelapp.services.jobs import active_job, enqueue
from labelapp.services.projects import update_settings
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.forms import LearningForm
from labelapp.web.pages import pages

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
        "chart": accuracy_chart(runs),
        "learning_form": form if me().is_admin else None,
        "retrain_job": active_job(session, project.id, "retrain"),
        "can_retrain": me().is_reviewer and not project.multi_label,
    }


def accuracy_chart(runs: list[ModelRun], width: int = 560, height: int = 160) -> dict | None:
    """Points of held-out accuracy per run for a small inline SVG line chart."""
    points = [(r, r.metrics.get("accuracy")) for r in runs if r.metrics.get("accuracy") is not None]
    if not points:
        return None
    pad = 28
    n = len(points)
    xs = [pad + (width - 2 * pad) * (i / max(1, n - 1)) for i in range(n)]
    ys = [height - pad - (height - 2 * pad) * acc for _, acc in points]
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "path": " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(zip(xs, ys, strict=True))),
        "dots": [
            {"x": x, "y": y, "label": f"run #{r.id}: accuracy {acc:.3f} on held-out labels, "
                                       f"trained on {r.n_train}"}
            for (r, acc), x, y in zip(points, xs, ys, strict=True)
        ],
        "last": points[-1][1],
    }


@pages.route("/projects/<int:project_id>/learning", methods=["POST"])
@login_required
def save_learning(project_id: int) -> Response:
    project = project_for_me(project_id, "admin")
    form = LearningForm()
    form.strategy.choices = STRATEGY_CHOICES
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{field}: {'; '.join(errors)}", "error")
    else:
        try:
            update_settings(
                project,
                {
                    "strategy": form.strategy.data,
                    "batch_size": form.batch_size.data,
                    "retrain_every": form.retrain_every.data,
                    "lease_seconds": form.lease_seconds.data,
                },
            )
            get_db().commit()
            flash("Active-learning settings saved.", "info")
        except UserError as exc:
            get_db().rollback()
            flash(exc.message, "error")
    return redirect(url_for("pages.project", project_id=project.id) + "#learning")


@pages.route("/projects/<int:project_id>/retrain", methods=["POST"])
@login_required
def retrain(project_id: int) -> Response:
    project = project_for_me(project_id, "sme")
    job, future = enqueue(current_app.extensions["labelapp.sessions"], project.id, "retrain",
                          user=me())
    flash(
        f"Retraining (job #{job.id}); the queue reorders when it finishes."
        if future is not None
        else f"A retrain is already {job.status} (job #{job.id}).",
        "info",
    )
    return redirect(url_for("pages.project", project_id=project.id) + "#learning")
