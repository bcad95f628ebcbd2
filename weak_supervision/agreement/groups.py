"""Agreement per group of answers: before and after a guideline change, per week, per batch.

A guideline change is judged by comparing agreement among the answers given under each version;
agreement over time by the agreement of the items completed in each period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from weak_supervision.agreement.alpha import Level, alpha_from_counts
from weak_supervision.agreement.data import counts_from_codes, latest_answers
from weak_supervision.agreement.kappa import fleiss_kappa_from_counts, percent_agreement_from_counts
from weak_supervision.agreement.votes import encode_answers


def _metrics(group: pd.DataFrame, classes, item, annotator, label, level: Level) -> dict:
    encoded = encode_answers(group, item, annotator, label, classes)
    counts = counts_from_codes(encoded.item, encoded.label, encoded.n_items, encoded.n_classes)
    n_per_item = np.asarray(counts.sum(axis=1)).ravel()
    return {
        "n_answers": len(group),
        "n_items": encoded.n_items,
        "n_overlap_items": int((n_per_item >= 2).sum()),
        "percent_agreement": percent_agreement_from_counts(counts),
        "fleiss_kappa": fleiss_kappa_from_counts(counts),
        "krippendorff_alpha": alpha_from_counts(counts, level, encoded.classes),
    }


def agreement_by(
    answers: pd.DataFrame,
    by: str,
    labels=None,
    level: Level = "nominal",
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    created_at: str | None = None,
) -> pd.DataFrame:
    """Agreement among the answers of each value of column ``by`` (e.g. ``guideline_version``).

    Only answers in the same group are paired: agreement under version 2 uses only answers given
    under version 2. One row per group (sorted): n_answers, n_items, n_overlap_items,
    percent_agreement, fleiss_kappa, krippendorff_alpha (at ``level``).
    """
    if by not in answers.columns:
        raise ValueError(
            f"answers has no column {by!r} to group by; it has {list(answers.columns)}."
        )
    latest = latest_answers(answers, item, annotator, label, created_at)
    classes = labels if labels is not None else sorted(latest[label].unique())
    rows = {
        key: _metrics(group, classes, item, annotator, label, level)
        for key, group in latest.groupby(by, sort=True)
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = by
    return table


def agreement_over_time(
    answers: pd.DataFrame,
    freq: str = "W",
    labels=None,
    level: Level = "nominal",
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    created_at: str = "created_at",
) -> pd.DataFrame:
    """Agreement of the items completed in each period (``freq``: a pandas period such as "D",
    "W", "M"); an item belongs to the period of its latest answer, so all its answers are paired."""
    latest = latest_answers(answers, item, annotator, label, created_at)
    times = pd.to_datetime(latest[created_at])
    if times.dt.tz is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    completed = times.groupby(latest[item]).transform("max")
    period = completed.dt.to_period(freq).astype(str)
    return agreement_by(
        latest.assign(_period=period.to_numpy()), "_period", labels, level, item, annotator, label
    ).rename_axis("period")
