"""The ``import`` job: parse, check and store an uploaded file (or a zip of images) in a worker.

The upload waits in the data directory (:mod:`labelapp.services.uploads`). The job runs
:func:`labelapp.services.imports.import_path`, the service the ``labelapp import`` command runs:
every row is checked first, then everything is stored in one transaction, so a bad line stores
nothing and fails the job with the line and the reason, and a worker killed mid-import leaves
nothing half-stored (the next run starts again from the file). ``dry_run`` checks and counts,
then rolls back: the import wizard's check. Progress (rows checked, rows stored) goes to the
job row as it goes. Only workers import this module (web processes queue through
:mod:`labelapp.services.uploads`).
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import Job, Project, User
from labelapp.progress import Progress
from labelapp.services import job_state, uploads
from labelapp.services.errors import UserError
from labelapp.services.imports.archive import unpack_images_zip
from labelapp.services.imports.importer import ImportOptions, import_path
from labelapp.services.jobs import handler

# Share of the bar per phase of import_path (and the zip's unpacking before it).
TEXT_PHASES = {"read": (0.0, 0.3), "validate": (0.3, 0.5), "store": (0.5, 1.0)}
IMAGE_PHASES = {"unpack": (0.0, 0.1), "validate": (0.1, 0.7), "store": (0.7, 1.0)}
WRITE_EVERY_SECONDS = 0.5
UNPACKED = ".unpacked"  # beside the upload: a zip's images (no upload's name starts with a dot)


class ImportProgress:
    """``import_path``'s ``(phase, done, total)`` calls as the job's fraction and a message in
    rows, written at most every half second. On SQLite nothing is written while the import
    holds the database's write lock (the store phase): the message says it is storing."""

    def __init__(self, report: Progress, name: str, images: bool, sqlite: bool) -> None:
        self.report, self.name, self.sqlite = report, name, sqlite
        self.phases = IMAGE_PHASES if images else TEXT_PHASES
        self.what = "images" if images else "rows"
        self.stored = "images" if images else "items"
        self.last_phase, self.last_time = "", 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.sqlite and phase == "store":
            return  # the import's transaction holds SQLite's write lock
        now = time.monotonic()
        new_phase = phase != self.last_phase
        if not (new_phase or done >= total or now - self.last_time >= WRITE_EVERY_SECONDS):
            return
        self.last_phase, self.last_time = phase, now
        low, high = self.phases.get(phase, (0.0, 1.0))
        self.report(
            low + (high - low) * (done / total if total else 1.0), self.message(phase, done, total)
        )
        if self.sqlite and phase == "validate" and done >= total:
            # Written now, not by the progress timer: from here the store holds the write lock
            # until it commits, so a later write would wait it out and the page would go on
            # showing "checking" through the whole store.
            flush = getattr(self.report, "flush", None)
            if flush is not None:
                flush()

    def message(self, phase: str, done: int, total: int) -> str:
        if phase == "unpack":
            return f"unpacking {self.name}"
        if phase == "read":
            return f"reading {self.name}" if done < total else f"read {self.name}"
        if phase == "validate":
            if done < total:
                return f"checking {self.what}: {done:,} of {total:,}"
            if self.sqlite:
                return f"checked {total:,} {self.what}; storing them in one transaction"
            return f"checked {total:,} {self.what}"
        return f"storing: {done:,} of {total:,} {self.stored} and labels"


def import_upload(
    sessions: sessionmaker[Session],
    project_id: int,
    user_id: int | None,
    token: str,
    options: dict[str, Any],
    images: bool,
    dry_run: bool,
    progress: Progress,
) -> dict[str, Any]:
    """Import the upload ``token`` (a zip of image folders when ``images``) into the project;
    the import report as a dict. Raises :class:`UserError`, storing nothing."""
    upload = uploads.stashed(token)
    sqlite = sessions.kw["bind"].dialect.name == "sqlite"
    steps = ImportProgress(progress, upload.name, images, sqlite)
    source = upload
    if images:
        steps("unpack", 0, 1)
        unpacked = upload.parent / UNPACKED
        shutil.rmtree(unpacked, ignore_errors=True)  # left by a run killed before this one
        source = unpack_images_zip(upload, unpacked, upload.name)
        steps("unpack", 1, 1)
    with session_scope(sessions) as session:
        report = import_path(
            session,
            session.get(Project, project_id),
            source,
            ImportOptions(**options),
            user=session.get(User, user_id) if user_id is not None else None,
            progress=steps,
            display_name=upload.name,
            dry_run=dry_run,
        ).to_dict()
        if dry_run:
            session.rollback()  # a check stores nothing: session_scope then commits nothing
            report["import_id"] = None
    return {**report, "dry_run": dry_run}


@handler(uploads.IMPORT_KIND)
def run_import_job(sessions: sessionmaker[Session], job: Job, progress: Progress) -> dict[str, Any]:
    params = job.params
    token, dry_run = params["upload"], bool(params.get("dry_run"))
    try:
        return import_upload(
            sessions,
            job.project_id,
            job.created_by_id,
            token,
            params.get("options") or {},
            bool(params.get("images")),
            dry_run,
            progress,
        )
    except UserError as exc:
        if exc.details:  # each problem, one per line, for the pages and the API
            _keep_details(sessions, job.id, list(exc.details))
        raise
    finally:
        shutil.rmtree(uploads.folder_of(token) / UNPACKED, ignore_errors=True)
        if not dry_run:
            uploads.discard(token)  # a real import's upload goes when its job ends


def _keep_details(sessions: sessionmaker[Session], job_id: int, details: list[str]) -> None:
    job_state.persist(
        sessions,
        lambda s: s.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(result={"details": details})
        ),
    )
