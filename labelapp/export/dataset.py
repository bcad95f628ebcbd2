"""One export = splits + optional train-only augmentation + files in one format + a manifest.

:func:`write_export` is the entry point for the CLI and the web app: it takes a DataFrame of items
(no database), writes the files and ``manifest.json`` and returns an :class:`ExportResult`.
:func:`export_version` writes a past version again, byte for byte, from its snapshot.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from augment.balance import BalanceReport, balance_report
from augment.plan import AugmentPlan, load_augment_plan
from augment.splits import HUMAN_SOURCES, SPLIT_NAMES, assign_splits, label_keys
from labelapp.export.manifest import (
    build_manifest,
    content_digests,
    snapshot_rows,
    verify_manifest,
    write_manifest,
)
from labelapp.export.rows import prepare_rows
from labelapp.formats import EXPORT_FORMATS as FORMATS

Progress = Callable[[str, int, int], None] | None
"""``progress(stage, done, total)``; stages: ``splits``, ``augment``, ``write``, ``manifest``."""

ITEM_COLUMNS = (
    "item_id",
    "label",
    "label_source",
    "confidence",
    "group_key",
    "text",
    "image_path",
    "metadata",
    "content_hash",
    "split",
)

# The columns assign_splits reads (see its docstring).
_SPLIT_INPUT = (
    "item_id",
    "label",
    "label_source",
    "confidence",
    "group_key",
    "content_hash",
    "text",
    "split",
)


@dataclass(frozen=True)
class ExportResult:
    """What an export produced.

    ``manifest``: the dict written to ``manifest.json``. ``splits``: the split of every input item
    (index = input index, ``<NA>`` = not exported), to store so the next export keeps it.
    ``report``: the balance report. ``rows``: the exported rows (augmented copies included).
    ``snapshot``: the compact per-item table (id, split, label, source, confidence, content
    digest) to keep with the version for :func:`export_version` and version diffs.
    """

    manifest: dict[str, Any]
    splits: pd.Series
    report: BalanceReport
    rows: pd.DataFrame
    snapshot: pd.DataFrame
    files: list[Path]


def _report(stage: str, done: int, total: int, progress: Progress) -> None:
    if progress is not None:
        progress(stage, done, total)


def _check_items(items: pd.DataFrame, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {list(FORMATS)}")
    if "item_id" not in items.columns or "label" not in items.columns:
        raise ValueError(
            "write_export: items need 'item_id' and 'label' columns (and optionally "
            f"{list(ITEM_COLUMNS[2:])}); one row per item with its resolved label"
        )
    if fmt == "imagefolder" and "image_path" not in items.columns:
        raise ValueError("the imagefolder format needs an 'image_path' column (an image project)")


def may_take_part(items: pd.DataFrame, min_confidence: float) -> np.ndarray:
    """Per row, whether the item may be placed in a split by :func:`write_export` with this
    ``min_confidence``: False only for labels of a non-human source below it (rule 1 of
    :mod:`augment.splits`; a missing confidence counts as 0). A caller may leave out the
    content of the others (pass them as ``without_content``): they are never written."""
    if "label_source" not in items:
        return np.ones(len(items), dtype=bool)
    source = items["label_source"]
    weak = (source.notna() & ~source.astype(str).isin(HUMAN_SOURCES)).to_numpy()
    if "confidence" in items:
        confidence = pd.to_numeric(items["confidence"], errors="coerce").fillna(0.0).to_numpy()
    else:
        confidence = np.ones(len(items))
    return ~(weak & (confidence < min_confidence))


def _check_content(items: pd.DataFrame, splits: pd.Series, without_content: np.ndarray) -> None:
    placed = splits.notna().to_numpy() & np.asarray(without_content, dtype=bool)
    if placed.any():
        raise RuntimeError(
            f"write_export: item {items['item_id'].to_numpy()[placed][0]!r} was placed in a split "
            "but its content was left out (may_take_part disagrees with assign_splits)"
        )


def rows_from_items(items: pd.DataFrame, splits: pd.Series) -> pd.DataFrame:
    """Exported rows from items and their splits: items without a split are dropped.

    Every column travels (the known ones first, others such as ``external_id`` after them);
    Arrow-backed ones (``pd.ArrowDtype``, a compact way to hold strings) as Python values. A
    missing ``label_source`` means ``human``; a missing ``confidence`` means 1.0 for human labels
    (and NaN for others, which should always carry one).
    """
    keep = splits.notna().to_numpy()
    rows = items.loc[keep, [c for c in items.columns if c != "split"]]
    rows = rows.assign(split=splits[keep].astype(str).to_numpy())
    for column in rows.columns:
        if isinstance(rows[column].dtype, pd.ArrowDtype):  # held compact until now
            values = rows[column].to_numpy(dtype=object, na_value=None)
            rows[column] = pd.Series(values, index=rows.index, dtype=object)
    if "label_source" not in rows:
        rows["label_source"] = "human"
    rows["label_source"] = rows["label_source"].fillna("human").astype(str)
    confidence = (
        pd.to_numeric(rows["confidence"], errors="coerce")
        if "confidence" in rows
        else pd.Series(np.nan, index=rows.index)
    )
    is_human = rows["label_source"].isin(HUMAN_SOURCES)
    rows["confidence"] = confidence.where(~(confidence.isna() & is_human), 1.0)
    rows["label"] = label_keys(rows["label"])
    return rows


def _augment_rows(
    rows: pd.DataFrame,
    plan: AugmentPlan,
    seed: int,
    progress: Progress,
    image_dir: Path,
    relative_to: Path | None,
    image_root: Path | None,
) -> pd.DataFrame:
    """Augmented copies of the train rows: ids ``<id>~aug<k>``, with lineage columns.

    Augmented images are written as PNG to ``image_dir``; their ``image_path`` is relative to
    ``relative_to`` when given (the export folder, for the tabular formats).
    """
    train = rows[rows["split"] == "train"]
    total = len(train) * plan.copies
    _report("augment", 0, total, progress)
    if plan.kind == "text":
        records = _augmented_texts(train, plan, seed, progress)
    else:
        records = _augmented_images(train, plan, seed, progress, image_dir, relative_to, image_root)
    if not records:
        return rows.iloc[0:0]
    made = pd.DataFrame.from_records(records)
    originals = train.set_index("item_id").loc[made["source"]].reset_index()
    copies = originals.assign(
        item_id=[f"{s}~aug{c}" for s, c in zip(made["source"], made["copy"], strict=True)],
        augmented_from=made["source"].to_numpy(),
        transform_params=made["params"].to_numpy(),
    )
    for column in ("text", "image_path"):
        if column in made:
            copies[column] = made[column].to_numpy()
    if "content_hash" in copies:
        copies["content_hash"] = None
    _report("augment", total, total, progress)
    return copies


def _augmented_texts(train: pd.DataFrame, plan: AugmentPlan, seed: int, progress: Progress) -> list:
    """One record per augmented copy of each train text: source, copy, text, params."""
    from augment.text import augment_text

    if "text" not in train:
        raise ValueError("a text augmentation plan needs a 'text' column (a text project)")
    config = plan.text_config()
    total = len(train) * plan.copies
    records = []
    for n, (item_id, text) in enumerate(zip(train["item_id"], train["text"], strict=True)):
        for copy in range(plan.copies):
            out = augment_text(
                "" if pd.isna(text) else str(text),
                config,
                source_id=item_id,
                random_state=seed,
                copy=copy,
            )
            params = {"seed": out.seed, "operations": out.operations}
            records.append({"source": item_id, "copy": copy, "text": out.text, "params": params})
        if n % 1000 == 0:
            _report("augment", n * plan.copies, total, progress)
    return records


def _augmented_images(
    train: pd.DataFrame,
    plan: AugmentPlan,
    seed: int,
    progress: Progress,
    folder: Path,
    relative_to: Path | None,
    image_root: Path | None,
) -> list:
    """One PNG in ``folder`` and one record per augmented copy of each train image."""
    from augment.image_io import read_image, write_image
    from augment.images import augment_image, build_pipeline
    from labelapp.export.image_folders import resolve_image

    if "image_path" not in train:
        raise ValueError("an image augmentation plan needs an 'image_path' column")
    pipeline = build_pipeline(plan.spec)
    folder.mkdir(parents=True, exist_ok=True)
    total = len(train) * plan.copies
    records = []
    for n, (item_id, path) in enumerate(zip(train["item_id"], train["image_path"], strict=True)):
        image = read_image(resolve_image(path, image_root))
        for copy in range(plan.copies):
            sample = augment_image(pipeline, image, source_id=item_id, random_state=seed, copy=copy)
            target = write_image(sample.image, folder / f"{_file_stem(item_id)}~aug{copy}.png")
            shown = target if relative_to is None else target.relative_to(relative_to)
            params = {"seed": sample.seed, "transforms": sample.params}
            records.append(
                {"source": item_id, "copy": copy, "image_path": str(shown), "params": params}
            )
        _report("augment", (n + 1) * plan.copies, total, progress)
    return records


def _file_stem(item_id: str) -> str:
    from labelapp.export.image_folders import safe_name

    return safe_name(item_id)


def _write_format(
    rows: pd.DataFrame,
    fmt: str,
    out_dir: Path,
    *,
    name: str,
    split_names: Sequence[str],
    multi_label: bool,
    image_root: Path | None,
    progress: Progress,
) -> list[Path]:
    total = len(rows)
    done = 0
    _report("write", 0, total, progress)

    def step(n: int) -> None:
        nonlocal done
        done += n
        _report("write", done, total, progress)

    if fmt in ("csv", "jsonl", "parquet"):
        from labelapp.export import tabular

        writer = {"csv": tabular.write_csv, "jsonl": tabular.write_jsonl}.get(
            fmt, tabular.write_parquet
        )
        return writer(rows, out_dir, split_names=split_names, progress=step, prepared=True)
    if fmt == "huggingface":
        from labelapp.export.huggingface import write_hf_dataset

        paths = write_hf_dataset(rows, out_dir, name=name, split_names=split_names, prepared=True)
        step(total)
        return paths
    if fmt == "imagefolder":
        from labelapp.export.image_folders import write_image_tree

        return write_image_tree(
            rows,
            out_dir,
            image_root=image_root,
            split_names=split_names,
            progress=step,
            prepared=True,
        )
    from labelapp.export.label_studio import write_label_studio_json

    image = "text" not in rows and "image_path" in rows
    path = write_label_studio_json(
        rows,
        out_dir / "tasks.json",
        split_names=split_names,
        prepared=True,
        data_key="image" if image else "text",
        content_column="image_path" if image else "text",
        to_name="image" if image else "text",
        multi_label=multi_label,
    )
    step(total)
    return [path]


def _parameters(
    items: pd.DataFrame,
    fmt: str,
    seed: int,
    ratios: Sequence[float],
    split_names: Sequence[str],
    min_confidence: float,
    resplit: bool,
    near_duplicate_threshold: float | None,
    plan: AugmentPlan | None,
    name: str,
) -> dict[str, Any]:
    """What the manifest records of the export's parameters."""
    return {
        "format": fmt,
        "seed": int(seed),
        "ratios": [float(r) for r in ratios],
        "split_names": list(split_names),
        "min_confidence": float(min_confidence),
        "resplit": bool(resplit),
        "near_duplicate_threshold": near_duplicate_threshold,
        "augment": None if plan is None else plan.to_dict(),
        "name": name,
        "multi_label": bool(
            items["label"].dtype == object
            and items["label"].map(lambda v: isinstance(v, list | tuple | set | np.ndarray)).any()
        ),
    }


def write_export(
    items: pd.DataFrame,
    fmt: str,
    out_dir: str | Path,
    *,
    seed: int = 0,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    min_confidence: float = 0.0,
    resplit: bool = False,
    near_duplicate_threshold: float | None = 0.7,
    augment: str | Path | Mapping[str, Any] | AugmentPlan | None = None,
    name: str = "dataset",
    provenance: Mapping[str, Any] | None = None,
    code_version: str = "unknown",
    split_names: Sequence[str] = SPLIT_NAMES,
    image_root: str | Path | None = None,
    progress: Progress = None,
    without_content: np.ndarray | None = None,
) -> ExportResult:
    """Split ``items``, augment train if asked, write ``fmt`` files and ``manifest.json`` to
    ``out_dir``.

    ``items``: one row per item with ``item_id`` and its resolved ``label``; optional
    ``label_source`` (``human``/``adjudicated`` may go to dev/test, anything else is train-only
    and needs ``confidence >= min_confidence``), ``confidence``, ``group_key``, ``text`` or
    ``image_path``, ``metadata`` (dict or JSON text), ``content_hash`` and ``split`` (the
    previous assignment, kept unless ``resplit``). See :func:`augment.splits.assign_splits`.

    ``fmt``: one of :data:`FORMATS`. ``augment``: an :class:`~augment.plan.AugmentPlan` or what
    :func:`~augment.plan.load_augment_plan` reads (a JSON path, a shipped pipeline name, a dict).
    ``provenance``: what the labels came from, recorded as is. ``image_root``: where relative
    ``image_path`` values live. Augmented images go under ``out_dir/augmented/`` (rows'
    ``image_path`` relative to ``out_dir``; for ``imagefolder`` straight into the tree).
    Identical input gives byte-identical files and manifest (no timestamps).
    ``without_content``: per row, True where the caller left the content out
    (:func:`may_take_part`); such a row placed all the same raises before any file is written.
    """
    _check_items(items, fmt)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = None
    if augment is not None:
        plan = augment if isinstance(augment, AugmentPlan) else load_augment_plan(augment)
    _report("splits", 0, 1, progress)
    result = assign_splits(
        # What the rules read: the splitter copies its input once or twice, so not the rest.
        items[[c for c in _SPLIT_INPUT if c in items.columns]],
        random_state=seed,
        ratios=ratios,
        split_names=split_names,
        resplit=resplit,
        min_confidence=min_confidence,
        near_duplicate_threshold=near_duplicate_threshold,
    )
    _report("splits", 1, 1, progress)
    if without_content is not None:
        _check_content(items, result.splits, without_content)
    rows = rows_from_items(items, result.splits)
    options = (seed, ratios, split_names, min_confidence, resplit, near_duplicate_threshold)
    parameters = _parameters(items, fmt, *options, plan, name)
    return _write(
        rows,
        out,
        parameters=parameters,
        provenance=provenance,
        code_version=code_version,
        report=result.report,
        splits=result.splits,
        plan=plan,
        image_root=None if image_root is None else Path(image_root),
        progress=progress,
    )


def _write(
    rows: pd.DataFrame,
    out: Path,
    *,
    parameters: dict[str, Any],
    provenance: Mapping[str, Any] | None,
    code_version: str,
    report: BalanceReport,
    splits: pd.Series,
    plan: AugmentPlan | None,
    image_root: Path | None,
    progress: Progress,
) -> ExportResult:
    """Shared by write_export and export_version: augment, write, manifest."""
    fmt = parameters["format"]
    split_names = parameters["split_names"]
    originals = prepare_rows(rows, split_names=split_names)
    snapshot = snapshot_rows(originals)
    scratch = None
    if plan is not None:
        if parameters["format"] == "imagefolder":
            # The tree writer copies each image into place; generate them outside the tree.
            scratch = tempfile.TemporaryDirectory(prefix="labelapp-augment-")
            image_dir, relative_to = Path(scratch.name), None
        else:
            image_dir, relative_to = out / "augmented", out
        copies = _augment_rows(
            originals, plan, parameters["seed"], progress, image_dir, relative_to, image_root
        )
        rows = prepare_rows(
            pd.concat([originals, copies], ignore_index=True), split_names=split_names
        )
    else:
        rows = originals
    try:
        files = _write_format(
            rows,
            fmt,
            out,
            name=parameters["name"],
            split_names=split_names,
            multi_label=parameters.get("multi_label", False),
            image_root=image_root,
            progress=progress,
        )
    finally:
        if scratch is not None:
            scratch.cleanup()
    _report("manifest", 0, 1, progress)
    manifest = build_manifest(
        out,
        rows,
        parameters=parameters,
        code_version=code_version,
        provenance=provenance,
        split_report=report.to_dict(),
        snapshot=snapshot,
        prepared=True,
    )
    write_manifest(manifest, out)
    _report("manifest", 1, 1, progress)
    return ExportResult(manifest, splits, report, rows, snapshot, files)


def export_version(
    items: pd.DataFrame,
    snapshot: pd.DataFrame,
    manifest: Mapping[str, Any],
    out_dir: str | Path,
    *,
    image_root: str | Path | None = None,
    progress: Progress = None,
) -> ExportResult:
    """Write a past version again: same items, labels, splits, parameters, so the same bytes.

    ``items``: the items' current content (``item_id``, ``text``/``image_path``, ``metadata``,
    ``group_key``, ``content_hash``); labels, sources, confidences and splits come from the
    version's ``snapshot``. Raises if an item is gone or its content changed since, and if a
    written file differs from the manifest (e.g. a newer writer); the manifest is rewritten as it
    was.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ids = snapshot["item_id"].astype(str)
    content = items.assign(item_id=items["item_id"].astype(str)).set_index("item_id")
    missing = ids[~ids.isin(content.index)]
    if len(missing):
        raise ValueError(
            f"cannot re-export this version: {len(missing)} of its items are gone "
            f"(first: {missing.iloc[0]!r})"
        )
    # Every content column, the fixed ones and any extra the export carried (e.g. external_id);
    # labels, sources, confidences and splits come from the snapshot.
    keep = [c for c in content.columns if c not in ("split", "label", "label_source", "confidence")]
    rows = content.loc[ids, keep].reset_index()
    for column in ("split", "label", "label_source", "confidence"):
        rows[column] = snapshot[column].to_numpy()
    changed = content_digests(rows) != snapshot["content_digest"].to_numpy()
    if changed.any():
        raise ValueError(
            f"cannot re-export this version identically: the content of {int(changed.sum())} "
            f"items changed since (first: {rows.loc[changed, 'item_id'].iloc[0]!r})"
        )
    parameters = dict(manifest["parameters"])
    plan = load_augment_plan(parameters["augment"]) if parameters.get("augment") else None
    report = balance_report(
        rows["split"],
        rows["label"],
        rows["label_source"],
        split_names=tuple(parameters["split_names"]),
    )
    result = _write(
        rows,
        out,
        parameters=parameters,
        provenance=manifest.get("provenance"),
        code_version=manifest["code_version"],
        report=report,
        splits=rows.set_index("item_id")["split"],
        plan=plan,
        image_root=None if image_root is None else Path(image_root),
        progress=progress,
    )
    # The split report is the one recorded at the time (it holds notes about excluded items).
    write_manifest(dict(manifest), out)
    problems = verify_manifest(manifest, out)
    if any(problems.values()):
        raise ValueError(f"re-export differs from the recorded version: {json.dumps(problems)}")
    return ExportResult(
        dict(manifest), result.splits, result.report, result.rows, result.snapshot, result.files
    )
