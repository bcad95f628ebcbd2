"""Where agreement reports are kept, and whether one is current.

The ``agreement`` job (:mod:`labelapp.services.agreement_job`) computes a report in a worker and
writes it as a JSON snapshot, with its plots as PNGs, to ``reports/project-<id>/`` in the data
directory; the job's ``result`` records the file, the parameters and the *stamp*: a summary of
what the report read (answers, gold items, model runs, guideline versions), taken before it read
them. A report is current while the stamp is unchanged; adjudications do not change it (the open
backlog is filtered when served). Web processes only read the files and queue jobs: they never
import the data stack.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.models import (
    Annotation,
    Guideline,
    Job,
    ModelRun,
    Project,
    QueueEntry,
    User,
)
from labelapp.services import job_reports
from labelapp.services.errors import UserError
from labelapp.services.job_reports import Report

KIND = "agreement"
# What the agreement page shows (the API's defaults too).
PAGE_PARAMS: dict[str, Any] = {"n_resamples": 1000, "min_confidence": None, "with_model": True}
KEEP = 8  # parameter sets whose latest reports are kept per project


def params(n_resamples: int, min_confidence: float | None, with_model: bool) -> dict[str, Any]:
    """The job parameters of a report, in their one form (JSON types)."""
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise UserError(f"min_confidence must be a number from 0 to 1, got {min_confidence}")
    if not 0 <= n_resamples <= 10_000:
        raise UserError(f"n_resamples must be a whole number from 0 to 10000, got {n_resamples}")
    return {
        "n_resamples": int(n_resamples),
        "min_confidence": None if min_confidence is None else float(min_confidence),
        "with_model": bool(with_model),
    }


def stamp(session: Session, project: Project) -> list:
    """Changes whenever the report could: a new answer, gold item, model run or guideline."""
    a = Annotation
    count, last = session.execute(
        select(func.count(), func.max(a.id)).where(
            a.project_id == project.id, a.kind != "adjudicate"
        )
    ).one()
    gold = session.scalar(
        select(func.count()).where(
            QueueEntry.project_id == project.id, QueueEntry.is_gold.is_(True)
        )
    )
    run = session.scalar(select(func.max(ModelRun.id)).where(ModelRun.project_id == project.id))
    guideline = session.scalar(
        select(func.max(Guideline.version)).where(Guideline.project_id == project.id)
    )
    return [count, last, gold, run, guideline]


# --- files -------------------------------------------------------------------------------------


def report_dir(project_id: int) -> Path:
    return config.data_dir() / "reports" / f"project-{project_id}"


def save(project_id: int, job_id: int, data: dict[str, Any], plots: dict[str, bytes]) -> str:
    """Write a snapshot and its PNG plots (each file whole or not at all); the snapshot's name."""
    folder = report_dir(project_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"agreement-{job_id}.json"
    for plot, png in plots.items():
        _write(folder / f"agreement-{job_id}-{plot}.png", png)
    _write(folder / name, json.dumps(data, default=_json_default).encode())
    return name


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _write(path: Path, content: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prune(session: Session, project_id: int, keep_job: int, kept_params: dict[str, Any]) -> None:
    """Delete the files of reports no longer served: keep ``keep_job`` (the report just written,
    with ``kept_params``) and the one before it with the same parameters (a request may be
    reading it), and the latest of each of the last few other parameter sets (:data:`KEEP`
    parameter sets in all)."""
    latest: dict[str, list[int]] = {json.dumps(kept_params, sort_keys=True): [keep_job]}
    for job in job_reports.finished(session, project_id, KIND):
        key = json.dumps((job.result or {}).get("params"), sort_keys=True)
        if key in latest and len(latest[key]) < 2:
            latest[key].append(job.id)
        elif key not in latest and len(latest) < KEEP:
            latest[key] = [job.id]
    kept = {job_id for ids in latest.values() for job_id in ids}
    for path in report_dir(project_id).glob("agreement-*"):
        job_id = path.name.removeprefix("agreement-").split(".")[0].split("-")[0]
        if job_id.isdigit() and int(job_id) not in kept:
            path.unlink(missing_ok=True)


# --- finding a report --------------------------------------------------------------------------


def _has_file(job: Job) -> bool:
    return (report_dir(job.project_id) / str((job.result or {}).get("file"))).is_file()


def snapshot(report: Report) -> dict[str, Any]:
    """A stored report's snapshot (read from its file at each call: not kept in memory)."""
    path = report_dir(report.job.project_id) / report.job.result["file"]
    return json.loads(path.read_bytes())


def plot_path(report: Report, name: str) -> Path | None:
    """The PNG of plot ``name`` the report's job drew, if it drew one."""
    if not report.job.result.get("plots", {}).get(name):
        return None
    path = report_dir(report.job.project_id) / f"agreement-{report.job.id}-{name}.png"
    return path if path.is_file() else None


def latest(session: Session, project: Project, wanted: dict[str, Any]) -> Report | None:
    """The newest stored report computed with ``wanted`` parameters."""
    return job_reports.latest(
        session,
        project.id,
        KIND,
        job_reports.exactly(wanted),
        lambda: stamp(session, project),
        _has_file,
    )


def current_report(
    session: Session,
    sessions: sessionmaker[Session],
    project: Project,
    wanted: dict[str, Any],
    user: User | None,
    wait: float,
    any_resamples: bool = False,
) -> tuple[Report | None, Job | None]:
    """A current report with ``wanted`` parameters, computed if needed (waiting up to ``wait``
    seconds): :func:`labelapp.services.job_reports.current_report`. ``any_resamples``: a report
    with the same ``min_confidence`` serves whatever its resamples and model comparison (the
    backlog needs neither)."""
    match = (
        (lambda got: got.get("min_confidence") == wanted["min_confidence"])
        if any_resamples
        else job_reports.exactly(wanted)
    )
    return REPORTS.current(session, sessions, project, user, wait, wanted, match)


# The report the agreement page serves (labelapp.web.jobs.report_on_page).
REPORTS = job_reports.ReportKind(KIND, PAGE_PARAMS, stamp, usable=_has_file)
