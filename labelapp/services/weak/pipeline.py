"""The weak-supervision steps in order (apply, fit, propagate, train), and their job kinds.

Its own module because it runs both :mod:`labelapp.services.weak` and the end model
(:mod:`labelapp.services.weak_end_model`, which builds on the former): no import cycle.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from labelapp.models import Job
from labelapp.progress import Progress, quiet
from labelapp.services.errors import UserError
from labelapp.services.jobs import handler
from labelapp.services.weak.end_model import train_end_model
from labelapp.services.weak.models import fit_label_model, propagate
from labelapp.services.weak.runs import JOB_STEPS, STEPS
from labelapp.services.weak.votes import apply_lfs


def pipeline(
    sessions: sessionmaker[Session],
    project_id: int,
    steps: tuple[str, ...] = ("apply", "fit", "propagate"),
    job_id: int | None = None,
    progress: Progress = quiet,
) -> dict[str, Any]:
    """Apply, fit, propagate and/or train (the end model) in order, progress split evenly
    between the steps."""
    result: dict[str, Any] = {}
    for n, step in enumerate(steps):

        def part(f: float, message: str, n: int = n, step: str = step) -> None:
            progress((n + f) / len(steps), f"{step}: {message}")

        part(0.0, "starting")
        if step == "apply":
            result["apply"] = apply_lfs(sessions, project_id, part, job_id)
        elif step == "fit":
            run = fit_label_model(sessions, project_id, job_id, part)
            result["label_model_run_id"], result["label_model"] = run.id, run.metrics
        elif step == "propagate":
            run = propagate(sessions, project_id, job_id, part)
            result["propagation_run_id"], result["propagation"] = run.id, run.metrics
        elif step == "train":
            try:
                run = train_end_model(sessions, project_id, job_id, part)
            except UserError as exc:  # "Run all" keeps the other steps' results and says why
                if len(steps) == 1:
                    raise
                result["end_model_skipped"] = exc.message
                part(1.0, f"skipped: {exc.message}")
                continue
            result["end_model_run_id"], result["end_model"] = run.id, run.metrics
        else:
            raise UserError(f"unknown step {step!r}: use {', '.join(STEPS)}")
    return result


def _job(kind: str) -> None:
    @handler(kind)
    def run(sessions: sessionmaker[Session], job: Job, progress: Progress) -> dict[str, Any]:
        return pipeline(sessions, job.project_id, JOB_STEPS[kind], job.id, progress)


for _kind in JOB_STEPS:
    _job(_kind)
