"""Export a project as a new dataset version: read, split and write the files, record the
version."""

from __future__ import annotations

import functools
import hashlib
import shutil
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import labelapp
from labelapp import config
from labelapp.db import session_scope, start_write
from labelapp.models import (
    DatasetVersion,
    Item,
    Project,
)
from labelapp.services.errors import NotFound, UserError
from labelapp.services.export.request import ExportRequest
from labelapp.services.export.rows import ID_CHUNK, export_items, items_frame, provenance
from labelapp.services.export.stages import StageProgress, no_progress
from labelapp.services.export.unlabeled import with_predictions, write_left_out

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def versions_dir(project_id: int) -> Path:
    """Where a project's version snapshots live (the data directory)."""
    return config.data_dir() / "versions" / f"project-{project_id}"


def exports_dir(project_id: int) -> Path:
    """Where browser exports are written (the data directory)."""
    return config.data_dir() / "exports" / f"project-{project_id}"


def empty_dir(path: Path) -> Path:
    path = path.expanduser().resolve()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(
            f"{path} is not an empty folder; give a new or empty one (every file in it becomes "
            "part of the dataset version)"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


# Held as Arrow strings from the read to the write (the split does not read them).
COMPACT_COLUMNS = ("external_id", "metadata")


@functools.cache  # the code this process runs: its commit does not change under it
def _code_version() -> str:
    from labelapp.export.manifest import code_version

    return code_version(labelapp.__version__, repo=Path(labelapp.__file__).resolve().parent)


@dataclass
class _Read:
    """What an export reads in its first transaction."""

    items: pd.DataFrame
    without_content: np.ndarray  # per item: its content was not read (it cannot be placed)
    provenance: dict[str, Any]
    pool: pd.DataFrame | None
    name: str
    multi_label: bool
    task_type: str


def _read(
    sessions: sessionmaker[Session], project_id: int, request: ExportRequest
) -> tuple[_Read, ExportRequest]:
    """The labeled items with their resolved labels, the provenance, and (with
    ``include_unlabeled``) the pool of the others, with the request checked against the project;
    refuses a project with nothing to export."""
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}")
        request = request.checked(project)
        items, resolved = export_items(
            session, project, min_confidence=request.min_confidence, compact=COMPACT_COLUMNS
        )
        recorded = provenance(session, project, resolved)
        # The manifest records this version's drift against the previous one (issue 20).
        from labelapp.services.drift.service import drift_from_previous

        recorded["drift_from_previous"] = drift_from_previous(session, project, items["item_id"])
        pool = (
            with_predictions(session, project, items_frame(session, project))
            if request.include_unlabeled
            else None
        )
        from labelapp.export import may_take_part

        without = ~may_take_part(items, request.min_confidence)
        read = _Read(
            items, without, recorded, pool, project.name, project.multi_label, project.task_type
        )
    if items.empty:
        raise UserError(
            f"project {read.name!r} has no labeled items to export: label some, import labels, "
            "or run the label model first"
        )
    return read, request


def _write(read: _Read, request: ExportRequest, target: Path, progress: StageProgress) -> Any:
    """The library writes the files into ``target``; a failed write leaves nothing behind."""
    from labelapp.export import write_export

    try:
        return write_export(
            read.items,
            request.fmt,
            target,
            seed=request.seed,
            ratios=request.ratios,
            min_confidence=request.min_confidence,
            resplit=request.resplit,
            near_duplicate_threshold=request.near_duplicate_threshold,
            augment=request.augment,
            name=read.name,
            provenance=read.provenance,
            code_version=_code_version(),
            image_root=config.media_dir(),
            progress=progress,
            without_content=read.without_content,
        )
    except ValueError as exc:
        raise UserError(f"export failed: {exc}") from None


def _split_changes(
    items: pd.DataFrame, splits: pd.Series, resplit: bool
) -> tuple[dict[str | None, list[int]], Counter]:
    """Items whose stored split changes (new split -> item ids), and the moves between splits
    of items that had one (``"dev->train"``: count)."""
    splits = splits.astype(object).where(splits.notna(), None)
    previous = items["split"].astype(object).where(items["split"].notna(), None)
    changed: dict[str | None, list[int]] = {}
    moves: Counter = Counter()
    for item_id, old, new in zip(items["item_id"], previous, splits, strict=True):
        if old != new and (new is not None or resplit):
            changed.setdefault(new, []).append(int(item_id))
            if old is not None:
                moves[f"{old}->{new}"] += 1
    return changed, moves


def _version_params(
    request: ExportRequest, read: _Read, result: Any, moves: Counter, extra: dict[str, Any]
) -> dict[str, Any]:
    """What a dataset version records beside its manifest."""
    snapshot = result.snapshot
    return {
        **request.to_params(),
        "multi_label": read.multi_label,
        "n_items": int(result.manifest["n_items"]),
        "n_rows": int(result.manifest["n_rows"]),
        # Per split and per source, items only (the manifest's counts include augmented copies).
        "items_per_split": {str(k): int(v) for k, v in snapshot["split"].value_counts().items()},
        "items_per_source": {
            str(k): int(v) for k, v in snapshot["label_source"].value_counts().items()
        },
        "moves": dict(sorted(moves.items())),
        **extra,
    }


def _next_version(session: Session, project_id: int) -> int:
    """The next version number, with the project row locked: one export records at a time per
    project (PostgreSQL; SQLite's write lock does it)."""
    start_write(session)
    session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    latest = session.scalar(
        select(func.max(DatasetVersion.version)).where(DatasetVersion.project_id == project_id)
    )
    return (latest or 0) + 1


def _store_splits(session: Session, changed: dict[str | None, list[int]]) -> None:
    """One UPDATE per split and chunk of ids: several times faster than a row-by-row
    executemany, on PostgreSQL above all."""
    for split, moved in changed.items():
        for start in range(0, len(moved), ID_CHUNK):
            session.execute(
                update(Item).where(Item.id.in_(moved[start : start + ID_CHUNK])).values(split=split)
            )


def _record(
    sessions: sessionmaker[Session],
    project_id: int,
    target: Path,
    managed: bool,
    result: Any,
    changed: dict[str | None, list[int]],
    fields: dict[str, Any],
) -> DatasetVersion:
    """Store the new splits, the snapshot and the :class:`DatasetVersion`, in one transaction;
    a managed export's folder becomes ``exports/project-<id>/v<N>``."""
    from labelapp.export import write_snapshot

    with session_scope(sessions) as session:
        number = _next_version(session, project_id)
        final = target
        if managed:
            final = exports_dir(project_id) / f"v{number}"
            if final.exists():  # left by an export whose recording failed
                shutil.rmtree(final)
            target.rename(final)
        snapshot = write_snapshot(result.snapshot, versions_dir(project_id) / f"v{number}.parquet")
        _store_splits(session, changed)
        fields["params"] = {
            **fields["params"],
            "snapshot": str(snapshot),
            "splits_changed": sum(map(len, changed.values())),
        }
        version = DatasetVersion(
            project_id=project_id, version=number, out_dir=str(final), **fields
        )
        session.add(version)
        try:
            session.flush()
        except IntegrityError:
            raise UserError(
                f"another export recorded version {number} of this project at the same time; "
                "export again"
            ) from None
    return version


def export_project(
    sessions: sessionmaker[Session],
    project_id: int,
    request: ExportRequest,
    out_dir: str | Path | None = None,
    *,
    user_id: int | None = None,
    job_id: int | None = None,
    progress: StageProgress = no_progress,
) -> DatasetVersion:
    """Export the project's labeled items and record the new dataset version.

    ``out_dir``: an empty or new folder; None writes to ``exports/project-<id>/v<N>`` in the data
    directory. ``progress(stage, done, total)``: stages ``read``, then the library's (``splits``,
    ``augment``, ``write``, ``manifest``), then ``store``.
    """
    progress("read", 0, 1)
    read, request = _read(sessions, project_id, request)
    progress("read", 1, 1)
    managed = out_dir is None
    target = exports_dir(project_id) / f"tmp-{uuid.uuid4().hex[:12]}" if managed else out_dir
    target = empty_dir(Path(target))
    try:
        result = _write(read, request, target, progress)
    except BaseException:
        if managed:
            shutil.rmtree(target, ignore_errors=True)
        raise
    unlabeled = write_left_out(
        read.pool, result.snapshot, request.fmt, target, read.task_type, read.multi_label
    )
    progress("store", 0, 1)
    changed, moves = _split_changes(read.items, result.splits, request.resplit)
    fields = {
        "format": request.fmt,
        "params": _version_params(
            request, read, result, moves, {"job_id": job_id, "unlabeled": unlabeled}
        ),
        "manifest": result.manifest,
        "manifest_sha256": hashlib.sha256((target / "manifest.json").read_bytes()).hexdigest(),
        "created_by_id": user_id,
    }
    version = _record(sessions, project_id, target, managed, result, changed, fields)
    progress("store", 1, 1)
    return version
