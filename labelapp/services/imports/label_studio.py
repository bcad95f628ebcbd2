"""Import a Label Studio JSON export: each task becomes an item; its labels become annotations.

Tasks are read by :func:`labelapp.export.read_label_studio_json` (the same reader our exports
round-trip through). An item's text is ``data[text_key]`` (default ``text``; ``--text-col`` picks
another key); ``data.group_key`` and ``data.metadata`` (or any other data keys) come along.

Labels keep their sources: an annotation is ``human`` (``adjudicated`` when it is the ground
truth, or whatever our own export wrote in ``label_source``); a prediction is its
``model_version`` (train-only at export; its score is not kept). Several annotations of one task
and source that disagree become the strict majority with source ``majority``, or nothing on a
tie (the report warns). A task exported from this project (``data.item_id`` is one of its items,
same text) comes back to that item instead of becoming a new one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import Item, Project
from labelapp.services.errors import UserError
from labelapp.services.imports.readers import scan_text
from labelapp.services.imports.validate import (
    MAX_ERRORS_SHOWN,
    Columns,
    ValidRows,
    content_hash,
    validate_table,
)

_CHUNK = 10_000  # ids per IN (...) query: well below PostgreSQL's and SQLite's parameter limits


@dataclass
class LabelStudioRows:
    """Validated items (as the importer stores them) and their labels per source."""

    valid: ValidRows
    labels: pd.DataFrame  # external_id, source, labels (list)
    warnings: list[str]


def _load(path: Path, name: str) -> list[dict[str, Any]]:
    scan_text(path, name)  # not UTF-8: refused naming the line and byte
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{name}: not UTF-8 ({exc.reason}); save the file as UTF-8") from None
    if not isinstance(tasks, list):
        raise UserError(
            f"{name}: a Label Studio export is a JSON list of tasks; this file holds a "
            f"{type(tasks).__name__}. Export from Label Studio as 'JSON'."
        )
    if not tasks:
        raise UserError(f"{name}: no tasks to import")
    return tasks


def _existing_ids(
    session: Session, project: Project, ids: list[str], texts: list[str]
) -> list[str]:
    """Ids of tasks that name one of this project's items (same text) replaced by its external
    id."""
    numeric = {int(i) for i in ids if i.isdigit() and len(i) < 19}
    if not numeric:
        return ids
    found: dict[int, tuple[str, str]] = {}
    wanted = sorted(numeric)
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(Item.id, Item.external_id, Item.content_hash).where(
                Item.project_id == project.id, Item.id.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update({item_id: (ext, h) for item_id, ext, h in rows})
    out = []
    for task_id, text in zip(ids, texts, strict=True):
        hit = found.get(int(task_id)) if task_id.isdigit() and len(task_id) < 19 else None
        out.append(hit[0] if hit and hit[1] == content_hash(text) else task_id)
    return out


def read_label_studio(
    session: Session,
    project: Project,
    path: Path,
    name: str,
    text_key: str | None,
    progress: Callable[[str, int, int], None],
) -> LabelStudioRows:
    """Read and validate every task and label; raise one :class:`UserError` listing problems."""
    from labelapp.export import read_label_studio_json

    key = text_key or "text"
    progress("read", 0, 1)
    tasks = _load(path, name)
    progress("read", 1, 1)
    progress("validate", 0, len(tasks))
    problems: list[tuple[int, str]] = []
    ids, texts, groups, metas = [], [], [], []
    for position, task in enumerate(tasks):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict):
            problems.append((position, "no 'data' object"))
            data = {}
        task_id = task.get("id", position) if isinstance(task, dict) else position
        ids.append(str(data.get("item_id", task_id)))  # as read_label_studio_json names it
        value = data.get(key)
        texts.append(value if isinstance(value, str) else "" if value is None else str(value))
        groups.append(None if data.get("group_key") is None else str(data["group_key"]))
        meta = dict(data["metadata"]) if isinstance(data.get("metadata"), dict) else {}
        for extra, item in data.items():
            if extra not in ("item_id", "split", "group_key", "metadata", key):
                meta.setdefault(extra, item)
        metas.append(json.dumps(meta, ensure_ascii=False, sort_keys=True))
        if "\\u0000" in metas[-1]:
            problems.append(
                (
                    position,
                    "the task's data holds a NUL character (\\x00); remove "
                    "it: the database cannot store it",
                )
            )
    if not any(texts):
        keys = sorted({k for t in tasks if isinstance(t, dict) for k in (t.get("data") or {})})
        raise UserError(
            f"{name}: no task has data[{key!r}]; the tasks' data keys are "
            f"{', '.join(keys) or '(none)'}. Name the key that holds the text as the text column."
        )

    def row_name(i: int) -> str:
        task = tasks[i] if i < len(tasks) else {}
        task_id = task.get("id") if isinstance(task, dict) else None
        return f"task #{i + 1}" + (f" (id {task_id})" if task_id is not None else "")

    _raise(problems, name, row_name)
    position_of = {task_id: position for position, task_id in enumerate(ids)}
    ids = _existing_ids(session, project, ids, texts)
    frame = pd.DataFrame({"id": ids, "text": texts, "group": groups})
    has_groups = any(g is not None for g in groups)
    columns = Columns(text="text", id="id", label=None, group="group" if has_groups else None)
    if not has_groups:
        frame = frame.drop(columns="group")
    valid = validate_table(
        frame, columns, [lab.name for lab in project.labels], project.multi_label, name, row_name
    )
    valid.frame["meta"] = [metas[r] for r in valid.frame["row"]]

    labels, warnings = _labels(
        tasks, ids, position_of, project, name, row_name, key, read_label_studio_json
    )
    progress("validate", len(tasks), len(tasks))
    return LabelStudioRows(valid, labels, warnings)


def _labels(
    tasks: list[dict[str, Any]],
    ids: list[str],
    position_of: dict[str, int],
    project: Project,
    name: str,
    row_name: Callable[[int], str],
    key: str,
    reader: Callable[..., pd.DataFrame],
) -> tuple[pd.DataFrame, list[str]]:
    """One label set per (item, source), checked against the project's labels.

    ``ids``: the items' external ids by task position; ``position_of``: the reader's item id
    (``data.item_id``, else the task id) -> task position.
    """
    known = {lab.name for lab in project.labels}
    try:
        rows = reader(tasks, data_key=key)
    except (ValueError, TypeError, AttributeError) as exc:
        raise UserError(f"{name}: cannot read the tasks' annotations: {exc}") from None
    problems: list[tuple[int, str]] = []
    answers: dict[tuple[int, str], list[tuple[str, ...]]] = {}
    for item_id, label, source in zip(
        rows["item_id"], rows["label"], rows["label_source"], strict=True
    ):
        position = position_of[str(item_id)]
        names = [n for n in str(label).split("|") if n]
        unknown = [n for n in names if n not in known]
        if unknown:
            problems.append(
                (
                    position,
                    f"unknown label {unknown[0]!r}; the project's labels are "
                    f"{', '.join(sorted(known))}",
                )
            )
        elif len(names) > 1 and not project.multi_label:
            problems.append((position, f"{len(names)} labels, but the project is single-label"))
        answers.setdefault((position, str(source)), []).append(tuple(sorted(names)))
    _raise(problems, name, row_name)
    records, ties, majorities = [], 0, 0
    for (position, source), given in answers.items():
        (top, n), *rest = Counter(given).most_common()
        if rest and n == rest[0][1]:
            ties += 1
            continue
        if rest:
            majorities += 1
            source = "majority"
        records.append({"external_id": ids[position], "source": source, "labels": list(top)})
    warnings = []
    if majorities:
        warnings.append(
            f"{majorities} task(s) had annotations that disagree: the majority label "
            "was kept with source 'majority' (train only)"
        )
    if ties:
        warnings.append(f"{ties} task(s) had annotations that tie: no label was kept for them")
    return pd.DataFrame.from_records(records, columns=["external_id", "source", "labels"]), warnings


def _raise(problems: list[tuple[int, str]], name: str, row_name: Callable[[int], str]) -> None:
    if not problems:
        return
    problems.sort()
    details = [f"{row_name(i)}: {msg}" for i, msg in problems[:MAX_ERRORS_SHOWN]]
    if len(problems) > len(details):
        details.append(f"... and {len(problems) - len(details)} more")
    raise UserError(
        f"{name}: {len(problems)} problem(s) found; nothing was imported. "
        "Fix these tasks and import the file again:",
        details,
    )
