"""Jobs as JSON, and the runs jobs leave behind: active-learning model runs and
weak-supervision runs (apply, label model, propagation, end model)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user

from labelapp.models import Job, LabelModelRun, ModelRun


def job_json(job: Job) -> dict[str, Any]:
    """A job for its project's reviewers (the traceback of a crash for admins only)."""
    return {
        "id": job.id,
        "url": url_for("api.get_job", job_id=job.id),
        "project_id": job.project_id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        # The traceback of a crash is for admins: it names server code and paths.
        **({"traceback": job.traceback} if current_user.is_admin and job.traceback else {}),
        "result": job.result,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def model_run_json(run: ModelRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "strategy": run.strategy,
        "featurizer": run.featurizer,
        "estimator": run.estimator,
        "n_train": run.n_train,
        "metrics": run.metrics,
        "job_id": run.job_id,
        "created_at": run.created_at.isoformat(),
    }


def run_json(run: LabelModelRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "lf_ids": run.lf_ids,
        "params": run.params,
        "metrics": run.metrics,
        "job_id": run.job_id,
        "created_at": run.created_at.isoformat(),
    }
