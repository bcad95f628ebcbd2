"""Answers as a long table (item, annotator, label): encoding, votes, majority vote, gold accuracy.

Annotators are treated like labeling functions: noisy sources voting on each item. A long table is
the natural shape for sparse overlap (each item seen by a few of many annotators); every row is one
answer, and repeated answers by the same annotator on an item all count (as in Dawid & Skene's
data, where one observer examined each patient three times). Deduplicate first if only the latest
answer should count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class EncodedAnswers:
    """Answers as integer codes into ``items``, ``annotators`` and ``classes`` (sorted)."""

    item: np.ndarray
    annotator: np.ndarray
    label: np.ndarray
    items: pd.Index
    annotators: pd.Index
    classes: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def vote_counts(self) -> sp.csr_matrix:
        """Sparse items x classes matrix of how many answers gave each class to each item."""
        counts = sp.csr_matrix(
            (np.ones(len(self.item)), (self.item, self.label)),
            shape=(self.n_items, self.n_classes),
        )
        counts.sum_duplicates()
        return counts


def encode_answers(
    answers: pd.DataFrame,
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    classes=None,
) -> EncodedAnswers:
    """Validate a long table of answers and factorize it into integer codes.

    ``classes`` fixes the label set and its order (e.g. a project's labels, some never answered);
    by default it is the sorted set of answered labels.
    """
    missing = [c for c in (item, annotator, label) if c not in answers.columns]
    if missing:
        raise ValueError(
            f"answers has no column(s) {missing}; it has {list(answers.columns)}. "
            "Pass the column names with item=, annotator=, label=."
        )
    for column in (item, annotator, label):
        empty = answers[column].isna().to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise ValueError(
                f"answers column {column!r} is empty in {int(empty.sum())} row(s), first at row "
                f"{row}; "
                "drop unanswered rows before aggregating."
            )
    if len(answers) == 0:
        raise ValueError("answers is empty; there is nothing to aggregate.")
    item_codes, items = pd.factorize(answers[item], sort=True)
    annotator_codes, annotators = pd.factorize(answers[annotator], sort=True)
    if classes is None:
        label_codes, class_index = pd.factorize(answers[label], sort=True)
        class_values = np.asarray(class_index)
        if len({isinstance(c, str) for c in class_values}) > 1:
            raise ValueError(
                f"answers column {label!r} mixes string and non-string labels "
                f"({class_values.tolist()[:6]}); 1 and '1' would count as different labels. "
                "Convert the labels to one type, or pass the label set as classes=."
            )
    else:
        class_values = np.asarray(list(classes))
        if len(set(class_values.tolist())) != len(class_values):
            raise ValueError(f"classes must be distinct, got {class_values.tolist()}.")
        label_codes = pd.Index(class_values).get_indexer(answers[label])
        unknown = label_codes < 0
        if unknown.any():
            raise ValueError(
                f"answers hold label(s) {sorted(set(answers[label][unknown].tolist()))[:5]} "
                "that are "
                f"not among classes {class_values.tolist()}; add them to classes."
            )
    return EncodedAnswers(
        item=np.asarray(item_codes, dtype=np.int64),
        annotator=np.asarray(annotator_codes, dtype=np.int64),
        label=np.asarray(label_codes, dtype=np.int64),
        items=pd.Index(items),
        annotators=pd.Index(annotators),
        classes=class_values,
    )


def argmax_first(scores: np.ndarray) -> np.ndarray:
    """Row-wise argmax; a tie goes to the class that comes first in the classes order."""
    return np.argmax(scores, axis=1)


def majority_vote(
    answers: pd.DataFrame,
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    classes=None,
) -> pd.DataFrame:
    """The most frequent answer per item, its vote share, and whether it was a tie.

    Tie rule (deterministic): among the classes with the most votes, the one that comes first in
    ``classes`` order (sorted labels by default) wins; ``tied`` marks those items so an app can
    send them to adjudication instead of trusting the rule.
    """
    encoded = encode_answers(answers, item, annotator, label, classes)
    counts = encoded.vote_counts().toarray()
    winner = argmax_first(counts)
    top = counts.max(axis=1)
    return pd.DataFrame(
        {
            "label": encoded.classes[winner],
            "share": top / counts.sum(axis=1),
            "n_answers": counts.sum(axis=1).astype(np.int64),
            "tied": (counts == top[:, None]).sum(axis=1) > 1,
        },
        index=pd.Index(encoded.items, name=item),
    )


def annotator_accuracy(
    answers: pd.DataFrame,
    gold: pd.Series,
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
) -> pd.DataFrame:
    """Each annotator's accuracy on gold items (``gold``: known label indexed by item).

    Returns one row per annotator who answered at least one gold item: ``n_gold`` answers on gold
    items, ``n_correct`` and ``accuracy``, sorted by accuracy (worst first).
    """
    if not isinstance(gold, pd.Series):
        raise ValueError("gold must be a pandas Series of known labels indexed by item.")
    on_gold = answers[answers[item].isin(gold.index)]
    truth = gold.reindex(on_gold[item]).to_numpy()
    correct = on_gold[label].to_numpy() == truth
    table = (
        pd.DataFrame({annotator: on_gold[annotator].to_numpy(), "correct": correct})
        .groupby(annotator)["correct"]
        .agg(n_gold="size", n_correct="sum")
    )
    table["n_correct"] = table["n_correct"].astype(np.int64)
    table["accuracy"] = table["n_correct"] / table["n_gold"]
    return table.sort_values(["accuracy", "n_gold"], ascending=[True, False])
