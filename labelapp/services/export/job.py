"""The ``export`` job: the export as the worker runs it, and its warm-up in a spare job
process (an export of a few labeled items takes a fifth of a second: a cold start would be a
third of it)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import Job, Project
from labelapp.progress import Progress
from labelapp.services.export.request import ExportRequest
from labelapp.services.export.rows import export_items, items_frame
from labelapp.services.export.run import _code_version, export_project
from labelapp.services.export.stages import JobProgress
from labelapp.services.jobs import handler, warm_up


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


@warm_up("export")
def _warm_up_reads(sessions: sessionmaker[Session]) -> None:
    """An export's reads for no project (id 0): its statements get compiled."""
    from labelapp.services.drift.service import drift_from_previous

    with session_scope(sessions) as session:
        session.get(Project, 0)
        nothing = Project(id=0, name="warm-up", task_type="text", multi_label=False)
        export_items(session, nothing)
        items_frame(session, nothing, [0])
        drift_from_previous(session, nothing, [])


@warm_up("export")
def _warm_up_library(sessions: sessionmaker[Session]) -> None:
    """The library on a few made-up rows: its code paths run once."""
    import pandas as pd

    from labelapp.export import write_export, write_snapshot

    labels = ["a", "b"] * 6
    rows = pd.DataFrame(
        {
            "item_id": range(1, 13),
            "external_id": [f"w{i}" for i in range(12)],
            "text": [f"warm up text {i} {labels[i]}" for i in range(12)],
            "content_hash": [f"h{i}" for i in range(12)],
            "metadata": ["{}"] * 12,
            "group_key": [None] * 12,
            "split": [None] * 12,
            "label": labels,
            "label_source": ["human"] * 12,
            "confidence": [1.0] * 12,
        }
    )
    with tempfile.TemporaryDirectory(prefix="labelapp-warm-up-") as tmp:
        result = write_export(
            rows,
            "csv",
            Path(tmp) / "export",
            seed=0,
            name="warm-up",
            provenance={},
            code_version=_code_version(),
        )
        write_snapshot(result.snapshot, Path(tmp) / "snapshot.parquet")
