"""Dataset-version manifests (hashes, counts, sources, parameters, code version), snapshots, diffs.

A manifest is a JSON-ready dict written as ``manifest.json`` beside the exported files. ``files``
maps each file (relative path) to its sha256 and ``dataset_sha256`` hashes that listing;
``rows_sha256`` hashes the exported rows (id, split, label, source, confidence), so the same rows
in two formats share it; ``items_sha256`` hashes the snapshot (rows plus each item's content
digest). A snapshot is the compact per-item table a version keeps so it can be compared with
another (:func:`diff_snapshots`) or written again (:func:`labelapp.export.dataset.export_version`).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from labelapp.export.rows import SPLIT_NAMES, prepare_rows

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
SNAPSHOT_COLUMNS = ("item_id", "split", "label", "label_source", "confidence", "content_digest")
_HASH_KEY = "labelapp-export1"  # pandas' siphash key (16 bytes); changing it changes every digest


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def hash_files(out_dir: str | Path) -> dict[str, str]:
    """sha256 per file under ``out_dir`` (the manifest itself excluded), by sorted POSIX path."""
    root = Path(out_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in files}


def _frame_sha256(frame: pd.DataFrame) -> str:
    """sha256 over pandas' per-row 64-bit hashes (siphash with a fixed key, stable across runs)."""
    hashed = pd.util.hash_pandas_object(frame, index=False, hash_key=_HASH_KEY).to_numpy()
    return hashlib.sha256(hashed.astype("<u8").tobytes()).hexdigest()


def content_digests(rows: pd.DataFrame) -> np.ndarray:
    """Per row, a text that changes when its content does (object array of str).

    The item's ``content_hash`` when the rows carry one (the app stores a sha256 per item), else
    a 64-bit siphash of its text or image path, in decimal.
    """
    if "content_hash" in rows and rows["content_hash"].notna().all():
        return rows["content_hash"].astype(str).to_numpy(dtype=object)
    for column in ("text", "image_path"):
        if column in rows:
            values = rows[column].astype(object).where(rows[column].notna(), "")
            hashed = pd.util.hash_array(
                values.astype(str).to_numpy(dtype=object), hash_key=_HASH_KEY
            )
            return pa.array(hashed).cast(pa.string()).to_numpy(zero_copy_only=False)
    return np.full(len(rows), "", dtype=object)


def snapshot_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The per-item snapshot of prepared rows (augmented copies left out; they are re-derived)."""
    originals = rows
    if "augmented_from" in rows:
        originals = rows[rows["augmented_from"].isna()]
    snapshot = originals[list(SNAPSHOT_COLUMNS[:-1])].reset_index(drop=True)
    snapshot["content_digest"] = content_digests(originals.reset_index(drop=True))
    return snapshot


def write_snapshot(snapshot: pd.DataFrame, path: str | Path) -> Path:
    """Store a snapshot as Parquet (where the app keeps its versions)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.to_parquet(path, index=False)
    return path


def read_snapshot(path: str | Path) -> pd.DataFrame:
    """Load a snapshot written by :func:`write_snapshot`, checking its columns."""
    snapshot = pd.read_parquet(path)
    missing = [c for c in SNAPSHOT_COLUMNS if c not in snapshot]
    if missing:
        raise ValueError(f"{path} is not a version snapshot: it lacks columns {missing}")
    return snapshot


def rows_digest(rows: pd.DataFrame) -> str:
    """sha256 of the (item_id, split, label, label_source, confidence) rows, in their order."""
    return _frame_sha256(rows[["item_id", "split", "label", "label_source", "confidence"]])


def code_version(package_version: str, repo: str | Path | None = None) -> str:
    """``<package version>+g<commit>`` when a git checkout is at hand, else the package version."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return package_version
    return f"{package_version}+g{commit}" if commit else package_version


def _nested_counts(rows: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    counts = rows.groupby(["split", column], sort=True).size()
    nested: dict[str, dict[str, int]] = {}
    for (split, key), n in counts.items():
        nested.setdefault(str(split), {})[str(key)] = int(n)
    return nested


def _plain(value: Mapping[str, Any] | None) -> dict[str, Any]:
    return json.loads(json.dumps(dict(value or {}), sort_keys=True, default=str))


def build_manifest(
    out_dir: str | Path,
    rows: pd.DataFrame,
    *,
    parameters: Mapping[str, Any],
    code_version: str,
    provenance: Mapping[str, Any] | None = None,
    split_report: Mapping[str, Any] | None = None,
    snapshot: pd.DataFrame | None = None,
    prepared: bool = False,
) -> dict[str, Any]:
    """Describe an export folder and the (prepared) rows written to it.

    ``parameters``: what the export was asked for (format, seed, ratios, min confidence, augment).
    ``provenance``: e.g. the project, the LF set (ids and versions) and the label-model run id.
    ``split_report``: :meth:`augment.balance.BalanceReport.to_dict`. No timestamps: the same
    export gives the same manifest (the app records when it was made).
    """
    if not prepared:
        rows = prepare_rows(rows, split_names=parameters.get("split_names", SPLIT_NAMES))
    if snapshot is None:
        snapshot = snapshot_rows(rows)
    files = hash_files(out_dir)
    listing = "".join(f"{path}\t{digest}\n" for path, digest in files.items())
    augmented = int(rows["augmented_from"].notna().sum()) if "augmented_from" in rows else 0
    return {
        "manifest_version": MANIFEST_VERSION,
        "code_version": code_version,
        "parameters": _plain(parameters),
        "provenance": _plain(provenance),
        "n_rows": len(rows),
        "n_items": len(snapshot),
        "n_augmented": augmented,
        "counts": _nested_counts(rows, "label"),
        "label_sources": _nested_counts(rows, "label_source"),
        "split_report": _plain(split_report),
        "files": files,
        "dataset_sha256": hashlib.sha256(listing.encode()).hexdigest(),
        "rows_sha256": rows_digest(rows),
        "items_sha256": _frame_sha256(snapshot[list(SNAPSHOT_COLUMNS)]),
    }


def write_manifest(manifest: Mapping[str, Any], out_dir: str | Path) -> Path:
    """Write ``manifest.json`` (sorted keys, UTF-8) into ``out_dir``."""
    path = Path(out_dir) / MANIFEST_NAME
    path.write_text(
        json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return path


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Load ``manifest.json`` from an export folder (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {MANIFEST_NAME} at {path}; is this an export folder?")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        raise ValueError(
            f"{path} has manifest_version {manifest.get('manifest_version')!r}; this code reads "
            f"version {MANIFEST_VERSION}"
        )
    return manifest


def verify_manifest(manifest: Mapping[str, Any], out_dir: str | Path) -> dict[str, list[str]]:
    """Compare an export folder with its manifest: files ``missing``, ``changed`` and ``extra``."""
    actual = hash_files(out_dir)
    expected = manifest["files"]
    return {
        "missing": sorted(set(expected) - set(actual)),
        "changed": sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p]),
        "extra": sorted(set(actual) - set(expected)),
    }


def diff_snapshots(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, Any]:
    """Items ``added``, ``removed``, ``relabeled``, ``moved`` (split) and ``content_changed``.

    ``added``/``removed``/``content_changed`` list item ids (sorted); ``relabeled`` entries are
    ``{item_id, old, new, old_source, new_source}`` and ``moved`` entries ``{item_id, old, new}``.
    """
    columns = ["item_id", "split", "label", "label_source", "content_digest"]
    a = old[columns].astype({"item_id": str, "label": str}).set_index("item_id")
    b = new[columns].astype({"item_id": str, "label": str}).set_index("item_id")
    both = a.index.intersection(b.index).sort_values()
    a, b = a.loc[both], b.loc[both]
    relabeled = both[(a["label"] != b["label"]).to_numpy()]
    moved = both[(a["split"] != b["split"]).to_numpy()]
    changed = both[(a["content_digest"] != b["content_digest"]).to_numpy()]
    return {
        "added": sorted(new["item_id"].astype(str)[~new["item_id"].astype(str).isin(a.index)]),
        "removed": sorted(old["item_id"].astype(str)[~old["item_id"].astype(str).isin(b.index)]),
        "relabeled": [
            {
                "item_id": i,
                "old": a.at[i, "label"],
                "new": b.at[i, "label"],
                "old_source": a.at[i, "label_source"],
                "new_source": b.at[i, "label_source"],
            }
            for i in relabeled
        ],
        "moved": [{"item_id": i, "old": a.at[i, "split"], "new": b.at[i, "split"]} for i in moved],
        "content_changed": list(changed),
    }


def diff_manifests(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """What changed between two manifests: same data?, count deltas, parameters, files."""

    def flat(counts: Mapping[str, Mapping[str, int]]) -> dict[tuple[str, str], int]:
        return {(s, k): v for s, inner in counts.items() for k, v in inner.items()}

    a, b = flat(old["counts"]), flat(new["counts"])
    deltas = {f"{s}/{k}": b.get((s, k), 0) - a.get((s, k), 0) for s, k in sorted(set(a) | set(b))}
    params = sorted(
        k
        for k in set(old["parameters"]) | set(new["parameters"])
        if old["parameters"].get(k) != new["parameters"].get(k)
    )
    return {
        "same_items": old["items_sha256"] == new["items_sha256"],
        "same_rows": old["rows_sha256"] == new["rows_sha256"],
        "same_files": old["dataset_sha256"] == new["dataset_sha256"],
        "count_deltas": {k: v for k, v in deltas.items() if v},
        "changed_parameters": params,
        "code_version": [old["code_version"], new["code_version"]],
        "files_added": sorted(set(new["files"]) - set(old["files"])),
        "files_removed": sorted(set(old["files"]) - set(new["files"])),
        "files_changed": sorted(
            p for p in set(old["files"]) & set(new["files"]) if old["files"][p] != new["files"][p]
        ),
    }


def diff_versions(
    old_manifest: Mapping[str, Any],
    old_snapshot: pd.DataFrame,
    new_manifest: Mapping[str, Any],
    new_snapshot: pd.DataFrame,
) -> dict[str, Any]:
    """Two dataset versions compared: :func:`diff_manifests` plus the per-item
    :func:`diff_snapshots` (items added, removed, relabeled, moved, content changed)."""
    return {
        **diff_manifests(old_manifest, new_manifest),
        "items": diff_snapshots(old_snapshot, new_snapshot),
    }
