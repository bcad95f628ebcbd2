"""The labeling-functions page (sme, admin): write and preview declarative LFs, the LF analysis
table with a coverage-vs-accuracy plot, and the apply / label model / propagation / end model
jobs with their latest runs."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import select

from labelapp.models import Job
from labelapp.services import weak as service
from labelapp.services.errors import UserError
from labelapp.services.jobs import active_job
from labelapp.web.access import project_for_me
from labelapp.web.db import get_db
from labelapp.web.pages import pages

JOB_KINDS = ("ws_pipeline", "ws_apply", "ws_fit", "ws_propagate", "ws_train")


def scatter(rows: list[dict[str, Any]], width: int = 560, height: int = 260) -> dict | None:
    """Points for an inline SVG: coverage (x) against empirical accuracy (y), one dot per LF
    with both numbers."""
    points = [r for r in rows if r["emp_accuracy"] is not None]
    if not points:
        return None
    pad = 36
    top = max(r["coverage"] for r in points)
    x_max = max(0.05, min(1.0, round(top * 1.2 + 0.005, 2)))

    def x(v: float) -> float:
        return pad + (width - 2 * pad) * v / x_max

    def y(v: float) -> float:
        return height - pad - (height - 2 * pad) * v

    return {
        "width": width,
        "height": height,
        "pad": pad,
        "x_ticks": [(x(t), f"{100 * t:.0f}%") for t in (0, x_max / 2, x_max)],
        "y_ticks": [(y(t), f"{100 * t:.0f}%") for t in (0.0, 0.5, 1.0)],
        "dots": [
            {
                "x": round(x(r["coverage"]), 1),
                "y": round(y(r["emp_accuracy"]), 1),
                "name": r["name"],
                "title": f"{r['name']}: coverage {100 * r['coverage']:.1f}%, accuracy "
                f"{100 * r['emp_accuracy']:.1f}% on {r['correct'] + r['incorrect']} labeled hits",
            }
            for r in points
        ],
    }


def _last_job(project_id: int) -> Job | None:
    """The running weak-supervision job, else the one named in ``?job=``."""
    session = get_db()
    for kind in JOB_KINDS:
        job = active_job(session, project_id, kind)
        if job is not None:
            return job
    job_id = request.args.get("job", type=int)
    if job_id is not None:
        job = session.get(Job, job_id)
        if job is not None and job.project_id == project_id and job.kind in JOB_KINDS:
            return job
    return session.scalar(
        select(Job)
        .where(Job.project_id == project_id, Job.kind.in_(JOB_KINDS))
        .order_by(Job.id.desc())
        .limit(1)
    )


@pages.route("/projects/<int:project_id>/lfs")
@login_required
def lfs_page(project_id: int) -> str:
    project = project_for_me(project_id, "sme")
    session = get_db()
    error, result = None, None
    try:
        result = service.analysis(session, project)
    except UserError as exc:  # e.g. a multi-label project
        error = exc.message
    runs = service.latest_runs(session, project.id)
    return render_template(
        "lfs.html",
        project=project,
        error=error,
        result=result,
        chart=scatter(result.rows) if result else None,
        runs=runs,
        counts=service.prob_label_counts(session, project.id),
        prob_sources=service.PROB_SOURCES,
        job=_last_job(project.id),
        inactive=[lf for lf in service.latest_lfs(session, project.id) if not lf.active],
        classes=[lab.name for lab in project.labels if not lab.is_ambiguous],
    )
