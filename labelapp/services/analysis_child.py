"""Drift, slices, the augmentation preview and the check of an export's augmentation plan asked
for over HTTP, computed in a child process: scipy, scikit-learn and the augment library never load
into (or grow) a web process, and the child's memory goes back to the system when it exits. The
children are forked by a warm fork server (:mod:`labelapp.services.analysis_forks`). The
computations only read; the request waits for the answer."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from labelapp.db import end_read
from labelapp.services import analysis_forks
from labelapp.services.errors import UserError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from labelapp.models import Project

ANALYSES = ("drift", "slices", "augment_preview", "export_params")


class ChildError(UserError):
    """A UserError raised in the child, with its status and code."""

    def __init__(self, status: int, code: str, message: str, details: list[str]) -> None:
        super().__init__(message, details)
        self.status, self.code = status, code


def analyse(
    database_url: str,
    analysis: str,
    project_id: int,
    params: dict[str, Any],
    reader: Session | None = None,
) -> dict[str, Any]:
    """Run ``drift`` (params a, b, seed), ``slices`` (params column) or ``augment_preview``
    (:func:`labelapp.services.augment_preview.preview`'s) on the project in a child process;
    returns its report or raises the child's :class:`UserError`."""
    if analysis not in ANALYSES:
        raise ValueError(f"unknown analysis {analysis!r}")
    end_read(reader)  # the caller's read ends: the child reads in its own transaction
    with (
        analysis_forks.forks(database_url) as context,
        ProcessPoolExecutor(max_workers=1, mp_context=context) as pool,
    ):
        outcome = pool.submit(
            _run, database_url, _settings(), analysis, project_id, params
        ).result()
    if outcome[0] == "error":
        raise ChildError(*outcome[1:])
    return outcome[1]


def export_params(
    database_url: str,
    project: Project,
    values: dict[str, Any],
    plan: Any,
    copies: Any,
    reader: Session | None = None,
) -> dict[str, Any]:
    """An export's job parameters (:func:`labelapp.services.export.request.export_params`): in
    this process without augmentation, in a child process with a plan (the augment library
    loads and checks it)."""
    from labelapp.services.export.request import export_params as checked

    if plan in (None, "", "none"):
        return checked(project, values)
    params = {"values": values, "plan": plan, "copies": copies}
    return analyse(database_url, "export_params", project.id, params, reader)


def _settings() -> dict[str, str]:
    """This process's labelapp settings: a child has the fork server's environment, which is
    that of the web process when the fork server started."""
    return {k: v for k, v in os.environ.items() if k.startswith("LABELAPP_")}


def _run(
    database_url: str, settings: dict[str, str], analysis: str, project_id: int, params: dict
) -> tuple:
    """In the child: the caller's settings, one read-only session, the report or the user's
    error."""
    for key in [k for k in os.environ if k.startswith("LABELAPP_")]:
        del os.environ[key]
    os.environ.update(settings)
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Project

    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            project = session.get(Project, project_id)
            if analysis == "drift":
                from labelapp.services.drift.service import drift_between

                return ("ok", drift_between(session, project, **params))
            if analysis == "augment_preview":
                from labelapp.services.augment_preview import preview

                return ("ok", preview(session, project, **params))
            if analysis == "export_params":
                from labelapp.services.export.request import export_params

                return ("ok", export_params(project, **params))
            from labelapp.services.slices import slice_report

            return ("ok", slice_report(session, project, **params))
    except UserError as exc:
        return ("error", exc.status, exc.code, exc.message, list(exc.details))
    finally:
        engine.dispose()
