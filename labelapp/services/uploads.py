"""Uploaded files waiting for an import job, and starting that job.

An upload (the import wizard's, the project page's form, ``POST /api/projects/{id}/imports``)
is saved to a private folder of the data directory, ``uploads/<token>/``, and an ``import`` job
(:mod:`labelapp.services.import_job`) parses, checks and stores it in a worker: the web process
never loads pandas nor holds the file. The folder is removed when the import job that stores it
ends; a job that never got to its end (cancelled, given up) leaves it for :func:`sweep`, and a
wizard upload never imported is forgotten after a day. Cheap to import: no pandas here.
"""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from labelapp import config
from labelapp.models import Job
from labelapp.models.runs import JOB_ACTIVE_STATUSES
from labelapp.services.errors import Conflict, NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from labelapp.models import Project, User

KEEP_SECONDS = 24 * 3600
JOB_MARKER = ".job"  # in an upload's folder: the id of the import job that stores it
IMPORT_KIND = "import"
_TOKEN_CHARS = frozenset("0123456789abcdef")


def root() -> Path:
    return config.private_dir(config.data_dir() / "uploads")


def save(stream: Any, filename: str) -> str:
    """Keep an uploaded file (a werkzeug FileStorage) under a new token; the token."""
    token = secrets.token_hex(16)
    folder = config.private_dir(root() / token)
    stream.save(folder / filename)
    return token


def folder_of(token: str) -> Path:
    if len(token) != 32 or not set(token) <= _TOKEN_CHARS:
        raise NotFound("no such upload: upload the file again")
    return root() / token


def stashed(token: str) -> Path:
    """The file kept under ``token``."""
    folder = folder_of(token)
    files = (
        [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]
        if folder.is_dir()
        else []
    )
    if not files:
        raise NotFound("this upload is gone (imported, or older than a day): upload the file again")
    return files[0]


def discard(token: str) -> None:
    shutil.rmtree(folder_of(token), ignore_errors=True)


def sweep(session: Session) -> None:
    """Remove uploads whose import job has ended without removing them (cancelled, stopped at
    its time limit, given up after its worker died), and wizard uploads older than a day."""
    cutoff = time.time() - KEEP_SECONDS
    marked: dict[int, Path] = {}
    for folder in root().iterdir():
        if not folder.is_dir():
            continue
        marker = folder / JOB_MARKER
        try:
            marked[int(marker.read_text())] = folder
        except (OSError, ValueError):
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
    if not marked:
        return
    active = set(
        session.scalars(
            select(Job.id).where(Job.id.in_(marked), Job.status.in_(JOB_ACTIVE_STATUSES))
        )
    )
    for job_id, folder in marked.items():
        if job_id not in active:
            shutil.rmtree(folder, ignore_errors=True)


def _mark(token: str, job_id: int) -> None:
    """Note which job stores the upload (unless that job has already ended and removed it)."""
    try:
        with (folder_of(token) / JOB_MARKER).open("x") as f:
            f.write(str(job_id))
    except (FileNotFoundError, FileExistsError):
        pass


def start_import(
    session: Session,
    sessions: sessionmaker[Session],
    project: Project,
    user: User,
    token: str,
    options: dict[str, Any],
    images: bool,
    dry_run: bool = False,
) -> Job:
    """Queue the import (``dry_run``: the check, storing nothing) of the upload ``token``.

    ``options`` are :class:`~labelapp.services.imports.ImportOptions`'s fields. One import job
    runs per project at a time: asking again for the same upload with the same options returns
    its job; another upload, or other options (another schema mode), is refused
    (:class:`Conflict`) while one runs. A real import removes the upload
    when its job ends, done or failed.
    """
    from labelapp.services.jobs import start_job

    path = stashed(token)
    sweep(session)
    params = {
        "upload": token,
        "filename": path.name,
        "options": options,
        "images": images,
        "dry_run": dry_run,
    }
    job, handle = start_job(session, sessions, project.id, IMPORT_KIND, params, user=user)
    running = (job.params.get("upload"), job.params.get("dry_run"), job.params.get("options"))
    if handle is None and running != (token, dry_run, options):
        raise Conflict(
            f"another import into {project.name!r} is {job.status} (job #{job.id}, "
            f"{job.params.get('filename', 'a file')}); one import runs at a time: try again "
            "when it has finished"
        )
    if not dry_run:
        _mark(token, job.id)
    return job


def import_new_upload(
    session: Session,
    sessions: sessionmaker[Session],
    project: Project,
    user: User,
    stream: Any,
    filename: str,
    options: dict[str, Any],
    images: bool,
    dry_run: bool = False,
) -> Job:
    """Keep the uploaded ``stream`` (anything with ``save(path)``) and queue its import
    (:func:`start_import`): the one flow of the API's import and the project page's form. An
    import that cannot start (another one runs, a bad option) leaves no upload behind."""
    token = save(stream, filename)
    try:
        return start_import(session, sessions, project, user, token, options, images, dry_run)
    except BaseException:
        discard(token)
        raise
