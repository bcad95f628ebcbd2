"""The import service: read, validate everything, then one transaction that stores it all."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Annotation, ImportBatch, Item, Project, QueueEntry, User, utcnow
from labelapp.services.bulk import Constant, bulk_insert, bulk_insert_columns, sqlite_timestamp
from labelapp.services.errors import UserError
from labelapp.services.imports import images, readers
from labelapp.services.imports.validate import Columns, ValidRows, validate_table
from labelapp.services.imports.weak_labels import read_confidences, store_weak_labels
from labelapp.services.label_kinds import (
    IMPORTED_HUMAN_SOURCE,
    IMPORTED_WEAK_SOURCE,
    check_kind,
    kind_from_legacy_source,
)
from labelapp.services.labels import add_unlabeled_rows, refresh_item_labels
from labelapp.services.projects import require_writable
from labelapp.services.schema import SchemaReport, check_import, record_check
from labelapp.services.schema.store import image_frame, schema_frame

# Image labels from subfolder names without --label-kind: a source of their own, train only.
FOLDER_SOURCE = "folder"
# progress(phase, done, total): phases are "read", "validate", "store".
Progress = Callable[[str, int, int], None]


@dataclass
class ImportOptions:
    """What the input's columns mean. Defaults: ``text`` for text, ``id`` if present."""

    text_col: str | None = None
    id_col: str | None = None
    label_col: str | None = None
    # What the labels are (labelapp.services.label_kinds): "human" (the default) or "weak".
    label_kind: str | None = None
    confidence_col: str | None = None  # weak labels' confidence (0 to 1; default 1.0)
    label_source: str | None = (
        None  # deprecated: a name standing for a kind (kind_from_legacy_source)
    )
    group_col: str | None = None
    format: str | None = None
    folder_labels: bool = False
    # The labels are known answers: their items become gold items, served to every annotator at
    # the project's gold rate to measure accuracy (never counted as the team's labels to collect).
    gold: bool = False
    # Against the project schema (labelapp.services.schema): "strict" refuses a file that changes
    # a type or drops a required column; "evolve" accepts it as the schema's next version.
    schema: str = "strict"


@dataclass
class ImportReport:
    """What an import did."""

    import_id: int
    filename: str
    format: str
    rows: int
    items_created: int
    items_existing: int
    duplicates_in_file: int
    annotations_created: int
    label_source: str | None = None
    warnings: list[str] = field(default_factory=list)
    gold_items: int = 0
    label_kind: str | None = None
    schema: dict | None = None  # the schema check (labelapp.services.schema.SchemaReport)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Read:
    """A file or folder read and checked, nothing stored yet."""

    valid: ValidRows
    label_source: str | None
    staged: images.StagedImages | None = None  # image files, copied when the import is stored
    schema_report: SchemaReport | None = None
    confidences: np.ndarray | None = None  # weak labels' confidences (--confidence-col)
    sourced_labels: pd.DataFrame | None = None  # labels with their own source (Label Studio)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Source:
    """What an import reads: a file or folder for ``project``, in a detected format."""

    session: Session
    project: Project
    path: Path
    fmt: str
    options: ImportOptions
    name: str
    progress: Progress


def import_path(
    session: Session,
    project: Project,
    path: Path,
    options: ImportOptions | None = None,
    user: User | None = None,
    progress: Progress | None = None,
    display_name: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a file or image folder into ``project``. Raises :class:`UserError`, storing nothing.

    ``dry_run``: the caller rolls the transaction back (a check that counts what the import
    would do); image files copied to the media folder are removed again."""
    require_writable(project, "imports")
    options = options or ImportOptions()
    progress = progress or (lambda phase, done, total: None)
    path = Path(path)
    name = display_name or path.name
    fmt = readers.detect_format(path, options.format)
    source = _Source(session, project, path, fmt, options, name, progress)
    if fmt == "images":
        read = _read_images(source)
    elif fmt == "label_studio":
        read = _read_label_studio(source)
    else:
        read = _read_table(source)
    if options.gold and "labels" not in read.valid.frame:
        raise UserError(f"{name}: gold items need their answers: give the label column")
    if options.gold:
        read.label_source = "gold"
    # Reading and validating took no lock; storing takes SQLite's write lock now, up front.
    ensure_write_lock(session)
    try:
        report = _store_read(session, project, read, fmt, name, options, user, progress)
    except BaseException:
        if read.staged is not None:
            read.staged.discard()
        raise
    if dry_run and read.staged is not None:
        read.staged.discard()
    return report


def _store_read(
    session: Session,
    project: Project,
    read: _Read,
    fmt: str,
    name: str,
    options: ImportOptions,
    user: User | None,
    progress: Progress,
) -> ImportReport:
    """Store what was read, in the caller's transaction; the report."""
    valid, label_source = read.valid, read.label_source
    report = _store(
        session,
        project,
        valid,
        fmt,
        name,
        label_source,
        user,
        progress,
        read.staged,
        read.confidences,
    )
    if read.schema_report is not None:
        report.schema = record_check(
            session, project, read.schema_report, report.import_id, user
        ).to_dict()
    _note_kind(report, options, label_source)
    if read.sourced_labels is not None:
        _store_sourced_labels(session, project, report, read.sourced_labels, progress)
    report.warnings.extend(read.warnings)
    if options.gold:
        report.gold_items = _mark_gold(session, project, valid.frame)
    _refresh_labels(session, project, report, valid.frame)
    from labelapp.services.table_stats import IMPORT_TABLES, analyze_after_bulk_write

    analyze_after_bulk_write(
        session,
        IMPORT_TABLES,  # issue 16: the claim's plan
        report.items_created + report.annotations_created,
    )
    return report


def _read_images(source: _Source) -> _Read:
    session, project, options, name = source.session, source.project, source.options, source.name
    if project.task_type != "image":
        raise UserError(
            f"{name}: a folder of images needs an image project; {project.name!r} is text"
        )
    label_names = [label.name for label in project.labels]
    valid, staged = images.validate_folder(
        source.path, label_names, options.folder_labels, source.progress, name
    )
    entries = valid.frame["external_id"].tolist()  # a report names an image by its entry
    schema_report = check_import(
        session,
        project,
        image_frame(valid.frame),
        "images",
        name,
        entries.__getitem__,
        options.schema,
        valid.frame,
    )
    label_source = label_kind_source(options, options.folder_labels)
    if options.folder_labels and not (options.label_kind or options.label_source):
        label_source = FOLDER_SOURCE  # subfolder names, unless a kind is given: train only
    return _Read(valid, label_source, staged=staged, schema_report=schema_report)


def _read_label_studio(source: _Source) -> _Read:
    from labelapp.services.imports.label_studio import read_label_studio

    project, options, name = source.project, source.options, source.name
    if project.task_type != "text":
        raise UserError(
            f"{name}: Label Studio tasks import into text projects; "
            f"{project.name!r} is an image project"
        )
    if options.label_col or options.label_source or options.label_kind:
        raise UserError(
            f"{name}: a Label Studio export names each label's source itself; "
            "drop the label column and label kind options"
        )
    studio = read_label_studio(
        source.session, project, source.path, name, options.text_col, source.progress
    )
    return _Read(studio.valid, None, sourced_labels=studio.labels, warnings=list(studio.warnings))


def _read_table(source: _Source) -> _Read:
    session, project, path, fmt = source.session, source.project, source.path, source.fmt
    options, name, progress = source.options, source.name, source.progress
    if project.task_type != "text":
        raise UserError(
            f"{name}: project {project.name!r} is an image project; import a folder of images"
        )
    progress("read", 0, 1)
    df = readers.read_table(path, fmt)
    progress("read", 1, 1)
    df.columns = [str(c) for c in df.columns]
    columns = Columns(
        text=options.text_col or "text",
        id=options.id_col or ("id" if "id" in df.columns else None),
        label=options.label_col,
        group=options.group_col,
    )
    row_name = _row_namer(path, fmt)
    progress("validate", 0, len(df))
    label_names = [label.name for label in project.labels]
    valid = validate_table(df, columns, label_names, project.multi_label, name, row_name)
    progress("validate", len(df), len(df))
    schema_report = check_import(
        session,
        project,
        schema_frame(df, columns),
        fmt,
        name,
        row_name,
        options.schema,
        valid.frame,
    )
    return _Read(
        valid,
        label_kind_source(options, bool(options.label_col)),
        schema_report=schema_report,
        confidences=read_confidences(df, options.confidence_col, name, row_name),
    )


def _refresh_labels(
    session: Session, project: Project, report: ImportReport, frame: pd.DataFrame
) -> None:
    """The resolved-label rows of the new items, and of the existing ones the file labeled."""
    if not (report.annotations_created or report.gold_items):
        add_unlabeled_rows(session, report.import_id)
        return
    touched = set(session.scalars(select(Item.id).where(Item.import_id == report.import_id)))
    touched.update(int(i) for i in frame["item_id"].dropna())
    refresh_item_labels(session, project, touched)


def _store_sourced_labels(
    session: Session,
    project: Project,
    report: ImportReport,
    labels: pd.DataFrame,
    progress: Progress,
) -> None:
    """Labels that carry their own source (Label Studio): one annotation batch per source."""
    if labels.empty:
        return
    ids = dict(
        session.execute(
            select(Item.external_id, Item.id).where(Item.project_id == project.id)
        ).all()
    )
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("store", done, len(labels))

    created = sum(
        _insert_annotations(session, project, group, ids, str(source), advance)
        for source, group in labels.groupby("source", sort=True)
    )
    sources = ", ".join(sorted(labels["source"].unique()))
    batch = session.get(ImportBatch, report.import_id)
    batch.label_source, batch.annotations_created = sources[:80], created
    report.label_source, report.annotations_created = sources, created


def _mark_gold(session: Session, project: Project, frame: pd.DataFrame) -> int:
    """Store each labeled row's answer on its item and take the item out of the normal queue."""
    labeled = frame[frame["labels"].notna()]
    if labeled.empty:
        return 0
    ids = dict(
        session.execute(
            select(Item.external_id, Item.id).where(Item.project_id == project.id)
        ).all()
    )
    rows = [
        {"b_id": ids[ext], "gold": list(labels)}
        for ext, labels in zip(labeled["external_id"], labeled["labels"], strict=True)
    ]
    conn = session.connection()
    conn.execute(
        update(Item).where(Item.id == bindparam("b_id")).values(gold_labels=bindparam("gold")),
        rows,
    )
    conn.execute(
        update(QueueEntry).where(QueueEntry.item_id == bindparam("b_id")).values(is_gold=True),
        [{"b_id": r["b_id"]} for r in rows],
    )
    return len(rows)


def _row_namer(path: Path, fmt: str) -> Callable[[int], str]:
    """Name a 0-based data row the way the user finds it: a line for text files, a row otherwise."""
    cache: dict[str, list[int]] = {}

    def name(i: int) -> str:
        if fmt in ("csv", "tsv", "jsonl"):
            if "lines" not in cache:
                try:
                    cache["lines"] = (
                        readers.jsonl_line_numbers(path)
                        if fmt == "jsonl"
                        else readers.csv_line_numbers(path, "," if fmt == "csv" else "\t")
                    )
                except (OSError, UnicodeDecodeError):
                    cache["lines"] = []
            lines = cache["lines"]
            if i < len(lines):
                return f"line {lines[i]}"
        return f"row {i + 1}"

    return name


def _note_kind(report: ImportReport, options: ImportOptions, label_source: str | None) -> None:
    """The report says which kind the labels were stored as (and warns of --label-source)."""
    kinds = {IMPORTED_WEAK_SOURCE: "weak", IMPORTED_HUMAN_SOURCE: "human", "gold": "human"}
    report.label_kind = kinds.get(label_source or "")
    if options.label_source:
        report.warnings.append(
            f"--label-source is deprecated: {options.label_source!r} was read as "
            f"--label-kind {report.label_kind}; say --label-kind human|weak instead"
        )


def label_kind_source(options: ImportOptions, has_labels: bool) -> str | None:
    """Where the import's labels go: the annotation source of human ones, the ProbLabel source
    of weak ones (:mod:`labelapp.services.label_kinds`); None without labels."""
    try:
        kind = check_kind(options.label_kind)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if kind is None and options.label_source:
        kind = kind_from_legacy_source(options.label_source)
    if not has_labels:
        if kind or options.confidence_col:
            raise UserError(
                "a label kind or confidence column needs the labels: give the label "
                "column (or take image labels from subfolders)"
            )
        return None
    if options.confidence_col and kind != "weak":
        raise UserError(
            "a confidence column is for weak labels: add --label-kind weak (human "
            "labels are certain)"
        )
    if options.gold and kind == "weak":
        raise UserError(
            "gold items need known answers: --gold and --label-kind weak exclude each other"
        )
    return IMPORTED_WEAK_SOURCE if kind == "weak" else IMPORTED_HUMAN_SOURCE


def _store(
    session: Session,
    project: Project,
    valid: ValidRows,
    fmt: str,
    name: str,
    label_source: str | None,
    user: User | None,
    progress: Progress,
    staged: images.StagedImages | None,
    confidences: np.ndarray | None = None,
) -> ImportReport:
    frame = valid.frame
    existing = _existing_items(session, project.id, frame["external_id"])
    frame["item_id"] = frame["external_id"].map(lambda e: existing.get(e, (None, None))[0])
    is_new = frame["item_id"].isna().to_numpy()

    changed = [
        (ext, row)
        for ext, row, h in zip(
            frame["external_id"][~is_new],
            frame["row"][~is_new],
            frame["content_hash"][~is_new],
            strict=True,
        )
        if existing[ext][1] != h
    ]
    if changed:
        ext, row = changed[0]
        raise UserError(
            f"{name}: {len(changed)} row(s) reuse an existing id with different content "
            f"(first: id {ext!r}, data row {row + 1}); nothing was imported. An id must always "
            "name the same item: give changed items new ids."
        )

    batch = ImportBatch(
        project_id=project.id,
        filename=name[:500],
        format=fmt,
        label_source=label_source,
        rows_total=len(frame) + valid.duplicates_in_file,
        created_by_id=user.id if user else None,
    )
    session.add(batch)
    session.flush()

    new = frame[is_new]
    total_work = len(new) + int(frame["labels"].notna().sum() if "labels" in frame else 0)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("store", done, total_work)

    progress("store", 0, total_work)
    if len(new):
        _insert_items(session, project, batch.id, new, staged, advance)
        _insert_queue_entries(session, project, batch.id)
    annotations = 0
    if label_source is not None and frame["labels"].notna().any():
        annotations = _store_labels(
            session, project, frame, existing, batch.id, label_source, confidences, advance
        )

    batch.items_created = len(new)
    batch.items_existing = len(frame) - len(new)
    batch.annotations_created = annotations
    session.flush()
    return ImportReport(
        import_id=batch.id,
        filename=name,
        format=fmt,
        rows=batch.rows_total,
        items_created=batch.items_created,
        items_existing=batch.items_existing,
        duplicates_in_file=valid.duplicates_in_file,
        annotations_created=annotations,
        label_source=label_source,
    )


def _store_labels(
    session: Session,
    project: Project,
    frame: pd.DataFrame,
    existing: dict,
    import_id: int,
    label_source: str,
    confidences: np.ndarray | None,
    advance: Callable[[int], None],
) -> int:
    """The file's labels: human ones as annotations by ``label_source``, weak ones as
    probabilistic labels (:mod:`labelapp.services.imports.weak_labels`)."""
    item_ids = {ext: item_id for ext, (item_id, _) in existing.items()}
    item_ids.update(
        session.execute(select(Item.external_id, Item.id).where(Item.import_id == import_id)).all()
    )
    if label_source == IMPORTED_WEAK_SOURCE:
        return store_weak_labels(session, project, frame, item_ids, confidences, advance)
    return _insert_annotations(session, project, frame, item_ids, label_source, advance)


def _existing_items(
    session: Session, project_id: int, external_ids: pd.Series
) -> dict[str, tuple[int, str]]:
    has_any = session.scalar(select(Item.id).where(Item.project_id == project_id).limit(1))
    if has_any is None:
        return {}
    wanted = set(external_ids.tolist())
    rows = session.execute(
        select(Item.external_id, Item.id, Item.content_hash).where(Item.project_id == project_id)
    )
    return {ext: (item_id, h) for ext, item_id, h in rows if ext in wanted}


def overlap_targets(project: Project, positions: np.ndarray) -> np.ndarray:
    """How many annotators each item needs: k for a seeded share of items, 1 for the rest."""
    if project.overlap_k <= 1 or project.overlap_share <= 0:
        return np.ones(len(positions), dtype=np.int64)
    if project.overlap_share >= 1:
        return np.full(len(positions), project.overlap_k, dtype=np.int64)
    draw = _stable_uniform(positions, project.queue_seed + 7919)
    return np.where(draw < project.overlap_share, project.overlap_k, 1).astype(np.int64)


def _stable_uniform(positions: np.ndarray, seed: int) -> np.ndarray:
    """A uniform [0, 1) number per position that never changes: a splitmix64-style hash."""
    with np.errstate(over="ignore"):
        x = (
            positions.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        ) & np.uint64(0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def queue_positions(project: Project, positions: np.ndarray) -> np.ndarray:
    """Where unscored items stand in the queue: import order, or a seeded shuffle."""
    if project.queue_order == "random":
        return (_stable_uniform(positions, project.queue_seed) * (1 << 52)).astype(np.int64)
    return positions.astype(np.int64)


def _insert_items(
    session: Session,
    project: Project,
    import_id: int,
    new: pd.DataFrame,
    staged: images.StagedImages | None,
    advance: Callable[[int], None],
) -> None:
    start = session.scalar(
        select(func.coalesce(func.max(Item.position), -1)).where(Item.project_id == project.id)
    )
    positions = np.arange(start + 1, start + 1 + len(new), dtype=np.int64)
    targets = overlap_targets(project, positions)
    now = utcnow()
    sqlite = session.get_bind().dialect.name == "sqlite"
    created = sqlite_timestamp(now) if sqlite else now.isoformat()
    image_paths = staged.store() if staged is not None else None
    n = len(new)
    bulk_insert_columns(
        session,
        "items",
        {
            "project_id": Constant(project.id),
            "external_id": new["external_id"],
            "text": new["text"] if staged is None else Constant(None),
            "image_path": [image_paths[e] for e in new["external_id"]]
            if image_paths
            else Constant(None),
            "content_hash": new["content_hash"],
            "meta": new["meta"],
            "group_key": new["group_key"],
            "position": positions,
            "target_k": targets,
            "import_id": Constant(import_id),
            "created_at": Constant(created),
        },
        n,
        on_chunk=advance,
    )


def _insert_queue_entries(session: Session, project: Project, import_id: int) -> None:
    """Every new item enters the queue, in one INSERT ... SELECT."""
    session.execute(
        text(
            "INSERT INTO queue_entries "
            "(item_id, project_id, position, priority, remaining, is_gold) "
            "SELECT id, project_id, position, 0.0, target_k, false "
            "FROM items WHERE import_id = :imp"
        ),
        {"imp": import_id},
    )
    if project.queue_order == "random":
        _shuffle_new_entries(session, project, import_id)


def _shuffle_new_entries(session: Session, project: Project, import_id: int) -> None:
    rows = session.execute(select(Item.id, Item.position).where(Item.import_id == import_id)).all()
    if not rows:
        return
    ids = np.array([r[0] for r in rows])
    shuffled = queue_positions(project, np.array([r[1] for r in rows]))
    session.execute(
        text("UPDATE queue_entries SET position = :pos WHERE item_id = :id"),
        [{"pos": int(p), "id": int(i)} for i, p in zip(ids, shuffled, strict=True)],
    )


def _insert_annotations(
    session: Session,
    project: Project,
    frame: pd.DataFrame,
    id_by_external: dict[str, int],
    source: str,
    advance: Callable[[int], None],
) -> int:
    """Labels in the file become annotations by ``source`` (no user: the source is the author)."""
    labeled = frame[frame["labels"].notna()]
    latest = _latest_labels_by_source(session, project.id, source)
    now = utcnow()
    created = sqlite_timestamp(now) if session.get_bind().dialect.name == "sqlite" else now
    rows = []
    for external, labels in zip(labeled["external_id"], labeled["labels"], strict=True):
        item_id = id_by_external[external]
        if latest.get(item_id) == list(labels):
            continue  # re-import of the same label: nothing new to record
        rows.append((item_id, project.id, source, "label", json.dumps(list(labels)), created))
    bulk_insert(
        session,
        "annotations",
        ("item_id", "project_id", "source", "kind", "labels", "created_at"),
        rows,
        on_chunk=advance,
    )
    return len(rows)


def _latest_labels_by_source(
    session: Session, project_id: int, source: str
) -> dict[int, list[str]]:
    rows = session.execute(
        select(Annotation.item_id, Annotation.labels)
        .where(
            Annotation.project_id == project_id,
            Annotation.source == source,
            Annotation.kind == "label",
        )
        .order_by(Annotation.id)
    )
    return {item_id: labels for item_id, labels in rows}
