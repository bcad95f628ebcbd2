"""A project's life: archive (hidden from annotators, read-only, still exportable), unarchive,
and delete with everything in it, in one transaction, refused while one of its jobs runs."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from labelapp import config
from labelapp.db import ensure_write_lock
from labelapp.models import Base, DatasetVersion, Item, Job, Project, utcnow
from labelapp.services.agreement_store import report_dir
from labelapp.services.errors import Conflict, UserError
from labelapp.services.projects import create_project

ACTIVE_JOB_STATUSES = ("queued", "running")


@dataclass
class Deleted:
    """What a deletion removed: rows per table and files."""

    name: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0


def new_project(session: Session, name: str, labels: list[str], **options: Any) -> Project:
    """Create a project (see :func:`labelapp.services.projects.create_project`) and commit."""
    project = create_project(session, name, labels, **options)
    session.commit()
    return project


def set_archived(session: Session, project: Project, archived: bool) -> Project:
    """Archive or unarchive ``project`` (archiving twice keeps the first date)."""
    ensure_write_lock(session)
    if archived and project.archived_at is None:
        project.archived_at = utcnow()
    elif not archived:
        project.archived_at = None
    session.commit()
    return project


def running_jobs(session: Session, project: Project) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                Job.project_id == project.id, Job.status.in_(ACTIVE_JOB_STATUSES)
            )
        )
        or 0
    )


def _project_tables() -> list[tuple[Table, str, Table | None]]:
    """(table, column, parent): rows to delete, children first. ``parent`` None: the column is
    the project id; else the column points at ``parent``, a table with a project id."""
    scoped = {t.name for t in Base.metadata.tables.values() if "project_id" in t.c}
    out: list[tuple[Table, str, Table | None]] = []
    for table in reversed(Base.metadata.sorted_tables):
        if table.name == "projects":
            continue
        if "project_id" in table.c:
            out.append((table, "project_id", None))
            continue
        for fk in table.foreign_keys:
            if fk.column.table.name in scoped:
                out.append((table, fk.parent.name, fk.column.table))
    return out


def _files_of(session: Session, project: Project) -> list[Path]:
    """Export folders and images only this project uses (images are shared by content)."""
    exports = [
        Path(p)
        for p in session.scalars(
            select(DatasetVersion.out_dir).where(DatasetVersion.project_id == project.id)
        )
    ]
    mine = select(Item.image_path).where(
        Item.project_id == project.id, Item.image_path.is_not(None)
    )
    shared = select(Item.image_path).where(Item.project_id != project.id, Item.image_path.in_(mine))
    only_mine = set(session.scalars(mine.distinct())) - set(session.scalars(shared.distinct()))
    from labelapp.services.export import exports_dir

    media = config.media_dir()
    reports = report_dir(project.id)  # agreement reports (labelapp.services.agreement_store)
    return [exports_dir(project.id), reports, *exports] + [media / p for p in sorted(only_mine)]


def delete_project(session: Session, project: Project, typed_name: str) -> Deleted:
    """Delete ``project`` with its items, answers, media, jobs and everything else that names it,
    in one transaction; then its files. ``typed_name`` must be the project's name."""
    if typed_name.strip() != project.name:
        raise UserError(
            f"type the project's name, {project.name!r}, to delete it; nothing was deleted"
        )
    ensure_write_lock(session)
    busy = running_jobs(session, project)
    if busy:
        raise Conflict(
            f"{busy} job(s) of {project.name!r} are queued or running; wait until they "
            "finish (the project page shows them), then delete"
        )
    files = _files_of(session, project)
    result = Deleted(project.name)
    for table, column, parent in _project_tables():
        if parent is None:
            where = table.c[column] == project.id
        else:
            where = table.c[column].in_(
                select(parent.c[next(iter(parent.primary_key.columns)).name]).where(
                    parent.c.project_id == project.id
                )
            )
        count = session.execute(delete(table).where(where)).rowcount or 0
        if count:
            result.rows[table.name] = result.rows.get(table.name, 0) + count
    session.execute(delete(Project).where(Project.id == project.id))
    session.commit()
    session.expunge(project)
    result.files = _remove(files)
    return result


def _remove(paths: list[Path]) -> int:
    """Remove the files and folders among ``paths`` that the app manages (exports, reports,
    media)."""
    roots = [(config.data_dir() / folder).resolve() for folder in ("exports", "reports")] + [
        config.media_dir().resolve()
    ]
    removed = 0
    for path in paths:
        resolved = path.resolve()
        managed = any(resolved.is_relative_to(r) and resolved != r for r in roots)
        if not managed or not resolved.exists():
            continue
        if resolved.is_dir():
            shutil.rmtree(resolved, ignore_errors=True)
        else:
            resolved.unlink(missing_ok=True)
        removed += 1
    return removed
