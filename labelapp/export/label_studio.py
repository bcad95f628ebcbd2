"""Label Studio JSON: export tasks with annotations (human labels) and predictions (others), and
import.

Format (labelstud.io/guide/task_format): a JSON list of tasks ``{"id", "data", "annotations":
[{"result": [...], "completed_by"}], "predictions": [{"model_version", "score", "result"}]}``; a
classification result is
``{"from_name", "to_name", "type": "choices", "value": {"choices": [...]}}``.
Human sources become annotations, other sources predictions (``model_version`` = the source,
``score`` = confidence). Our split, group key, metadata and item id travel in ``data``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from labelapp.export.rows import SPLIT_NAMES, prepare_rows

HUMAN_SOURCES = ("human", "adjudicated", "corrected")


def _choice_result(
    label: str, from_name: str, to_name: str, result_id: str, multi_label: bool
) -> dict[str, Any]:
    choices = label.split("|") if multi_label else [label]
    return {
        "from_name": from_name,
        "id": result_id,
        "to_name": to_name,
        "type": "choices",
        "value": {"choices": choices},
    }


def to_label_studio_tasks(
    rows: pd.DataFrame,
    *,
    data_key: str = "text",
    content_column: str = "text",
    from_name: str = "label",
    to_name: str = "text",
    human_sources: Sequence[str] = HUMAN_SOURCES,
    split_names: Sequence[str] = SPLIT_NAMES,
    prepared: bool = False,
    multi_label: bool = False,
) -> list[dict[str, Any]]:
    """One Label Studio task per row (task ids 1..n in canonical row order).

    ``multi_label=True``: a label ``a|b`` (a label set, as multi-label rows hold it) becomes the
    choices ``["a", "b"]``.
    """
    if not prepared:
        rows = prepare_rows(rows, split_names=split_names)
    tasks = []
    for number, row in enumerate(rows.to_dict(orient="records"), start=1):
        data: dict[str, Any] = {"item_id": row["item_id"], "split": row["split"]}
        if content_column in row and row[content_column] is not None:
            data[data_key] = row[content_column]
        if row.get("group_key") is not None and row.get("group_key") == row.get("group_key"):
            data["group_key"] = row["group_key"]
        if row.get("metadata") is not None:
            data["metadata"] = json.loads(row["metadata"])
        result = [_choice_result(row["label"], from_name, to_name, f"r{number}", multi_label)]
        task: dict[str, Any] = {"id": number, "data": data, "annotations": [], "predictions": []}
        if row["label_source"] in human_sources:
            task["annotations"].append(
                {
                    "id": number,
                    "result": result,
                    "was_cancelled": False,
                    "ground_truth": row["label_source"] in ("adjudicated", "corrected"),
                    "completed_by": row.get("annotator")
                    if row.get("annotator") == row.get("annotator")
                    else None,
                    "label_source": row["label_source"],
                    "confidence": row["confidence"],
                }
            )
        else:
            task["predictions"].append(
                {"model_version": row["label_source"], "score": row["confidence"], "result": result}
            )
        tasks.append(task)
    return tasks


def write_label_studio_json(rows: pd.DataFrame, path: str | Path, **options: Any) -> Path:
    """Write the tasks as one JSON file (sorted keys, UTF-8) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tasks = to_label_studio_tasks(rows, **options)
    path.write_text(
        json.dumps(tasks, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8"
    )
    return path


def _labels_of(result: list[dict[str, Any]], from_name: str | None) -> list[str]:
    labels: list[str] = []
    for region in result or []:
        if from_name is not None and region.get("from_name") != from_name:
            continue
        value = region.get("value", {})
        kind = region.get("type", "choices")
        labels.extend(value.get(kind, value.get("choices", [])))
    return labels


#: The columns of :func:`read_label_studio_json`'s rows, in order.
READ_COLUMNS = (
    "item_id",
    "task_id",
    "text",
    "label",
    "label_source",
    "confidence",
    "annotator",
    "split",
    "group_key",
    "metadata",
)


def _load_tasks(source: str | Path | list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The task list from a file path or an already parsed export."""
    if isinstance(source, str | Path):
        try:
            tasks = json.loads(Path(source).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{source} is not valid JSON: {exc}") from None
    else:
        tasks = source
    if not isinstance(tasks, list):
        raise ValueError(
            "a Label Studio JSON export is a list of tasks; got " + type(tasks).__name__
        )
    return tasks


def _task_base(task: dict[str, Any], position: int, data_key: str) -> dict[str, Any]:
    """The columns every row of a task shares (its ids, text, split, group key, metadata)."""
    if "data" not in task:
        raise ValueError(f"task #{position} (id {task.get('id')!r}) has no 'data' object")
    data = task["data"]
    return {
        "item_id": str(data.get("item_id", task.get("id", position))),
        "task_id": task.get("id"),
        "text": data.get(data_key),
        "split": data.get("split"),
        "group_key": data.get("group_key"),
        "metadata": json.dumps(
            data["metadata"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        if "metadata" in data
        else None,
    }


def _annotation_rows(
    task: dict[str, Any], base: dict[str, Any], from_name: str | None, include_cancelled: bool
) -> list[dict[str, Any]]:
    """One row per annotation (``completions`` in old exports) that has a label."""
    rows = []
    for annotation in task.get("annotations", task.get("completions", [])):
        if annotation.get("was_cancelled") and not include_cancelled:
            continue
        labels = _labels_of(annotation.get("result", []), from_name)
        if not labels:
            continue
        source = annotation.get("label_source") or (
            "adjudicated" if annotation.get("ground_truth") else "human"
        )
        rows.append(
            {
                **base,
                "label": "|".join(sorted(labels)),
                "label_source": source,
                "confidence": float(annotation.get("confidence", 1.0)),
                "annotator": annotation.get("completed_by"),
            }
        )
    return rows


def _prediction_rows(
    task: dict[str, Any], base: dict[str, Any], from_name: str | None
) -> list[dict[str, Any]]:
    """One row per prediction that has a label; its source is the model version."""
    rows = []
    for prediction in task.get("predictions", []):
        labels = _labels_of(prediction.get("result", []), from_name)
        if not labels:
            continue
        score = prediction.get("score")
        rows.append(
            {
                **base,
                "label": "|".join(sorted(labels)),
                "label_source": str(prediction.get("model_version") or "prediction"),
                "confidence": float("nan") if score is None else float(score),
                "annotator": None,
            }
        )
    return rows


def read_label_studio_json(
    source: str | Path | list[dict[str, Any]],
    *,
    data_key: str = "text",
    from_name: str | None = None,
    include_predictions: bool = True,
    include_cancelled: bool = False,
) -> pd.DataFrame:
    """Rows from a Label Studio JSON export: one per (task, annotation) and per (task, prediction).

    Columns: ``item_id`` (our id from ``data.item_id``, else the task id), ``task_id``, ``text``
    (``data[data_key]``), ``label`` (choices sorted and joined by ``|`` when several),
    ``label_source`` (``human``/``adjudicated`` for annotations, the model version for
    predictions), ``confidence``, ``annotator``, ``split``, ``group_key``, ``metadata`` (JSON
    text). ``from_name`` picks one control tag when the project has several.
    """
    records = []
    for position, task in enumerate(_load_tasks(source)):
        base = _task_base(task, position, data_key)
        records.extend(_annotation_rows(task, base, from_name, include_cancelled))
        if include_predictions:
            records.extend(_prediction_rows(task, base, from_name))
    return pd.DataFrame.from_records(records, columns=list(READ_COLUMNS))
