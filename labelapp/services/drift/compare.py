"""Compare two groups of items: every drift test, one multiple-testing correction, one verdict."""

from __future__ import annotations

from typing import Any

import pandas as pd

from labelapp.services.drift.classifier import domain_classifier
from labelapp.services.drift.stats import (
    LABEL,
    TEXT,
    chi2_test,
    column_kind,
    column_test,
    ks_test,
    oov_test,
)

ALPHA = 0.05
# A difference must also be large enough to matter: at a million items per group every tiny
# difference is significant. KS distance D and Cramér's V of at least 0.1 (a small effect), a
# domain AUC of at least 0.65. On the YouTube comments different videos give AUC 0.75 to 0.99 and
# random halves of one video at most 0.60 (the 0.65 was set knowing these figures).
MIN_EFFECT = {"ks": 0.1, "chi2": 0.1, "classifier": 0.15}
TEXT_LENGTH, OOV_RATE, DOMAIN = "$text_length", "$oov_rate", "$domain_classifier"


def compare_groups(
    a: pd.DataFrame, b: pd.DataFrame, alpha: float = ALPHA, seed: int = 0
) -> dict[str, Any]:
    """The drift report of ``b`` against ``a`` (see :mod:`labelapp.services.drift.stats`).

    ``columns`` holds one entry per metadata column and, for text, ``$text_length`` and
    ``$oov_rate``, and ``$domain_classifier``; ``p`` is the raw p-value, ``p_adjusted`` the
    Benjamini-Hochberg one that a column's ``drifted`` compares with ``alpha`` (which columns
    moved), with an effect of at least :data:`MIN_EFFECT`. The verdict ``drifted`` is the domain classifier's own test at ``alpha``: it is the
    omnibus test of all the features at once (same minimum effect) (text, numeric and categorical metadata), so it
    needs no correction, and its false alarms stay at ``alpha`` even where the per-column tests
    move together (a chance surplus of spam in one half shifts text length, vocabulary and
    labels at once). Without a classifier (too few items) any corrected column test decides.
    Concept drift is the separate verdict ``labels.drifted``.
    """
    meta = [c for c in a.columns.union(b.columns, sort=False) if c not in (TEXT, LABEL)]
    a, b = (
        a.reindex(columns=[*a.columns, *(c for c in meta if c not in a)]),
        b.reindex(columns=[*b.columns, *(c for c in meta if c not in b)]),
    )
    typed = {c: column_kind(a[c], b[c]) for c in meta}
    columns: dict[str, dict[str, Any]] = {c: column_test(*typed[c]) for c in meta}
    if TEXT in a and TEXT in b:
        columns[TEXT_LENGTH] = ks_test(a[TEXT].fillna("").str.len(), b[TEXT].fillna("").str.len())
        columns[OOV_RATE] = oov_test(a[TEXT].fillna(""), b[TEXT].fillna(""), seed)
    numeric = [c for c in meta if typed[c][0] == "numeric"]
    categories = [c for c in meta if typed[c][0] == "category"]
    columns[DOMAIN] = domain_classifier(a, b, numeric, categories, seed)
    labels = _label_test(a, b)
    _correct([*columns.values(), labels], alpha)
    omnibus = columns[DOMAIN]
    if omnibus["p"] is not None:
        omnibus["drifted"] = bool(
            omnibus["p"] < alpha and omnibus["effect"] >= MIN_EFFECT["classifier"]
        )
        drifted = omnibus["drifted"]
    else:
        drifted = any(t["drifted"] for t in columns.values())
    return {
        "a": len(a),
        "b": len(b),
        "domain_auc": columns[DOMAIN]["statistic"],
        "columns": columns,
        "labels": labels,
        "drifted": drifted,
    }


def _label_test(a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    """Concept drift: the human labels' distribution in A against B (chi-square)."""
    a_labels = a[LABEL].dropna() if LABEL in a else pd.Series(dtype=object)
    b_labels = b[LABEL].dropna() if LABEL in b else pd.Series(dtype=object)
    counts = {"n_a": len(a_labels), "n_b": len(b_labels)}
    if a_labels.empty or b_labels.empty:
        return {
            "test": "none",
            "statistic": None,
            "p": None,
            **counts,
            "reason": "no human labels in " + ("A" if a_labels.empty else "B"),
        }
    result = chi2_test(a_labels.astype(str), b_labels.astype(str))
    return {**result, **counts, "share_a": _shares(a_labels), "share_b": _shares(b_labels)}


def _shares(labels: pd.Series) -> dict[str, float]:
    return {
        k: round(float(v), 4) for k, v in labels.value_counts(normalize=True).sort_index().items()
    }


def _correct(tests: list[dict[str, Any]], alpha: float) -> None:
    """Benjamini-Hochberg over every test that has a p-value (scipy's false_discovery_control)."""
    from scipy.stats import false_discovery_control

    tested = [t for t in tests if t.get("p") is not None]
    adjusted = false_discovery_control([t["p"] for t in tested], method="bh") if tested else []
    for test, p in zip(tested, adjusted, strict=True):
        test["p_adjusted"] = float(p)
        test["drifted"] = bool(p < alpha and test["effect"] >= MIN_EFFECT[test["test"]])
    for test in tests:
        test.setdefault("drifted", False)
