"""Imports of uploaded files (the web form and ``POST /api/projects/{id}/imports``), parsed and
stored in a child process: a large file never grows the web process (pandas holds a table
several times the file's size while it validates it), and the child's memory goes back to the
system when it exits. The import keeps its rules: all rows validated first, one transaction.

A process of our own, not the job pool: the upload's request waits for its report, and a long
job must not hold it up. ``spawn``, so the child shares no connection or lock with the server.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelapp.db import end_read
from labelapp.services.errors import UserError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class _Failed(UserError):
    """A UserError raised in the child, with its status and code."""

    def __init__(self, status: int, code: str, message: str, details: list[str]) -> None:
        super().__init__(message, details)
        self.status, self.code = status, code


def import_upload(
    database_url: str,
    project_id: int,
    user_id: int,
    path: Path,
    filename: str,
    options: dict[str, Any],
    images: bool,
    dry_run: bool = False,
    reader: Session | None = None,
) -> dict[str, Any]:
    """Import the uploaded file at ``path`` (a zip of images when ``images``) into the project
    in a child process; ``options`` are :class:`~labelapp.services.imports.ImportOptions`'s
    fields (kept a dict here, so this module imports no pandas). Returns the import report as a
    dict, or raises the child's UserError. ``dry_run``: check everything and report what the
    import would do, then roll back (the import wizard's check step)."""
    end_read(reader)  # the caller's read ends: the child writes in its own transaction
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        outcome = pool.submit(
            _run,
            database_url,
            os.environ.get("LABELAPP_DATA_DIR"),
            project_id,
            user_id,
            str(path),
            filename,
            options,
            images,
            dry_run,
        ).result()
    if outcome[0] == "error":
        raise _Failed(*outcome[1:])
    return outcome[1]


def _run(
    database_url: str,
    data_dir: str | None,
    project_id: int,
    user_id: int,
    path: str,
    filename: str,
    options: dict[str, Any],
    images: bool,
    dry_run: bool = False,
) -> tuple:
    """In the child: unpack (images), import in one transaction, report or the user's error."""
    if data_dir:
        os.environ["LABELAPP_DATA_DIR"] = data_dir
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Project, User
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.imports.archive import unpack_images_zip

    engine = make_engine(database_url)
    try:
        source = Path(path)
        if images:
            source = unpack_images_zip(source, source.parent / "unpacked", filename)
        with session_scope(make_session_factory(engine)) as session:
            report = import_path(
                session,
                session.get(Project, project_id),
                source,
                ImportOptions(**options),
                user=session.get(User, user_id),
                display_name=filename,
            )
            if dry_run:
                session.rollback()  # nothing stored: session_scope then commits nothing
            return ("ok", report.to_dict())
    except UserError as exc:
        return ("error", exc.status, exc.code, exc.message, list(exc.details))
    finally:
        engine.dispose()
