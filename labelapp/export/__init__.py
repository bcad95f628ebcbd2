"""Export of labeled items to training formats, with a manifest per dataset version.

Pure modules on pandas/pyarrow (and the ``augment`` library): no Flask, no SQLAlchemy, no
database. The app turns its items into a DataFrame and calls one function::

    from labelapp.export import write_export

    result = write_export(
        items,                  # one row per item: item_id, label, label_source, confidence,
                                # group_key, text or image_path, metadata, content_hash, split
        "parquet",              # csv | jsonl | parquet | huggingface | imagefolder | label_studio
        "out/dir",
        seed=0, ratios=(0.8, 0.1, 0.1), min_confidence=0.9,
        augment=None,           # or a pipeline JSON path / shipped name / dict (train only)
        provenance={"project": "spam", "lf_set": [...], "label_model_run": 12},
        code_version="0.1.0+gabc123",   # manifest.code_version("0.1.0") adds the git commit
        image_root=data_dir,            # where relative image paths live (image projects)
        progress=lambda stage, done, total: ...,   # stages: splits, augment, write, manifest
    )
    result.manifest   # the dict also written to out/dir/manifest.json
    result.splits     # split per input row (<NA> = not exported): store it, so splits stay stable
    result.snapshot   # per-item table to keep with the version (write_snapshot)
    result.report     # balance report (counts per split and label, chi-square)

Label sources: ``human`` and ``adjudicated`` may go to dev/test; give an item whose annotators
disagreed and that no one adjudicated another source (e.g. ``majority``) so it stays in train.
Multi-label items carry a list as ``label``; rows hold the sorted labels joined by ``|``.

A past version: ``export_version(items, snapshot, manifest, out_dir)`` writes the same bytes
again (or raises, saying what changed); ``diff_snapshots(old, new)`` lists items added, removed,
relabeled and moved; ``diff_manifests`` compares counts, parameters and files;
``diff_versions`` does both. Label Studio JSON exports are read by
:func:`read_label_studio_json`.

Modules: :mod:`.rows` (canonical rows), :mod:`.tabular` (CSV, JSONL, Parquet),
:mod:`.huggingface`, :mod:`.image_folders`, :mod:`.label_studio`, :mod:`.manifest`,
:mod:`.dataset` (the entry points).
"""

from labelapp.export.dataset import (
    FORMATS,
    ExportResult,
    export_version,
    may_take_part,
    write_export,
)
from labelapp.export.label_studio import read_label_studio_json, to_label_studio_tasks
from labelapp.export.manifest import (
    diff_manifests,
    diff_snapshots,
    diff_versions,
    read_manifest,
    read_snapshot,
    verify_manifest,
    write_snapshot,
)
from labelapp.export.tabular import read_exported

__all__ = [
    "FORMATS",
    "ExportResult",
    "diff_manifests",
    "diff_snapshots",
    "diff_versions",
    "export_version",
    "may_take_part",
    "read_exported",
    "read_label_studio_json",
    "read_manifest",
    "read_snapshot",
    "to_label_studio_tasks",
    "verify_manifest",
    "write_export",
    "write_snapshot",
]
