"""Human level: how often a single annotator agrees with the consensus, and a model next to it.

On items labelled by several annotators, each answer is compared with the majority of the *other*
annotators on that item (leave-one-out, so the annotator's own vote cannot make the consensus
agree with it). The share of answers that match is the human level, overall and per consensus
label. A model is scored on exactly the same footing: it takes each annotator's place in turn, its
prediction for the item compared with the same leave-one-out consensus. If the model's agreement
is below the annotators', it is still below human level on these items.

Answers with no reference are left out: the item has no other annotator, or the others' majority
is tied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from weak_supervision.agreement.data import latest_answers
from weak_supervision.agreement.votes import argmax_first, encode_answers

# Answers whose "others" count vectors (answers x classes) are held in memory at once.
_CELLS_PER_CHUNK = 4_000_000


@dataclass(frozen=True)
class HumanLevel:
    """Each answer next to the leave-one-out consensus of the other annotators on its item.

    ``pairs`` has one row per answer that has a reference: item, annotator, label (the answer),
    reference (the others' majority), agrees.
    """

    pairs: pd.DataFrame
    classes: list
    n_answers: int
    n_without_reference: int

    @property
    def overall(self) -> float:
        """Share of answers that agree with the others' consensus (NaN if there is none)."""
        return float(self.pairs["agrees"].mean()) if len(self.pairs) else float("nan")

    def per_label(self) -> pd.DataFrame:
        """Per consensus label: answers compared (n) and the share that agree (human)."""
        grouped = self.pairs.groupby("reference", sort=False)["agrees"]
        table = pd.DataFrame({"n": grouped.size(), "human": grouped.mean()})
        table = table.reindex(self.classes)
        table["n"] = table["n"].fillna(0).astype(np.int64)
        table.index.name = "label"
        return table

    def per_annotator(self) -> pd.DataFrame:
        """Per annotator: answers compared (n) and the share that agree with the others."""
        grouped = self.pairs.groupby("annotator")["agrees"]
        return pd.DataFrame({"n": grouped.size(), "agreement": grouped.mean()})

    def summary(self) -> pd.DataFrame:
        """Rows "overall" and one per label; columns n and human."""
        overall = pd.DataFrame({"n": [len(self.pairs)], "human": [self.overall]}, index=["overall"])
        return pd.concat([overall, self.per_label()])

    def score_model(self, predictions) -> pd.DataFrame:
        """The model's agreement with the same consensus, on the same answers, next to the human's.

        ``predictions``: the model's label per item (a Series indexed by item, or a mapping).
        Only answers on items with a prediction are compared, for both the annotators and the
        model. Rows "overall" and one per consensus label; columns n (answers), items, human,
        model, gap (model - human; negative means below human level).
        """
        predicted = (
            pd.Series(predictions) if not isinstance(predictions, pd.Series) else predictions
        )
        if not predicted.index.is_unique:
            raise ValueError("predictions must hold one label per item; its index has duplicates.")
        pairs = self.pairs[self.pairs["item"].isin(predicted.index)]
        if pairs.empty:
            raise ValueError(
                "no prediction is for an item with a consensus to compare against; predictions "
                "must be indexed by the same item ids as the answers."
            )
        model_agrees = predicted.reindex(pairs["item"]).to_numpy() == pairs["reference"].to_numpy()
        pairs = pairs.assign(model=model_agrees)

        def row(group: pd.DataFrame) -> dict:
            return {
                "n": len(group),
                "items": group["item"].nunique(),
                "human": group["agrees"].mean() if len(group) else np.nan,
                "model": group["model"].mean() if len(group) else np.nan,
            }

        rows = {"overall": row(pairs)}
        for label in self.classes:
            rows[label] = row(pairs[pairs["reference"] == label])
        table = pd.DataFrame.from_dict(rows, orient="index")
        table["gap"] = table["model"] - table["human"]
        return table


def human_level(
    answers: pd.DataFrame,
    classes=None,
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    created_at: str | None = None,
) -> HumanLevel:
    """Compare every answer with the majority of the other annotators on its item.

    ``answers`` is a long table (one row per answer; the latest per item and annotator counts).
    ``classes`` is the label set (default: the answered labels). A tie among the others means
    no reference, so that answer is left out rather than judged by a tie-break rule.
    """
    latest = latest_answers(answers, item, annotator, label, created_at)
    encoded = encode_answers(latest, item, annotator, label, classes)
    n_classes = encoded.n_classes
    counts = encoded.vote_counts().toarray()
    reference = np.full(len(encoded.item), -1, dtype=np.int64)
    chunk = max(1, _CELLS_PER_CHUNK // max(n_classes, 1))
    for start in range(0, len(encoded.item), chunk):
        rows = slice(start, start + chunk)
        others = counts[encoded.item[rows]]
        others[np.arange(len(others)), encoded.label[rows]] -= 1
        top = others.max(axis=1)
        unique_top = (others == top[:, None]).sum(axis=1) == 1
        reference[rows] = np.where((top > 0) & unique_top, argmax_first(others), -1)
    has_reference = reference >= 0
    classes_list = encoded.classes.tolist()
    pairs = pd.DataFrame(
        {
            "item": encoded.items[encoded.item[has_reference]],
            "annotator": encoded.annotators[encoded.annotator[has_reference]],
            "label": encoded.classes[encoded.label[has_reference]],
            "reference": encoded.classes[reference[has_reference]],
            "agrees": encoded.label[has_reference] == reference[has_reference],
        }
    )
    return HumanLevel(
        pairs=pairs,
        classes=classes_list,
        n_answers=len(encoded.item),
        n_without_reference=int((~has_reference).sum()),
    )
