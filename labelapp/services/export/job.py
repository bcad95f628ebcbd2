"""The ``export`` job: the export as the worker runs it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from labelapp.models import (
    Job,
)
from labelapp.progress import Progress
from labelapp.services.export.request import ExportRequest
from labelapp.services.export.run import export_project
from labelapp.services.export.stages import JobProgress
from labelapp.services.jobs import handler


@handler("export")
def _run_export(sessions: sessionmaker[Session], job: Job, progress: Progress) -> dict[str, Any]:
    version = export_project(
        sessions,
        job.project_id,
        ExportRequest.from_params(job.params),
        user_id=job.created_by_id,
        job_id=job.id,
        progress=JobProgress(progress),
    )
    return {
        "version": version.version,
        "dataset_version_id": version.id,
        "n_items": version.params["n_items"],
    }
