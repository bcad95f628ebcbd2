"""Export a project as a dataset version: resolve labels, split, write files, record the version.

Each item's label, its source and confidence come from :mod:`labelapp.services.labels` (one rule
for every feature). Human labels may go to any split; weak ones (imported predictions, label
model, propagation) stay in train, and probabilistic labels only from ``min_confidence`` up.
The library (:mod:`labelapp.export`) splits and writes; this module reads the rows, stores the
splits back on the items (so the next export keeps them) and records a :class:`DatasetVersion`
whose snapshot lives in the data directory (``versions/project-<id>/v<N>.parquet``)."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import labelapp
from labelapp import config
from labelapp.db import session_scope
from labelapp.formats import EXPORT_FORMATS as FORMATS
from labelapp.models import (
    DatasetVersion,
    Item,
    Job,
    LabelingFunction,
    LabelModelRun,
    Project,
)
from labelapp.services.dataset_versions import get_version, version_snapshot
from labelapp.services.errors import NotFound, UserError
from labelapp.services.export_unlabeled import with_predictions, write_left_out
from labelapp.services.jobs import handler
from labelapp.services.labels import ResolvedLabels, resolve_labels
from labelapp.services.queue import start_write

if TYPE_CHECKING:
    import pandas as pd

_ID_CHUNK = 10_000  # ids per IN (...): below SQLite's and PostgreSQL's bound-parameter limits
_SELECT_BY_ID = 50_000  # up to this many items, read by id; more, one scan of the project
Progress = Callable[[float, str], None]
# Share of a job's progress bar per stage: reading rows, the library's stages, storing the version.
_STAGES = {
    "read": (0.0, 0.15),
    "splits": (0.15, 0.35),
    "augment": (0.35, 0.6),
    "write": (0.6, 0.9),
    "manifest": (0.9, 0.95),
    "store": (0.95, 1.0),
}


@dataclass(frozen=True)
class ExportRequest:
    """What the user asked for; :meth:`checked` validates it before any work starts."""

    fmt: str
    seed: int = 0
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_confidence: float = 0.9
    resplit: bool = False
    augment: dict[str, Any] | None = None  # an AugmentPlan.to_dict()
    near_duplicate_threshold: float | None = 0.7
    include_unlabeled: bool = (
        False  # also write unlabeled.<ext> (labelapp.services.export_unlabeled)
    )

    def checked(self, project: Project) -> ExportRequest:
        if self.fmt not in FORMATS:
            raise UserError(
                f"unknown export format {self.fmt!r}; choose one of {', '.join(FORMATS)}"
            )
        if self.fmt == "imagefolder" and project.task_type != "image":
            raise UserError(
                "the imagefolder format is for image projects; pick csv, jsonl, "
                "parquet, huggingface or label_studio"
            )
        ratios = tuple(float(r) for r in self.ratios)
        if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-6:
            raise UserError(
                f"ratios {list(self.ratios)} must be three non-negative numbers (train, dev, "
                "test) summing to 1, e.g. 0.8,0.1,0.1"
            )
        if not 0.0 <= float(self.min_confidence) <= 1.0:
            raise UserError(f"min confidence must be between 0 and 1, got {self.min_confidence}")
        if self.augment is not None:
            kind = self.augment.get("kind")
            if kind != project.task_type:
                raise UserError(
                    f"a {kind} augmentation plan cannot augment the {project.task_type} items of "
                    f"{project.name!r}"
                )
            from augment.label_safety import plan_for_project

            # Where flips change labels (digits, text in images) they leave the plan, recorded.
            return replace(self, augment=plan_for_project(self.augment, project.flips_keep_label))
        return self

    def to_params(self) -> dict[str, Any]:
        return {
            "format": self.fmt,
            "seed": int(self.seed),
            "ratios": [float(r) for r in self.ratios],
            "min_confidence": float(self.min_confidence),
            "resplit": bool(self.resplit),
            "augment": self.augment,
            "near_duplicate_threshold": self.near_duplicate_threshold,
            "include_unlabeled": bool(self.include_unlabeled),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ExportRequest:
        return cls(
            fmt=params["format"],
            seed=int(params.get("seed", 0)),
            ratios=tuple(params.get("ratios", (0.8, 0.1, 0.1))),  # type: ignore[arg-type]
            min_confidence=float(params.get("min_confidence", 0.9)),
            resplit=bool(params.get("resplit", False)),
            augment=params.get("augment"),
            near_duplicate_threshold=params.get("near_duplicate_threshold", 0.7),
            include_unlabeled=bool(params.get("include_unlabeled", False)),
        )


def request_from(
    values: Mapping[str, Any], *, augment: dict[str, Any] | None = None
) -> ExportRequest:
    """An :class:`ExportRequest` from JSON or form values (numbers may be text; ``ratios`` a list
    or ``"0.8,0.1,0.1"``). The augmentation plan is passed already loaded (see :func:`load_plan`)."""
    fmt = str(values.get("format") or "").strip()
    if not fmt:
        raise UserError(f"give the export format: one of {', '.join(FORMATS)}")
    ratios = values.get("ratios") or (0.8, 0.1, 0.1)
    try:
        if isinstance(ratios, str):
            ratios = [float(x) for x in ratios.split(",")]
        ratios = tuple(float(x) for x in ratios)
        seed = int(values.get("seed") or 0)
        min_confidence = values.get("min_confidence")
        min_confidence = 0.9 if min_confidence in (None, "") else float(min_confidence)
    except (TypeError, ValueError):
        raise UserError(
            "seed must be an integer, min_confidence a number in [0, 1] and ratios three numbers "
            "like 0.8,0.1,0.1"
        ) from None
    if not 0 <= seed < 2**32:
        raise UserError(f"seed must be between 0 and {2**32 - 1}, got {seed}")
    resplit = values.get("resplit") in (True, "true", "on", "1", 1)
    unlabeled = values.get("include_unlabeled") in (True, "true", "on", "1", 1)
    return ExportRequest(
        fmt=fmt,
        seed=seed,
        ratios=ratios,
        min_confidence=min_confidence,  # type: ignore[arg-type]
        resplit=resplit,
        augment=augment,
        include_unlabeled=unlabeled,
    )


def load_plan(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """An augmentation plan (JSON file, shipped pipeline name or dict) as its recordable dict."""
    from augment.plan import load_augment_plan

    try:
        return load_augment_plan(source).to_dict()
    except (ValueError, FileNotFoundError, TypeError) as exc:
        raise UserError(f"augmentation plan: {exc}") from None


TEXT_PLAN = {"text": {"swap_prob": 0.1, "delete_prob": 0.1}, "copies": 1}


def plan_from_user(value: Any, copies: Any = None) -> dict[str, Any] | None:
    """A plan from the browser or the API: a shipped pipeline name, ``"text"`` (random swap and
    deletion), a JSON object or its text; never a server path. ``copies`` overrides the plan's."""
    from augment.images import ready_pipelines

    if value in (None, "", "none"):
        return None
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UserError(f"augmentation plan: not valid JSON ({exc})") from None
    if value == "text":
        value = dict(TEXT_PLAN)
    elif isinstance(value, str) and value not in ready_pipelines():
        raise UserError(
            f"augmentation plan {value!r}: give one of the shipped pipelines "
            f"{ready_pipelines()}, 'text', or the plan itself as JSON"
        )
    if not isinstance(value, str | dict):
        raise UserError("augmentation plan: give a pipeline name or a JSON object")
    plan = load_plan(value)
    if copies not in (None, ""):
        try:
            copies = int(copies)
        except (TypeError, ValueError):
            raise UserError(
                f"augmented copies per item must be a whole number, got {copies!r}"
            ) from None
        if not 1 <= copies <= 20:
            raise UserError(f"augmented copies per item must be between 1 and 20, got {copies}")
        plan["copies"] = copies
    return plan


# --- rows ----------------------------------------------------------------------------------


def items_frame(
    session: Session, project: Project, ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """The items' content (all of the project's, or ``ids``) in the library's column names.

    ``item_id`` is the database id; ``external_id`` (the import's id) travels as an extra column;
    image paths are absolute (under :func:`labelapp.config.media_dir`); metadata is JSON text.
    """
    import pandas as pd

    i = Item
    # Metadata as its JSON text: the export canonicalizes it from text anyway (one parse, not two).
    meta = cast(i.meta, Text)
    query = select(
        i.id, i.external_id, i.text, i.image_path, i.content_hash, meta, i.group_key, i.split
    ).where(i.project_id == project.id)
    if ids is not None and len(ids) <= _SELECT_BY_ID:
        # A few labeled items of a big project: read those rows only (by primary key).
        wanted = sorted(set(map(int, ids)))
        rows = [
            row
            for start in range(0, len(wanted), _ID_CHUNK)
            for row in session.execute(
                query.where(i.id.in_(wanted[start : start + _ID_CHUNK])).order_by(i.id)
            )
        ]
    else:
        rows = session.execute(query.order_by(i.id)).all()
    names = [
        "item_id",
        "external_id",
        "text",
        "image_path",
        "content_hash",
        "metadata",
        "group_key",
        "split",
    ]
    # Column lists, not Row objects: pandas inspects every Row when given them (3x slower).
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    frame = pd.DataFrame(
        {n: pd.Series(c, dtype=object) for n, c in zip(names, columns, strict=True)}
    )
    frame["item_id"] = frame["item_id"].astype("int64")
    if ids is not None:
        frame = frame[frame["item_id"].isin(set(ids))].reset_index(drop=True)
    if project.task_type == "image":
        media = config.media_dir()
        frame["image_path"] = [str(media / p) if p else None for p in frame["image_path"]]
        return frame.drop(columns="text")
    return frame.drop(columns="image_path")


def export_items(session: Session, project: Project) -> tuple[pd.DataFrame, ResolvedLabels]:
    """One row per labeled item: content plus ``label``, ``label_source``, ``confidence``."""
    import pandas as pd

    resolved = resolve_labels(session, project)
    frame = items_frame(session, project, list(resolved.labels))
    known = frame["item_id"].isin(set(resolved.labels)).to_numpy()
    frame = frame[known].reset_index(drop=True)
    entries = [resolved.labels[i] for i in frame["item_id"]]
    if project.multi_label:
        frame["label"] = pd.Series([e[0] for e in entries], dtype=object)
    else:
        frame["label"] = [e[0][0] for e in entries]
    frame["label_source"] = [e[1] for e in entries]
    frame["confidence"] = [e[2] for e in entries]
    return frame, resolved


def provenance(session: Session, project: Project, resolved: ResolvedLabels) -> dict[str, Any]:
    """What the labels came from: the project, the label-model runs and their LF set."""
    runs = (
        session.execute(
            select(LabelModelRun.id, LabelModelRun.kind, LabelModelRun.lf_ids).where(
                LabelModelRun.id.in_(resolved.label_model_runs)
            )
        ).all()
        if resolved.label_model_runs
        else []
    )
    lf_ids = sorted({int(x) for _, _, ids in runs for x in (ids or [])})
    lfs = (
        session.execute(
            select(LabelingFunction.id, LabelingFunction.name, LabelingFunction.version)
            .where(LabelingFunction.id.in_(lf_ids))
            .order_by(LabelingFunction.id)
        ).all()
        if lf_ids
        else []
    )
    return {
        "project": project.name,
        "project_id": project.id,
        "task_type": project.task_type,
        "label_model_runs": [{"id": r, "kind": k} for r, k, _ in runs],
        "lf_set": [{"id": i, "name": n, "version": v} for i, n, v in lfs],
        "left_out": dict(sorted(resolved.left_out.items())),
    }


# --- progress ------------------------------------------------------------------------------


class JobProgress:
    """The library's ``(stage, done, total)`` calls as a job's fraction, at most every 1 %."""

    def __init__(self, report: Progress) -> None:
        self.report = report
        self.last = -1.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        low, high = _STAGES.get(stage, (0.0, 1.0))
        fraction = low + (high - low) * (done / total if total else 1.0)
        if fraction - self.last >= 0.01 or done == total:
            self.last = fraction
            self.report(fraction, f"{stage}: {done:,} of {total:,}")


StageProgress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


# --- export --------------------------------------------------------------------------------


def versions_dir(project_id: int) -> Path:
    """Where a project's version snapshots live (the data directory)."""
    return config.data_dir() / "versions" / f"project-{project_id}"


def exports_dir(project_id: int) -> Path:
    """Where browser exports are written (the data directory)."""
    return config.data_dir() / "exports" / f"project-{project_id}"


def _empty_dir(path: Path) -> Path:
    path = path.expanduser().resolve()
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise UserError(
            f"{path} is not an empty folder; give a new or empty one (every file in it becomes "
            "part of the dataset version)"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def _code_version() -> str:
    from labelapp.export.manifest import code_version

    return code_version(labelapp.__version__, repo=Path(labelapp.__file__).resolve().parent)


def export_project(
    sessions: sessionmaker[Session],
    project_id: int,
    request: ExportRequest,
    out_dir: str | Path | None = None,
    *,
    user_id: int | None = None,
    job_id: int | None = None,
    progress: StageProgress = _noop,
) -> DatasetVersion:
    """Export the project's labeled items and record the new dataset version.

    ``out_dir``: an empty or new folder; None writes to ``exports/project-<id>/v<N>`` in the data
    directory. ``progress(stage, done, total)``: stages ``read``, then the library's (``splits``,
    ``augment``, ``write``, ``manifest``), then ``store``.
    """
    from labelapp.export import write_export, write_snapshot

    progress("read", 0, 1)
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}")
        request = request.checked(project)
        items, resolved = export_items(session, project)
        recorded = provenance(session, project, resolved)
        # The manifest records this version's drift against the previous one (issue 20).
        from labelapp.services.drift.service import drift_from_previous

        recorded["drift_from_previous"] = drift_from_previous(session, project, items["item_id"])
        name, multi_label, task_type = project.name, project.multi_label, project.task_type
        pool = (
            with_predictions(session, project, items_frame(session, project))
            if request.include_unlabeled
            else None
        )
    if items.empty:
        raise UserError(
            f"project {name!r} has no labeled items to export: label some, import labels, or "
            "run the label model first"
        )
    progress("read", 1, 1)
    managed = out_dir is None
    target = exports_dir(project_id) / f"tmp-{uuid.uuid4().hex[:12]}" if managed else out_dir
    target = _empty_dir(Path(target))
    try:
        result = write_export(
            items,
            request.fmt,
            target,
            seed=request.seed,
            ratios=request.ratios,
            min_confidence=request.min_confidence,
            resplit=request.resplit,
            near_duplicate_threshold=request.near_duplicate_threshold,
            augment=request.augment,
            name=name,
            provenance=recorded,
            code_version=_code_version(),
            image_root=config.media_dir(),
            progress=progress,
        )
    except ValueError as exc:
        if managed:
            shutil.rmtree(target, ignore_errors=True)
        raise UserError(f"export failed: {exc}") from None
    except BaseException:
        if managed:
            shutil.rmtree(target, ignore_errors=True)
        raise
    unlabeled = write_left_out(pool, result.snapshot, request.fmt, target, task_type, multi_label)
    progress("store", 0, 1)
    splits = result.splits.astype(object).where(result.splits.notna(), None)
    previous = items["split"].astype(object).where(items["split"].notna(), None)
    changed: dict[str | None, list[int]] = {}  # new split -> items that move there
    moves: Counter = Counter()  # "dev->train": items that had a split and got another one
    for item_id, old, new in zip(items["item_id"], previous, splits, strict=True):
        if old != new and (new is not None or request.resplit):
            changed.setdefault(new, []).append(int(item_id))
            if old is not None:
                moves[f"{old}->{new}"] += 1
    manifest_sha256 = hashlib.sha256((target / "manifest.json").read_bytes()).hexdigest()
    params = {
        **request.to_params(),
        "multi_label": multi_label,
        "n_items": int(result.manifest["n_items"]),
        "n_rows": int(result.manifest["n_rows"]),
        # Per split and per source, items only (the manifest's counts include augmented copies).
        "items_per_split": {
            str(k): int(v) for k, v in result.snapshot["split"].value_counts().items()
        },
        "items_per_source": {
            str(k): int(v) for k, v in result.snapshot["label_source"].value_counts().items()
        },
        "moves": dict(sorted(moves.items())),
        "job_id": job_id,
        "unlabeled": unlabeled,
    }
    with session_scope(sessions) as session:
        start_write(session)
        # One export records at a time per project (PostgreSQL; SQLite's write lock does it).
        session.execute(select(Project.id).where(Project.id == project_id).with_for_update())
        number = (
            session.scalar(
                select(func.max(DatasetVersion.version)).where(
                    DatasetVersion.project_id == project_id
                )
            )
            or 0
        ) + 1
        final = target
        if managed:
            final = exports_dir(project_id) / f"v{number}"
            if final.exists():  # left by an export whose recording failed
                shutil.rmtree(final)
            target.rename(final)
        snapshot = write_snapshot(result.snapshot, versions_dir(project_id) / f"v{number}.parquet")
        # One UPDATE per split and chunk of ids: several times faster than a row-by-row
        # executemany, on PostgreSQL above all.
        for split, moved in changed.items():
            for start in range(0, len(moved), _ID_CHUNK):
                session.execute(
                    update(Item)
                    .where(Item.id.in_(moved[start : start + _ID_CHUNK]))
                    .values(split=split)
                )
        version = DatasetVersion(
            project_id=project_id,
            version=number,
            format=request.fmt,
            params={
                **params,
                "snapshot": str(snapshot),
                "splits_changed": sum(map(len, changed.values())),
            },
            manifest=result.manifest,
            manifest_sha256=manifest_sha256,
            out_dir=str(final),
            created_by_id=user_id,
        )
        session.add(version)
        try:
            session.flush()
        except IntegrityError:
            raise UserError(
                f"another export recorded version {number} of this project at the same time; "
                "export again"
            ) from None
    progress("store", 1, 1)
    return version


# --- versions ------------------------------------------------------------------------------


def version_summary(version: DatasetVersion, local: bool = False) -> dict[str, Any]:
    """JSON-ready: number, format, when; items per split and per label source; and the
    manifest's row counts per split and label and per split and source (augmented copies in).
    ``local`` (the CLI, on the server) adds the folder it was written to: web answers never
    name server paths."""
    manifest = version.manifest
    order = manifest.get("parameters", {}).get("split_names") or ["train", "dev", "test"]

    def ordered(per_split: dict[str, Any]) -> dict[str, Any]:
        return {
            s: per_split[s]
            for s in [*order, *sorted(set(per_split) - set(order))]
            if s in per_split
        }

    counts = ordered(manifest.get("counts", {}))
    return {
        "version": version.version,
        "format": version.format,
        "created_at": version.created_at.isoformat(),
        "created_by_id": version.created_by_id,
        **({"out_dir": version.out_dir} if local else {}),
        "n_items": manifest.get("n_items"),
        "n_rows": manifest.get("n_rows"),
        "n_augmented": manifest.get("n_augmented", 0),
        "per_split": ordered(
            version.params.get("items_per_split") or {s: sum(c.values()) for s, c in counts.items()}
        ),
        "per_source": dict(
            sorted((version.params.get("items_per_source") or {}).items(), key=lambda kv: -kv[1])
        ),
        "counts": counts,
        "label_sources": ordered(manifest.get("label_sources", {})),
        "parameters": {
            k: version.params.get(k)
            for k in ("seed", "ratios", "min_confidence", "resplit", "augment")
        },
        "manifest_sha256": version.manifest_sha256,
        "dataset_sha256": manifest.get("dataset_sha256"),
        "moves": version.params.get("moves") or {},  # items that changed split, e.g. dev->train
        # --include-unlabeled: the file of items without an exported label (not a split).
        "unlabeled": version.params.get("unlabeled"),
        # Evaluation splits too small to trust (empty, or under 10 items of a class) and why.
        "warnings": list((manifest.get("split_report") or {}).get("warnings", [])),
    }


def diff(session: Session, project_id: int, old: int, new: int) -> dict[str, Any]:
    """Two versions compared: items added, removed, relabeled, moved; count deltas; parameters.

    Item ids are database ids; ``external_ids`` maps the ones listed to the import's ids.
    """
    from labelapp.export import diff_versions

    a, b = get_version(session, project_id, old), get_version(session, project_id, new)
    result = diff_versions(a.manifest, version_snapshot(a), b.manifest, version_snapshot(b))
    items = result["items"]
    listed = {
        int(i)
        for i in items["added"]
        + items["removed"]
        + [r["item_id"] for r in items["relabeled"]]
        + [r["item_id"] for r in items["moved"]]
        if str(i).isdigit()
    }
    names = (
        dict(
            session.execute(
                select(Item.id, Item.external_id).where(Item.project_id == project_id)
            ).all()
        )
        if listed
        else {}
    )
    result["external_ids"] = {str(i): names[i] for i in sorted(listed) if i in names}
    result["versions"] = [old, new]
    return result


def reexport_version(
    sessions: sessionmaker[Session],
    project_id: int,
    number: int,
    out_dir: str | Path,
    progress: StageProgress = _noop,
) -> Path:
    """Write a past version again, byte for byte, into the empty folder ``out_dir``."""
    from labelapp.export.dataset import export_version

    with session_scope(sessions) as session:
        version = get_version(session, project_id, number)
        project = session.get(Project, project_id)
        snapshot = version_snapshot(version)
        items = items_frame(session, project, [int(i) for i in snapshot["item_id"]])
        manifest = dict(version.manifest)
    target = _empty_dir(Path(out_dir))
    try:
        export_version(
            items, snapshot, manifest, target, image_root=config.media_dir(), progress=progress
        )
    except ValueError as exc:
        raise UserError(f"cannot re-export version {number}: {exc}") from None
    return target


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
