"""``--include-unlabeled``: the items an export leaves out (no label, a tie, a weak label below the
minimum confidence) written beside the dataset as ``unlabeled.<ext>``, each with its weak label or
model prediction and confidence when it has one: a pool to pre-annotate elsewhere, as Label
Studio's "all tasks" export gives. The file is not a split: the manifest's files and hashes do
not cover it and a re-export of the version does not write it; the version records its count and
hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from labelapp.models import Project
from labelapp.services.labels import predictions

if TYPE_CHECKING:
    import pandas as pd


# Export format -> the unlabeled file's format (formats with a tree or card get plain JSON lines).
_FILE_FORMATS = {
    "csv": "csv",
    "jsonl": "jsonl",
    "parquet": "parquet",
    "huggingface": "jsonl",
    "imagefolder": "csv",
    "label_studio": "json",
}
COLUMNS = ("item_id", "external_id", "prediction", "prediction_source", "confidence")


def with_predictions(session: Session, project: Project, items: pd.DataFrame) -> pd.DataFrame:
    """``items`` (see :func:`~labelapp.services.export.rows.items_frame`) with ``prediction``
    (``a|b`` for several), ``prediction_source`` and ``confidence`` (empty without one); the
    caller keeps the rows the export left out."""
    rows = items.drop(columns=["split", "content_hash"], errors="ignore")
    guessed = predictions(session, project)
    found = [guessed.get(int(i)) for i in rows["item_id"]]
    rows = rows.assign(
        prediction=["|".join(sorted(g[0])) if g else None for g in found],
        prediction_source=[g[1] if g else None for g in found],
        confidence=[round(float(g[2]), 6) if g else None for g in found],
    )
    first = [c for c in COLUMNS if c in rows.columns]
    return rows[first + [c for c in rows.columns if c not in first]].reset_index(drop=True)


def write_unlabeled(
    rows: pd.DataFrame, fmt: str, out_dir: Path, content: str, multi_label: bool
) -> dict[str, Any]:
    """Write ``rows`` as ``unlabeled.<ext>`` in ``out_dir``; what the version records of it."""
    kind = _FILE_FORMATS[fmt]
    path = Path(out_dir) / f"unlabeled.{kind}"
    if kind == "csv":
        rows.to_csv(path, index=False)
    elif kind == "parquet":
        rows.to_parquet(path, index=False)
    elif kind == "jsonl":
        path.write_text(
            "".join(
                json.dumps(_plain(r), ensure_ascii=False, sort_keys=True) + "\n"
                for r in rows.to_dict(orient="records")
            ),
            encoding="utf-8",
        )
    else:
        tasks = [
            _task(n, _plain(r), content, multi_label)
            for n, r in enumerate(rows.to_dict(orient="records"), start=1)
        ]
        path.write_text(
            json.dumps(tasks, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8"
        )
    return {
        "file": path.name,
        "n_items": len(rows),
        "n_predicted": int(rows["prediction"].notna().sum()),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def write_left_out(
    pool: pd.DataFrame | None,
    snapshot: pd.DataFrame,
    fmt: str,
    out_dir: Path,
    content: str,
    multi_label: bool,
) -> dict[str, Any] | None:
    """The rows of ``pool`` the export's ``snapshot`` does not hold, written (None: no pool)."""
    if pool is None:
        return None
    exported = set(snapshot["item_id"].astype("int64"))
    return write_unlabeled(
        pool[~pool["item_id"].isin(exported)], fmt, out_dir, content, multi_label
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready: NaN as null, metadata text as its object."""
    out = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
    if isinstance(out.get("metadata"), str):
        out["metadata"] = json.loads(out["metadata"])
    out["item_id"] = int(out["item_id"])
    return out


def _task(number: int, row: dict[str, Any], content: str, multi_label: bool) -> dict[str, Any]:
    """A Label Studio task (``content``: ``text`` or ``image``); its prediction (if any) as a
    pre-annotation."""
    data = {"item_id": row["item_id"], "external_id": row.get("external_id")}
    data[content] = row.get("text" if content == "text" else "image_path")
    if row.get("metadata") is not None:
        data["metadata"] = row["metadata"]
    task: dict[str, Any] = {"id": number, "data": data, "annotations": [], "predictions": []}
    if row["prediction"]:
        choices = row["prediction"].split("|") if multi_label else [row["prediction"]]
        task["predictions"].append(
            {
                "model_version": row["prediction_source"],
                "score": row["confidence"],
                "result": [
                    {
                        "from_name": "label",
                        "id": f"r{number}",
                        "to_name": content,
                        "type": "choices",
                        "value": {"choices": choices},
                    }
                ],
            }
        )
    return task
