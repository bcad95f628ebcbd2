"""Dataset versions after the fact: their summaries, the diff of two, and exporting one again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import session_scope
from labelapp.models import (
    DatasetVersion,
    Item,
    Project,
)
from labelapp.services.errors import UserError
from labelapp.services.export.rows import items_frame
from labelapp.services.export.run import empty_dir
from labelapp.services.export.snapshots import get_version, version_snapshot
from labelapp.services.export.stages import StageProgress, no_progress


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
    progress: StageProgress = no_progress,
) -> Path:
    """Write a past version again, byte for byte, into the empty folder ``out_dir``."""
    from labelapp.export.dataset import export_version

    with session_scope(sessions) as session:
        version = get_version(session, project_id, number)
        project = session.get(Project, project_id)
        snapshot = version_snapshot(version)
        items = items_frame(session, project, [int(i) for i in snapshot["item_id"]])
        manifest = dict(version.manifest)
    target = empty_dir(Path(out_dir))
    try:
        export_version(
            items, snapshot, manifest, target, image_root=config.media_dir(), progress=progress
        )
    except ValueError as exc:
        raise UserError(f"cannot re-export version {number}: {exc}") from None
    return target
