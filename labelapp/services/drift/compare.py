"""Compare two groups of items: every drift test, one multiple-testing correction, one verdict."""

from __future__ import annotations

from typing import Any

import pandas as pd

from labelapp.services.drift.classifier import domain_classifier
from labelapp.services.drift.rule import DriftRule
from labelapp.services.drift.stats import (
    LABEL,
    TEXT,
    TEXT_LENGTH,
    chi2_test,
    column_kind,
    column_test,
    draw_samples,
    ks_test,
    oov_test,
)

OOV_RATE, DOMAIN = "$oov_rate", "$domain_classifier"


def compare_groups(
    a: pd.DataFrame,
    b: pd.DataFrame,
    seed: int = 0,
    rule: DriftRule | None = None,
    samples: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """The drift report of ``b`` against ``a`` (see :mod:`labelapp.services.drift.stats`).

    ``columns`` holds one entry per metadata column and, for text, ``$text_length`` and
    ``$oov_rate``, and ``$domain_classifier``; ``p`` is the raw p-value, ``p_adjusted`` the
    Benjamini-Hochberg one that a column's ``drifted`` compares with the rule's ``alpha`` (which
    columns moved), with at least the rule's small effect (:mod:`.rule`; each test's
    ``min_effect``). The verdict ``drifted`` is the domain classifier's: its AUC is, at
    confidence 1 - ``alpha``, above ``min_auc`` (a minimum-effect test, :mod:`.rule`). It is the
    omnibus test of all the features at once (text, numeric and categorical metadata), so it
    needs no correction, and its false alarms stay below ``alpha`` even where the per-column
    tests move together (a chance surplus of spam in one half shifts text length, vocabulary and
    labels at once). Without a classifier (too few items) any corrected column test decides.
    Concept drift is the separate verdict ``labels.drifted``.

    The text is ``$text``, or, for the whole groups, only its length ``$text_length`` with the
    texts in ``samples``: the rows :func:`~.stats.draw_samples` picks with ``seed``, which are
    all the out-of-vocabulary test and the classifier look at (the database then reads a million
    lengths, not a million texts).
    """
    meta = [
        c for c in a.columns.union(b.columns, sort=False) if c not in (TEXT, LABEL, TEXT_LENGTH)
    ]
    a, b = _with_columns(a, meta), _with_columns(b, meta)
    a_sample, b_sample = (
        (_with_columns(s, meta) for s in samples) if samples else draw_samples(a, b, seed)
    )
    typed = {c: column_kind(a[c], b[c]) for c in meta}
    columns: dict[str, dict[str, Any]] = {c: column_test(*typed[c]) for c in meta}
    if TEXT in a_sample and TEXT in b_sample:
        columns[TEXT_LENGTH] = ks_test(_lengths(a), _lengths(b))
        columns[OOV_RATE] = oov_test(a_sample[TEXT].fillna(""), b_sample[TEXT].fillna(""), seed)
    numeric = [c for c in meta if typed[c][0] == "numeric"]
    categories = [c for c in meta if typed[c][0] == "category"]
    rule = rule or DriftRule()
    columns[DOMAIN] = domain_classifier(a_sample, b_sample, numeric, categories, seed, rule)
    labels = _label_test(a, b)
    _correct([*columns.values(), labels], rule)
    omnibus = columns[DOMAIN]
    if omnibus["p"] is not None:
        omnibus["drifted"] = rule.domain_drifted(omnibus)
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


def _with_columns(frame: pd.DataFrame, meta: list[str]) -> pd.DataFrame:
    return frame.reindex(columns=[*frame.columns, *(c for c in meta if c not in frame)])


def _lengths(group: pd.DataFrame) -> pd.Series:
    if TEXT_LENGTH in group:
        return group[TEXT_LENGTH].fillna(0)
    return group[TEXT].fillna("").str.len()


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


def _correct(tests: list[dict[str, Any]], rule: DriftRule) -> None:
    """Benjamini-Hochberg over every test that has a p-value (scipy's false_discovery_control)."""
    from scipy.stats import false_discovery_control

    tested = [t for t in tests if t.get("p") is not None]
    adjusted = false_discovery_control([t["p"] for t in tested], method="bh") if tested else []
    for test, p in zip(tested, adjusted, strict=True):
        test["p_adjusted"] = float(p)
        test["min_effect"] = rule.min_effect(test["test"])
        test["drifted"] = rule.drifted(test, float(p))
    for test in tests:
        test.setdefault("drifted", False)
