"""The labeling-functions page (sme, admin): write and preview declarative and Python LFs, their
versions, the LF analysis table with rates and intervals and an interactive coverage/accuracy
chart, and the apply / label model / propagation / end model jobs with their latest runs, each
marked stale with what changed since."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import render_template, request
from flask_login import login_required
from sqlalchemy import select

from labelapp.models import Job, LabelingFunction, Project
from labelapp.models.roles import Role
from labelapp.services.errors import UserError
from labelapp.services.job_reports import Report
from labelapp.services.jobs import active_job
from labelapp.services.lf_staleness import staleness
from labelapp.services.rates import rate
from labelapp.services.weak import analysis_report
from labelapp.services.weak import runs as weak_runs
from labelapp.services.weak.analysis_report import Analysis
from labelapp.services.weak.common import class_names
from labelapp.services.weak.lfs import latest_lfs, lf_json, versions
from labelapp.services.weak.runs import latest_runs, prob_label_counts
from labelapp.web.access import project_for_me
from labelapp.web.db import get_db
from labelapp.web.highlight import marked
from labelapp.web.jobs import report_on_page
from labelapp.web.page_blueprint import pages

JOB_KINDS = ("ws_pipeline", "ws_apply", "ws_fit", "ws_propagate", "ws_train")


def lf_rates(result: Any) -> dict[int, dict[str, dict]]:
    """Per LF row: coverage, overlap, conflict and empirical accuracy, each with its count and 95%
    interval."""
    return {
        r["id"]: {
            "coverage": rate(round(r["coverage"] * result.n_items), result.n_items)
            if r["applied"] and r["coverage"] is not None
            else None,
            "accuracy": rate(r["correct"], r["correct"] + r["incorrect"]),
            **{
                key: rate(round(r[key] * result.n_items), result.n_items)
                if r["applied"] and r[key] is not None
                else None
                for key in ("overlaps", "conflicts")
            },
        }
        for r in result.rows
    }


def lf_chart_rows(result: Any) -> list[dict[str, Any]]:
    """The coverage/accuracy chart's data: every LF, applied or not, with or without accuracy."""
    rates = lf_rates(result)
    return [
        {
            "name": r["name"],
            "version": r["version"],
            "applied": r["applied"],
            "coverage": rates[r["id"]]["coverage"],
            "accuracy": rates[r["id"]]["accuracy"],
        }
        for r in result.rows
    ]


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


def _pending(lf: LabelingFunction) -> dict[str, Any]:
    """A row for an active LF the stored analysis does not have yet (new, or switched on)."""
    return {
        **lf_json(lf),
        "applied": False,
        "pending": True,
        "polarity": [],
        **dict.fromkeys(("coverage", "overlaps", "conflicts", "emp_accuracy")),
        "correct": 0,
        "incorrect": 0,
        "hits": [],
        "disagreements": [],
    }


def lf_table(project: Project, found: Report | None, active: list[LabelingFunction]) -> Analysis:
    """The LF table: every active LF now, with its numbers from the stored analysis (a job's,
    perhaps older than the last change: the page says so), or pending."""
    if found is None:
        return Analysis(class_names(project), 0, 0, 0, [_pending(lf) for lf in active])
    stored = analysis_report.stored(found)
    by_id = {row["id"]: row for row in stored.rows}
    rows = [{**by_id[lf.id], **lf_json(lf)} if lf.id in by_id else _pending(lf) for lf in active]
    return replace(stored, rows=rows)


@pages.route("/projects/<int:project_id>/lfs")
@login_required
def lfs_page(project_id: int) -> str:
    project = project_for_me(project_id, Role.SME)
    session = get_db()
    error = result = found = analysis_job = None
    try:
        class_names(project)  # e.g. a multi-label project has no LF analysis
    except UserError as exc:
        error = exc.message
    else:
        found, analysis_job = report_on_page(analysis_report.REPORTS, project)
        result = lf_table(project, found, latest_lfs(session, project.id, active_only=True))
    runs = latest_runs(session, project.id)
    latest = latest_lfs(session, project.id)
    return render_template(
        "lfs.html",
        project=project,
        error=error,
        result=result,
        chart=lf_chart_rows(result) if result else [],
        rates=lf_rates(result) if result else {},
        runs=runs,
        stale=staleness(session, project.id, runs),
        history={lf.name: versions(session, project.id, lf.name) for lf in latest},
        marked=marked,
        rate_of=rate,
        sources={
            lf.id: {
                "kind": lf.kind,
                "name": lf.name,
                "spec": lf.spec,
                "source": lf.source,
                "description": lf.description,
            }
            for lf in latest
        },
        counts=prob_label_counts(session, project.id),
        prob_sources=weak_runs.PROB_SOURCES,
        job=_last_job(project.id),
        analysis=found,
        analysis_job=analysis_job,
        inactive=[lf for lf in latest if not lf.active and lf.deleted_at is None],
        classes=[lab.name for lab in project.labels if not lab.is_ambiguous],
    )
