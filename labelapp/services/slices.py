"""Slices: how the model and the annotators do per value of a metadata column and per class.

The model's accuracy is held out: out-of-fold predictions (5-fold, logistic regression on TF-IDF
of the text) on the items people labeled, so no item is judged by a model that saw its label.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from labelapp.models import Project
from labelapp.services.errors import NotFound, UserError

CLASS_KEY = "$label"
RESERVED = ("item_id", "import_id", "split", "$text", CLASS_KEY)


def slice_report(
    session: Session, project: Project, column: str | None, seed: int = 0
) -> dict[str, Any]:
    """Per value of metadata ``column`` (None: per class only) and per class: items, human
    labels, the model's held-out accuracy with its 95% interval, the human level where there is
    overlap, the gap. Reads only."""
    from labelapp.services.drift.service import project_items
    from labelapp.services.overview import live_labels
    from labelapp.services.slice_stats import agreement_hits, slice_rows

    items = project_items(session, project)
    if column is not None and (column not in items.columns or column in RESERVED):
        known = [c for c in items.columns if c not in RESERVED]
        raise NotFound(
            f"no metadata column {column!r} in project {project.name!r}; its columns "
            f"are {', '.join(known) or 'none'}"
        )
    items["label"] = items.pop(CLASS_KEY)
    items["prediction"] = _out_of_fold(items, project, seed)
    answers: dict[int, dict[int, list[str]]] = {}
    for item_id, user_id, labels in live_labels(session, project.id):
        answers.setdefault(item_id, {})[user_id] = labels
    level = {i: agreement_hits(a) for i, a in answers.items()}
    items["human_hits"] = items["item_id"].map(lambda i: level.get(i, (0, 0))[0])
    items["human_judged"] = items["item_id"].map(lambda i: level.get(i, (0, 0))[1])
    labeled = items[items["label"].notna()]
    scored = labeled[labeled["prediction"].notna()]
    return {
        "by": column or "",
        "items": len(items),
        "human_labels": len(labeled),
        "model_accuracy": float((scored["prediction"] == scored["label"]).mean())
        if len(scored)
        else None,
        "slices": slice_rows(items, column) if column else [],
        "classes": slice_rows(labeled, "label"),
    }


def _out_of_fold(items: Any, project: Project, seed: int) -> Any:
    """The model's out-of-fold prediction for each human-labeled item (None elsewhere)."""
    import pandas as pd

    from active_learning.label_issues.probs import out_of_sample_probs

    predictions = pd.Series([None] * len(items), index=items.index, dtype=object)
    labeled = items[items["label"].notna()]
    if "$text" not in items or labeled["label"].nunique() < 2:
        return predictions
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(min_df=1, sublinear_tf=True).fit_transform(labeled["$text"].fillna(""))
    y = labeled["label"].to_numpy()
    try:
        probs = out_of_sample_probs(X, y, random_state=seed)
    except ValueError as exc:
        raise UserError(f"cannot judge the model on slices: {exc}") from None
    classes = sorted(set(y.tolist()))
    predictions.loc[labeled.index] = [classes[i] for i in probs.argmax(axis=1)]
    return predictions
