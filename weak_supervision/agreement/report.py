"""Everything a project shows about agreement in one call: ``agreement_report(answers, labels)``.

Takes the long table of answers (item, annotator, label[, created_at]); the latest answer per item
and annotator counts. Returns an :class:`AgreementReport` whose ``to_dict()`` is JSON-ready (NaN
becomes null) for the API and the agreement page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from weak_supervision.agreement.alpha import LEVELS, Level, alpha_from_counts
from weak_supervision.agreement.bootstrap import ConfidenceInterval, bootstrap_agreement
from weak_supervision.agreement.data import counts_from_codes, latest_answers
from weak_supervision.agreement.dawid_skene import DawidSkene
from weak_supervision.agreement.human_level import HumanLevel, human_level
from weak_supervision.agreement.kappa import (
    fleiss_kappa_from_counts,
    pairwise_agreement_per_item,
    pairwise_kappa_long,
    percent_agreement_from_counts,
    specific_agreement_from_counts,
)
from weak_supervision.agreement.votes import annotator_accuracy, argmax_first, encode_answers


@dataclass(frozen=True)
class AgreementReport:
    """Agreement, reliability, consensus and human level of one set of answers.

    Scalars are :class:`ConfidenceInterval` (estimate with bootstrap low/high; low/high are NaN when
    fewer than two items have two or more answers). Tables are DataFrames:

    - ``annotators``: per annotator n_answers, n_overlap (answers on items with >= 2 annotators),
      mean_kappa (mean Cohen's kappa with the others), agreement_with_others (human level),
      ds_accuracy and ds_mean_recall (Dawid-Skene), gold_n and gold_accuracy (if gold was given).
    - ``per_label``: per label n_answers, share, specific_agreement with low/high, ds_prior,
      human (how often an annotator agrees when the others' consensus is this label).
    - ``kappa`` / ``kappa_items``: annotator x annotator Cohen's kappa and shared items;
      ``weighted_kappa`` (linear weights over the label order) when ``level`` is not nominal.
    - ``consensus``: per item n_answers, majority, majority_share, tied, agreement (share of
      agreeing annotator pairs), consensus (Dawid-Skene) and confidence (its posterior).
    - ``disagreements``: the items to adjudicate (annotators disagree, or confidence below
      ``min_confidence``), lowest confidence first, with every annotator's label.
    - ``confusion``: per annotator, Dawid-Skene's confusion matrix (rows: true, columns: answer).
    """

    labels: list
    level: str
    n_items: int
    n_annotators: int
    n_answers: int
    n_overlap_items: int
    percent_agreement: ConfidenceInterval
    fleiss_kappa: ConfidenceInterval
    krippendorff_alpha: dict[str, ConfidenceInterval]
    per_label: pd.DataFrame
    annotators: pd.DataFrame
    kappa: pd.DataFrame
    kappa_items: pd.DataFrame
    weighted_kappa: pd.DataFrame | None
    consensus: pd.DataFrame
    disagreements: pd.DataFrame
    confusion: dict[Any, pd.DataFrame]
    human_level: HumanLevel

    def to_dict(
        self, include_consensus: bool = False, max_disagreements: int | None = None
    ) -> dict:
        """The report as plain JSON types (lists, dicts, numbers, strings, null for NaN).

        The per-item ``consensus`` table (one record per item) is left out unless
        ``include_consensus``; ``max_disagreements`` keeps only the first (least confident) items
        of the adjudication list, whose full length is ``n_disagreements``.
        """
        backlog = self.disagreements
        if max_disagreements is not None:
            backlog = backlog.head(max_disagreements)

        def matrix(frame: pd.DataFrame | None) -> dict | None:
            if frame is None:
                return None
            return {"annotators": _plain(list(frame.index)), "values": _plain(frame.to_numpy())}

        return {
            "labels": _plain(self.labels),
            "level": self.level,
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_answers": self.n_answers,
            "n_overlap_items": self.n_overlap_items,
            "percent_agreement": _plain(self.percent_agreement.as_dict()),
            "fleiss_kappa": _plain(self.fleiss_kappa.as_dict()),
            "krippendorff_alpha": {
                level: _plain(ci.as_dict()) for level, ci in self.krippendorff_alpha.items()
            },
            "per_label": _records(self.per_label, "label"),
            "annotators": _records(self.annotators, "annotator"),
            "kappa": matrix(self.kappa),
            "kappa_items": matrix(self.kappa_items),
            "weighted_kappa": matrix(self.weighted_kappa),
            "consensus": _records(self.consensus, "item") if include_consensus else None,
            "n_disagreements": len(self.disagreements),
            "disagreements": _records(backlog, "item"),
            "confusion": {
                str(name): {"labels": _plain(list(m.index)), "values": _plain(m.to_numpy())}
                for name, m in self.confusion.items()
            },
            "human_level": _records(self.human_level.summary(), "label"),
        }


def _plain(value):
    """numpy/pandas scalars and arrays to JSON types; NaN and NA to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _records(frame: pd.DataFrame, index_name: str) -> list[dict]:
    table = frame.reset_index(names=index_name)
    return [_plain(row) for row in table.to_dict(orient="records")]


def _no_interval(value: float) -> ConfidenceInterval:
    return ConfidenceInterval(float(value), float("nan"), float("nan"), float("nan"), 0)


def _gold_series(gold, classes: list) -> pd.Series | None:
    if gold is None:
        return None
    series = gold if isinstance(gold, pd.Series) else pd.Series(dict(gold))
    series = series.dropna()
    outside = pd.Index(classes).get_indexer(series.to_numpy()) < 0
    unknown = sorted({repr(v) for v in series.to_numpy()[outside]})
    if unknown:
        raise ValueError(
            f"gold holds label(s) {unknown[:5]} that are not among labels {classes}; "
            "fix the gold answers (same type as the labels) or add the labels."
        )
    return series


def agreement_report(
    answers: pd.DataFrame,
    labels: Sequence | None = None,
    gold: pd.Series | Mapping | None = None,
    *,
    level: Level = "nominal",
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    created_at: str | None = "created_at",
    n_resamples: int = 1000,
    confidence: float = 0.95,
    min_confidence: float | None = None,
    random_state: int | None = 0,
    dawid_skene: DawidSkene | None = None,
) -> AgreementReport:
    """Agreement metrics, annotator reliability, consensus and human level of ``answers``.

    ``labels`` is the project's label set in its order (the order ordinal metrics use; default: the
    sorted answered labels). ``gold`` maps item -> known label. ``level`` is the labels' scale:
    "nominal" (default), "ordinal" or "interval"/"ratio" (numeric labels); alpha is given for
    "nominal" and for ``level``, and a non-nominal level adds linear-weighted kappa.
    ``created_at`` orders repeated answers (used if the column exists). Bootstrap intervals
    resample items ``n_resamples`` times (0 = no intervals). ``min_confidence`` also sends items
    whose Dawid-Skene posterior is below it to ``disagreements``. Dawid-Skene defaults to
    ``DawidSkene(smoothing=0.01)`` (a small pseudo-count, so no answer is deemed impossible) and
    takes the gold items' known labels as fixed.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}.")
    if created_at is not None and created_at not in answers.columns:
        created_at = None
    latest = latest_answers(answers, item, annotator, label, created_at)
    encoded = encode_answers(latest, item, annotator, label, labels)
    classes = encoded.classes.tolist()
    n_items, n_classes = encoded.n_items, encoded.n_classes
    counts = counts_from_codes(encoded.item, encoded.label, n_items, n_classes)
    n_per_item = np.asarray(counts.sum(axis=1)).ravel()
    overlap = n_per_item >= 2
    levels: tuple[Level, ...] = ("nominal",) if level == "nominal" else ("nominal", level)

    pa, fk, alpha, specific = _summary_metrics(
        counts, encoded.classes, levels, n_resamples, confidence, random_state
    )
    pairwise = _pairwise_kappa(encoded)
    weighted = None if level == "nominal" else _pairwise_kappa(encoded, weights="linear").kappa

    gold_series = _gold_series(gold, classes)
    model = dawid_skene or DawidSkene(smoothing=0.01)
    model.fit(latest, item, annotator, label, classes=classes, gold=gold_series)
    humans = human_level(latest, classes, item, annotator, label)
    consensus = _consensus_table(counts, encoded, model.posteriors_.to_numpy(), item)
    disagreements = _disagreements(latest, consensus, item, annotator, label, min_confidence)

    annotator_table = _annotator_table(encoded, overlap, pairwise.kappa, model, humans)
    if gold_series is not None:
        _add_gold_accuracy(annotator_table, latest, gold_series, (item, annotator, label))

    return AgreementReport(
        labels=classes,
        level=level,
        n_items=n_items,
        n_annotators=len(encoded.annotators),
        n_answers=len(encoded.item),
        n_overlap_items=int(overlap.sum()),
        percent_agreement=pa,
        fleiss_kappa=fk,
        krippendorff_alpha=alpha,
        per_label=_per_label_table(encoded, specific, model, humans),
        annotators=annotator_table,
        kappa=pairwise.kappa,
        kappa_items=pairwise.n_items,
        weighted_kappa=weighted,
        consensus=consensus,
        disagreements=disagreements,
        confusion={name: model.annotator_confusion(name) for name in model.annotators_},
        human_level=humans,
    )


def _annotator_table(encoded, overlap, kappa, model: DawidSkene, humans: HumanLevel):
    n_ann = len(encoded.annotators)
    off_diagonal = kappa.to_numpy().copy()
    np.fill_diagonal(off_diagonal, np.nan)
    with np.errstate(invalid="ignore"):
        counts = np.where(np.isfinite(off_diagonal), 1, 0).sum(axis=1)
        mean_kappa = np.where(
            counts > 0, np.nansum(off_diagonal, axis=1) / np.maximum(counts, 1), np.nan
        )
    reliability = model.annotator_reliability()
    with_others = humans.per_annotator()
    table = pd.DataFrame(
        {
            "n_answers": np.bincount(encoded.annotator, minlength=n_ann),
            "n_overlap": np.bincount(encoded.annotator[overlap[encoded.item]], minlength=n_ann),
            "mean_kappa": mean_kappa,
            "agreement_with_others": with_others["agreement"]
            .reindex(encoded.annotators)
            .to_numpy(),
            "ds_accuracy": reliability["accuracy"].to_numpy(),
            "ds_mean_recall": reliability["mean_recall"].to_numpy(),
        },
        index=pd.Index(encoded.annotators, name="annotator"),
    )
    return table


def _disagreements(
    latest: pd.DataFrame,
    consensus: pd.DataFrame,
    item: str,
    annotator: str,
    label: str,
    min_confidence: float | None,
) -> pd.DataFrame:
    disagree = (consensus["n_answers"] >= 2) & (consensus["majority_share"] < 1.0)
    low = (
        consensus["confidence"] < min_confidence
        if min_confidence is not None
        else pd.Series(False, index=consensus.index)
    )
    flagged = consensus[disagree | low].copy()
    flagged["reason"] = np.where(disagree[flagged.index], "disagreement", "low_confidence")
    rows = latest[latest[item].isin(flagged.index)].sort_values(item, kind="stable")
    keys = rows[item].to_numpy()
    names, given = rows[annotator].to_numpy().tolist(), rows[label].to_numpy().tolist()
    edges = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    starts, ends = (np.r_[0, edges], np.r_[edges, len(keys)]) if len(keys) else ([], [])
    by_item = {
        keys[a]: dict(zip(names[a:b], given[a:b], strict=True))
        for a, b in zip(list(starts), list(ends), strict=True)
    }
    flagged["labels"] = [by_item.get(key, {}) for key in flagged.index]
    return flagged.sort_values(["confidence", "majority_share"], kind="stable")


def _add_gold_accuracy(table: pd.DataFrame, latest, gold: pd.Series, columns) -> None:
    """Each annotator's number of gold items answered and accuracy on them, as two columns."""
    accuracy = annotator_accuracy(latest, gold, *columns)
    table["gold_n"] = accuracy["n_gold"].reindex(table.index).fillna(0).astype(np.int64)
    table["gold_accuracy"] = accuracy["accuracy"].reindex(table.index)


def _pairwise_kappa(encoded, weights: str | None = None):
    """Cohen's kappa of every annotator pair on their shared items (weighted if asked)."""
    return pairwise_kappa_long(
        encoded.item,
        encoded.annotator,
        encoded.label,
        encoded.annotators,
        encoded.n_classes,
        weights=weights,
    )


def _summary_metrics(counts, categories: np.ndarray, levels, n_resamples, confidence, seed):
    """Percent agreement, Fleiss' kappa, alpha per level and specific agreement per label, with
    bootstrap intervals when at least two items overlap and resamples are asked for."""
    n_per_item = np.asarray(counts.sum(axis=1)).ravel()
    if (n_per_item >= 2).sum() >= 2 and n_resamples > 0:
        found = bootstrap_agreement(counts, categories, levels, n_resamples, confidence, seed)
        return found.percent_agreement, found.fleiss_kappa, found.alpha, found.per_label
    alpha = {lv: _no_interval(alpha_from_counts(counts, lv, categories)) for lv in levels}
    specific = pd.DataFrame(
        {"estimate": specific_agreement_from_counts(counts), "low": np.nan, "high": np.nan},
        index=pd.Index(categories.tolist(), name="label"),
    )
    pa = _no_interval(percent_agreement_from_counts(counts))
    return pa, _no_interval(fleiss_kappa_from_counts(counts)), alpha, specific


def _consensus_table(counts, encoded, posteriors: np.ndarray, item: str) -> pd.DataFrame:
    """Per item: majority vote, pair agreement and the Dawid-Skene consensus."""
    n_per_item = np.asarray(counts.sum(axis=1)).ravel()
    overlap = n_per_item >= 2
    dense = counts.toarray()
    top = dense.max(axis=1)
    pair_agreement = np.full(encoded.n_items, np.nan)
    pair_agreement[overlap] = pairwise_agreement_per_item(counts[overlap], n_per_item[overlap])
    return pd.DataFrame(
        {
            "n_answers": n_per_item.astype(np.int64),
            "majority": encoded.classes[argmax_first(dense)],
            "majority_share": top / n_per_item,
            "tied": (dense == top[:, None]).sum(axis=1) > 1,
            "agreement": pair_agreement,
            "consensus": encoded.classes[argmax_first(posteriors)],
            "confidence": posteriors.max(axis=1),
        },
        index=pd.Index(encoded.items, name=item),
    )


def _per_label_table(encoded, specific: pd.DataFrame, model: DawidSkene, humans: HumanLevel):
    """Per label: answers, share, specific agreement with its interval, DS prior, human level."""
    label_counts = np.bincount(encoded.label, minlength=encoded.n_classes)
    per_label = pd.DataFrame(
        {
            "n_answers": label_counts,
            "share": label_counts / label_counts.sum(),
            "specific_agreement": specific["estimate"].to_numpy(),
            "low": specific["low"].to_numpy(),
            "high": specific["high"].to_numpy(),
            "ds_prior": model.priors_,
        },
        index=pd.Index(encoded.classes.tolist(), name="label"),
    )
    human_per_label = humans.per_label()
    per_label["human_n"] = human_per_label["n"].to_numpy()
    per_label["human"] = human_per_label["human"].to_numpy()
    return per_label
