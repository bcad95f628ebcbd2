"""The import service: read, validate everything, then one transaction that stores it all.

A table file is checked and stored in chunks (:mod:`labelapp.services.imports.table`): every
row is checked before the first is stored, then the store writes chunk after chunk in the one
transaction. Memory grows by a few bytes a row (hashes, flags), not by the rows' data.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Annotation, ImportBatch, Item, Project, QueueEntry, User, utcnow
from labelapp.services.bulk import Constant, bulk_insert, bulk_insert_columns, sqlite_timestamp
from labelapp.services.errors import UserError
from labelapp.services.imports import images, readers
from labelapp.services.imports.table import (
    IDS_PER_QUERY,
    check_table,
    existing_items,
    refuse_changed,
)
from labelapp.services.imports.validate import ValidRows
from labelapp.services.imports.weak_labels import store_weak_labels
from labelapp.services.label_kinds import (
    IMPORTED_HUMAN_SOURCE,
    IMPORTED_WEAK_SOURCE,
    check_kind,
    kind_from_legacy_source,
)
from labelapp.services.labels import add_unlabeled_rows, refresh_item_labels
from labelapp.services.projects import require_writable
from labelapp.services.schema import SchemaReport, check_import, record_check
from labelapp.services.schema.store import image_frame

# Image labels from subfolder names without --label-kind: a source of their own, train only.
FOLDER_SOURCE = "folder"
# progress(phase, done, total): phases are "read", "validate", "store".
Progress = Callable[[str, int, int], None]
REFRESH_IDS = 500_000  # items per refresh of their resolved labels after an import


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


class _Rows(Protocol):
    """An import's checked rows, one per item, to store chunk by chunk."""

    total: int  # rows read, repeated items among them
    new: int  # items to create, as far as known (for progress)
    labeled: int  # rows with a label (for progress)
    has_labels: bool

    @property
    def duplicates_in_file(self) -> int: ...

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Frames of external_id, text, content_hash, meta, group_key, labels and row (and
        confidence, for weak labels that have one)."""
        ...


class _Whole:
    """Rows validated in one piece (an image folder, a Label Studio export): one chunk."""

    def __init__(self, valid: ValidRows) -> None:
        self.valid = valid
        frame = valid.frame
        self.total = len(frame) + valid.duplicates_in_file
        self.new = len(frame)
        self.has_labels = "labels" in frame
        self.labeled = int(frame["labels"].notna().sum()) if self.has_labels else 0

    @property
    def duplicates_in_file(self) -> int:
        return self.valid.duplicates_in_file

    def chunks(self) -> Iterator[pd.DataFrame]:
        yield self.valid.frame


@dataclass
class _Read:
    """A file or folder read and checked, nothing stored yet."""

    rows: _Rows
    label_source: str | None
    staged: images.StagedImages | None = None  # image files, copied when the import is stored
    schema_report: SchemaReport | None = None
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
    if options.gold and not read.rows.has_labels:
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
    label_source = read.label_source
    report, stored = _store(
        session, project, read.rows, fmt, name, label_source, user, progress, read.staged, options
    )
    if read.schema_report is not None:
        report.schema = record_check(
            session, project, read.schema_report, report.import_id, user
        ).to_dict()
    _note_kind(report, options, label_source)
    if read.sourced_labels is not None:
        _store_sourced_labels(session, project, report, read.sourced_labels, progress)
    report.warnings.extend(read.warnings)
    _refresh_labels(session, project, report, read, stored)
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
    return _Read(_Whole(valid), label_source, staged=staged, schema_report=schema_report)


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
    return _Read(
        _Whole(studio.valid), None, sourced_labels=studio.labels, warnings=list(studio.warnings)
    )


def _read_table(source: _Source) -> _Read:
    project, options, name = source.project, source.options, source.name
    if project.task_type != "text":
        raise UserError(
            f"{name}: project {project.name!r} is an image project; import a folder of images"
        )
    checked = check_table(
        source.session,
        project,
        source.path,
        source.fmt,
        options,
        name,
        source.progress,
        _row_namer(source.path, source.fmt),
        lambda: label_kind_source(options, bool(options.label_col)),
    )
    return _Read(checked.rows, checked.label_source, schema_report=checked.schema)


def _refresh_labels(
    session: Session, project: Project, report: ImportReport, read: _Read, stored: _Stored
) -> None:
    """The resolved-label rows of the new items, and of the existing ones the file named.

    A new item the file gave no label has no fact the rule could use: its row is "no label",
    written for every new item in one ``INSERT ... SELECT``; the rule then runs for the items
    the file labeled (30 s a million items less than running it for all)."""
    add_unlabeled_rows(session, report.import_id)
    if not (report.annotations_created or report.gold_items):
        return
    touched = [*stored.existing_ids, *stored.labeled_new_ids]
    if read.sourced_labels is not None:  # Label Studio: its labels name items themselves
        touched.append(_new_item_ids_all(session, project.id, report.import_id, stored))
    ids = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *touched]))
    for start in range(0, len(ids), REFRESH_IDS):
        refresh_item_labels(session, project, ids[start : start + REFRESH_IDS].tolist())


def _new_item_ids_all(
    session: Session, project_id: int, import_id: int, stored: _Stored
) -> np.ndarray:
    ids = session.scalars(
        select(Item.id).where(
            Item.project_id == project_id,
            Item.position >= stored.first_position,
            Item.position < stored.next_position,
            Item.import_id == import_id,
        )
    ).all()
    return np.array(ids, dtype=np.int64)


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


def _mark_gold(session: Session, frame: pd.DataFrame, item_ids: dict[str, int]) -> int:
    """Store each labeled row's answer on its item and take the item out of the normal queue."""
    labeled = frame[frame["labels"].notna()]
    if labeled.empty:
        return 0
    rows = [
        {"b_id": item_ids[ext], "gold": list(labels)}
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
    cache: dict[str, np.ndarray] = {}  # the line of each data row, read on the first call

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
                    cache["lines"] = np.zeros(0, dtype=np.int64)
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


@dataclass
class _Stored:
    """What the store wrote, chunk after chunk."""

    first_position: int  # the new items' positions: first_position .. next_position - 1
    next_position: int
    created: int = 0
    existing: int = 0
    annotations: int = 0
    gold: int = 0
    existing_ids: list[np.ndarray] = field(default_factory=list)  # items the file named
    labeled_new_ids: list[np.ndarray] = field(default_factory=list)  # new items it labeled


def _store(
    session: Session,
    project: Project,
    rows: _Rows,
    fmt: str,
    name: str,
    label_source: str | None,
    user: User | None,
    progress: Progress,
    staged: images.StagedImages | None,
    options: ImportOptions,
) -> tuple[ImportReport, _Stored]:
    has_items = (
        session.scalar(select(Item.id).where(Item.project_id == project.id).limit(1)) is not None
    )
    batch = ImportBatch(
        project_id=project.id,
        filename=name[:500],
        format=fmt,
        label_source=label_source,
        rows_total=rows.total,
        created_by_id=user.id if user else None,
    )
    session.add(batch)
    session.flush()

    total_work = rows.new + rows.labeled
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress("store", min(done, total_work), total_work)

    progress("store", 0, total_work)
    start = session.scalar(
        select(func.coalesce(func.max(Item.position), -1)).where(Item.project_id == project.id)
    )
    stored = _Stored(start + 1, start + 1)
    writer = _ChunkWriter(session, project, batch.id, label_source, staged, advance, options.gold)
    for frame in rows.chunks():
        writer.write(frame, stored, has_items, name)

    batch.items_created = stored.created
    batch.items_existing = stored.existing
    batch.annotations_created = stored.annotations
    session.flush()
    report = ImportReport(
        import_id=batch.id,
        filename=name,
        format=fmt,
        rows=batch.rows_total,
        items_created=batch.items_created,
        items_existing=batch.items_existing,
        duplicates_in_file=rows.duplicates_in_file,
        annotations_created=stored.annotations,
        label_source=label_source,
        gold_items=stored.gold,
    )
    return report, stored


class _ChunkWriter:
    """Stores an import's rows one chunk at a time, in the caller's transaction: new items and
    their queue entries, the file's labels, gold answers."""

    def __init__(
        self,
        session: Session,
        project: Project,
        import_id: int,
        label_source: str | None,
        staged: images.StagedImages | None,
        advance: Callable[[int], None],
        gold: bool,
    ) -> None:
        self.session, self.project, self.import_id = session, project, import_id
        self.label_source, self.staged, self.gold = label_source, staged, gold
        self.advance = advance
        now = utcnow()
        sqlite = session.get_bind().dialect.name == "sqlite"
        self.created_at = sqlite_timestamp(now) if sqlite else now.isoformat()
        self.image_paths: dict[str, str] | None = None

    def write(self, frame: pd.DataFrame, stored: _Stored, has_items: bool, name: str) -> None:
        session, project = self.session, self.project
        externals = frame["external_id"].tolist()
        found = existing_items(session, project.id, externals) if has_items else {}
        changed = [
            (ext, row)
            for ext, row, h in zip(externals, frame["row"], frame["content_hash"], strict=True)
            if ext in found and found[ext][1] != h
        ]
        if changed:  # stored since the file was checked, with other content
            raise refuse_changed(name, len(changed), (changed[0][0], int(changed[0][1])))
        is_new = np.fromiter((e not in found for e in externals), dtype=bool, count=len(frame))
        new = frame[is_new]
        item_ids = {ext: item_id for ext, (item_id, _) in found.items()}
        fresh: set[int] = set()
        if len(new):
            positions = np.arange(stored.next_position, stored.next_position + len(new))
            stored.next_position += len(new)
            self._insert_items(new, positions)
            _insert_queue_entries(session, project, self.import_id, positions)
            labeled = new["labels"].notna() if "labels" in new else pd.Series(False, new.index)
            if (self.label_source is not None or self.gold) and labeled.any():
                created = _new_item_ids(session, project.id, self.import_id, positions)
                item_ids.update(created)
                fresh = set(created.values())
                named = new.loc[labeled, "external_id"]
                stored.labeled_new_ids.append(np.array([created[e] for e in named], np.int64))
        if self.label_source is not None and "labels" in frame and frame["labels"].notna().any():
            stored.annotations += _store_labels(
                session, project, frame, item_ids, fresh, self.label_source, self.advance
            )
        if self.gold and "labels" in frame:
            stored.gold += _mark_gold(session, frame, item_ids)
        if found:
            stored.existing_ids.append(np.array([v[0] for v in found.values()], dtype=np.int64))
        stored.created += len(new)
        stored.existing += len(frame) - len(new)

    def _insert_items(self, new: pd.DataFrame, positions: np.ndarray) -> None:
        session, project = self.session, self.project
        if self.staged is not None and self.image_paths is None:
            self.image_paths = self.staged.store()
        image_paths = self.image_paths
        bulk_insert_columns(
            session,
            "items",
            {
                "project_id": Constant(project.id),
                "external_id": new["external_id"],
                "text": new["text"] if self.staged is None else Constant(None),
                "image_path": [image_paths[e] for e in new["external_id"]]
                if image_paths
                else Constant(None),
                "content_hash": new["content_hash"],
                "meta": new["meta"],
                "group_key": new["group_key"],
                "position": positions,
                "target_k": overlap_targets(project, positions),
                "import_id": Constant(self.import_id),
                "created_at": Constant(self.created_at),
            },
            len(new),
            on_chunk=self.advance,
        )


def _new_item_ids(
    session: Session, project_id: int, import_id: int, positions: np.ndarray
) -> dict[str, int]:
    """The ids of the items just created at ``positions`` (one range): external id -> id."""
    rows = session.execute(
        select(Item.external_id, Item.id).where(
            Item.project_id == project_id,
            Item.position >= int(positions[0]),
            Item.position <= int(positions[-1]),
            Item.import_id == import_id,
        )
    )
    return dict(rows.all())


def _store_labels(
    session: Session,
    project: Project,
    frame: pd.DataFrame,
    item_ids: dict[str, int],
    fresh: Collection[int],
    label_source: str,
    advance: Callable[[int], None],
) -> int:
    """The chunk's labels: human ones as annotations by ``label_source``, weak ones as
    probabilistic labels (:mod:`labelapp.services.imports.weak_labels`). ``fresh``: items this
    import created (they have no label to compare with)."""
    if label_source == IMPORTED_WEAK_SOURCE:
        return store_weak_labels(session, project, frame, item_ids, advance, fresh)
    return _insert_annotations(session, project, frame, item_ids, label_source, advance, fresh)


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
        # Below 2**31: queue_entries.position is a 32-bit integer on PostgreSQL (2**52 overflowed
        # it); equal draws are rare and break ties by item, as equal positions always do.
        return (_stable_uniform(positions, project.queue_seed) * (2**31 - 1)).astype(np.int64)
    return positions.astype(np.int64)


def _insert_queue_entries(
    session: Session, project: Project, import_id: int, positions: np.ndarray
) -> None:
    """The new items at ``positions`` (one range) enter the queue, in one INSERT ... SELECT."""
    bounds = {
        "imp": import_id,
        "project": project.id,
        "low": int(positions[0]),
        "high": int(positions[-1]),
    }
    session.execute(
        text(
            "INSERT INTO queue_entries "
            "(item_id, project_id, position, priority, remaining, is_gold) "
            "SELECT id, project_id, position, 0.0, target_k, false FROM items "
            "WHERE project_id = :project AND position >= :low AND position <= :high "
            "AND import_id = :imp"
        ),
        bounds,
    )
    if project.queue_order == "random":
        _shuffle_new_entries(session, project, import_id, bounds)


def _shuffle_new_entries(
    session: Session, project: Project, import_id: int, bounds: dict[str, int]
) -> None:
    rows = session.execute(
        select(Item.id, Item.position).where(
            Item.project_id == project.id,
            Item.position >= bounds["low"],
            Item.position <= bounds["high"],
            Item.import_id == import_id,
        )
    ).all()
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
    fresh: Collection[int] = (),
) -> int:
    """Labels in the file become annotations by ``source`` (no user: the source is the author).
    ``fresh``: items this import created, which have no earlier annotation."""
    labeled = frame[frame["labels"].notna()]
    ids = [id_by_external[external] for external in labeled["external_id"]]
    latest = _latest_labels_by_source(
        session, project.id, source, [i for i in ids if i not in fresh]
    )
    now = utcnow()
    created = sqlite_timestamp(now) if session.get_bind().dialect.name == "sqlite" else now
    rows = []
    for item_id, labels in zip(ids, labeled["labels"], strict=True):
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
    session: Session, project_id: int, source: str, item_ids: list[int]
) -> dict[int, list[str]]:
    """The latest label annotation by ``source`` of each of ``item_ids`` that has one."""
    latest: dict[int, list[str]] = {}
    for start in range(0, len(item_ids), IDS_PER_QUERY):
        rows = session.execute(
            select(Annotation.item_id, Annotation.labels)
            .where(
                Annotation.project_id == project_id,
                Annotation.source == source,
                Annotation.kind == "label",
                Annotation.item_id.in_(item_ids[start : start + IDS_PER_QUERY]),
            )
            .order_by(Annotation.id)
        )
        latest.update({item_id: labels for item_id, labels in rows})
    return latest
