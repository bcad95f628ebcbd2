"""The ``agreement`` job: a project's agreement report computed in a worker, stored as a snapshot
with its plots (:mod:`labelapp.services.agreement_store`) for web processes to serve."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

# Imported at the top: a worker's fork server imports this module once, so each agreement job
# (which people wait for) starts with the library and its plots loaded.
import weak_supervision.agreement.plots  # noqa: F401
from labelapp.db import session_scope
from labelapp.models import Job, Project
from labelapp.services import agreement_store
from labelapp.services.agreement import plot_png, project_agreement, snapshot_data
from labelapp.services.errors import NotFound
from labelapp.services.jobs import handler


@handler(agreement_store.KIND)
def _run_agreement(
    sessions: sessionmaker[Session], job: Job, progress: Callable[[float, str], None]
) -> dict[str, Any]:
    wanted = agreement_store.params(**{**agreement_store.PAGE_PARAMS, **(job.params or {})})
    with session_scope(sessions) as session:
        project = session.get(Project, job.project_id)
        if project is None:
            raise NotFound(f"project {job.project_id} no longer exists")
        stamp = agreement_store.stamp(session, project)  # before reading: a later change shows
        progress(0.05, "reading answers and computing the report")
        result = project_agreement(session, project, **wanted, use_cache=False)
        data = snapshot_data(result)
        progress(0.8, "drawing the plots")
        plots = {name: plot_png(result, name) for name, shown in data["plots"].items() if shown}
        name = agreement_store.save(project.id, job.id, data, plots)
    report = data["report"]
    out = {
        "params": wanted,
        "stamp": stamp,
        "file": name,
        "plots": data["plots"],
        "computed_at": data["computed_at"],
        "n_items": report["n_items"] if report else 0,
        "n_disagreements": report["n_disagreements"] if report else 0,
    }
    with session_scope(sessions) as session:
        agreement_store.prune(session, job.project_id, job.id, wanted)
    return out
