"""Read a data set in WRENCH format: ``{train,valid,test}.json`` and ``label.json`` in a folder.

Each split maps ids to ``{"label": int, "weak_labels": [int, ...], "data": {"text": ...}}``
(Zhang et al., NeurIPS 2021 Datasets & Benchmarks). ``train.json`` may be missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SPLITS = ("train", "valid", "test")


@dataclass
class WrenchSplit:
    """One split: texts, gold labels (-1 if an item has none) and the ``(n, m)`` weak labels."""

    name: str
    texts: list[str]
    labels: np.ndarray
    weak_labels: np.ndarray


@dataclass
class WrenchDataset:
    path: Path
    class_names: list[str]
    splits: dict[str, WrenchSplit]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def _read_split(path: Path, name: str) -> WrenchSplit:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: expected a non-empty JSON object of id -> item")
    texts, labels, weak = [], [], []
    width = None
    for key, item in raw.items():
        if not isinstance(item, dict) or "weak_labels" not in item:
            raise ValueError(f"{path}: item {key!r} has no 'weak_labels'")
        votes = item["weak_labels"]
        if width is None:
            width = len(votes)
        if len(votes) != width:
            raise ValueError(
                f"{path}: item {key!r} has {len(votes)} weak labels, the first item has {width}"
            )
        data = item.get("data") or {}
        texts.append(str(data.get("text", "")))
        label = item.get("label")
        labels.append(-1 if label is None else int(label))
        weak.append(votes)
    L = np.asarray(weak, dtype=np.int64).reshape(len(weak), width or 0)
    return WrenchSplit(name, texts, np.asarray(labels, dtype=np.int64), L)


def load_wrench(path: str | Path) -> WrenchDataset:
    """Load a WRENCH folder; raise ``ValueError`` saying which file is missing or malformed."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path}: not a folder (expected WRENCH train/valid/test/label.json)")
    label_file = path / "label.json"
    if not label_file.is_file():
        raise ValueError(f"{path}: missing label.json (class index -> name)")
    names = json.loads(label_file.read_text(encoding="utf-8"))
    try:
        class_names = [str(names[str(i)]) for i in range(len(names))]
    except KeyError as exc:
        raise ValueError(f"{label_file}: keys must be 0..{len(names) - 1}") from exc
    splits = {
        s: _read_split(path / f"{s}.json", s) for s in SPLITS if (path / f"{s}.json").is_file()
    }
    for required in ("valid", "test"):
        if required not in splits:
            raise ValueError(f"{path}: missing {required}.json")
    widths = {s.weak_labels.shape[1] for s in splits.values()}
    if len(widths) != 1:
        raise ValueError(f"{path}: splits disagree on the number of labeling functions: {widths}")
    k = len(class_names)
    for split in splits.values():
        if split.weak_labels.size and split.weak_labels.max() >= k:
            raise ValueError(
                f"{path}/{split.name}.json: a weak label {split.weak_labels.max()} >= "
                f"{k} classes in label.json"
            )
    return WrenchDataset(path, class_names, splits)
