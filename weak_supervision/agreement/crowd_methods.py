"""Crowd aggregation methods side by side, and the rule that picks one.

Answers are a long table with columns ``item``, ``worker``, ``label`` (labels as strings).

Ours (no extra dependency): ``majority_vote``; ``wawa`` (worker agreement with aggregate:
majority vote weighted by each worker's agreement with the plain majority; crowd-kit 1.4.2's
``Wawa`` raises AttributeError on scikit-learn >= 1.6, so it is written here); ``dawid_skene``
(``weak_supervision.agreement.dawid_skene`` with a 0.01 pseudo-count; checked against Dawid & Skene
1979 and crowd-kit, and faster than crowd-kit's).
From crowd-kit (Apache-2.0, the optional extra ``pip install 'labelapp[crowd]'``):
``one_coin_dawid_skene``, ``glad`` (Whitehill et al. 2009), ``mace`` (Hovy et al. 2013) and
``mmsr`` (Ma & Olshevsky 2020: crowd-kit's M-MSR skills, then a skill-weighted vote here,
because crowd-kit's own final vote fails on pandas 3 when a skill is NaN).

``choose_aggregator``: with at least ``min_gold`` answered gold items, the method with the best
accuracy on them (methods never see the gold; ties go to the earlier method of ``METHODS``).
Without gold, the documented rule ``rule_without_gold``: Dawid-Skene when workers answered
enough items for their confusion matrices to be estimated (at least half the answers come from
workers with 10 or more answers) and items have 2 or more answers on average; otherwise
majority vote. Dawid-Skene is the best or near-best method on most data sets of Zheng et al.
(PVLDB 2017) and of the Crowd-Kit benchmark; with little overlap it has nothing to learn from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from weak_supervision.agreement.votes import argmax_first, encode_answers

OURS = ("dawid_skene", "majority_vote", "wawa")
FROM_CROWDKIT = ("one_coin_dawid_skene", "glad", "mace", "mmsr")
METHODS = OURS + FROM_CROWDKIT
MIN_WORKER_ANSWERS = 10
EXTRA_HINT = "pip install 'labelapp[crowd]' (or: pip install crowd-kit==1.4.2)"


def crowdkit_available() -> bool:
    try:
        import crowdkit.aggregation  # noqa: F401
    except ImportError:
        return False
    return True


def _crowdkit():
    try:
        import crowdkit.aggregation as aggregation
    except ImportError as exc:
        raise ImportError(
            f"GLAD, MACE, one-coin Dawid-Skene and M-MSR need crowd-kit, which is not "
            f"installed: {EXTRA_HINT}"
        ) from exc
    return aggregation


def _weighted_vote(answers: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Per item, the label with the largest sum of its workers' weights (ties: first class)."""
    encoded = encode_answers(answers, "item", "worker", "label")
    w = weights.reindex(encoded.annotators).fillna(0.0).to_numpy()[encoded.annotator]
    scores = np.zeros((encoded.n_items, encoded.n_classes))
    np.add.at(scores, (encoded.item, encoded.label), w)
    return pd.Series(encoded.classes[argmax_first(scores)], index=encoded.items, name="label")


def majority_vote_labels(answers: pd.DataFrame) -> pd.Series:
    return _weighted_vote(answers, pd.Series(1.0, index=answers["worker"].unique()))


def wawa_labels(answers: pd.DataFrame) -> pd.Series:
    """Majority vote, then each worker's share of answers equal to it as their weight."""
    majority = majority_vote_labels(answers)
    agrees = answers["label"].to_numpy() == majority.reindex(answers["item"]).to_numpy()
    skills = pd.Series(agrees, index=answers.index).groupby(answers["worker"]).mean()
    return _weighted_vote(answers, skills)


def dawid_skene_labels(answers: pd.DataFrame) -> pd.Series:
    from weak_supervision.agreement.dawid_skene import DawidSkene

    # A 0.01 pseudo-count keeps answers a worker never gave from probability 0 (D_Product:
    # 93.93 % without, 94.00 % with; bluebirds 89.81 % either way).
    return DawidSkene(smoothing=0.01).fit_predict(
        answers, item="item", annotator="worker", label="label"
    )


def _crowdkit_frame(answers: pd.DataFrame) -> pd.DataFrame:
    return answers.rename(columns={"item": "task"})[["task", "worker", "label"]]


def _crowdkit_labels(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    def run(answers: pd.DataFrame) -> pd.Series:
        aggregation = _crowdkit()
        data = _crowdkit_frame(answers)
        if name == "mmsr":
            model = aggregation.MMSR().fit(data)
            return _weighted_vote(answers, model.skills_.fillna(0.0))
        model = {
            "one_coin_dawid_skene": lambda: aggregation.OneCoinDawidSkene(n_iter=100),
            "glad": aggregation.GLAD,
            "mace": lambda: aggregation.MACE(random_state=0),
        }[name]()
        labels = model.fit_predict(data)
        return labels.rename_axis("item").rename("label")

    return run


AGGREGATE: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "majority_vote": majority_vote_labels,
    "wawa": wawa_labels,
    "dawid_skene": dawid_skene_labels,
    **{name: _crowdkit_labels(name) for name in FROM_CROWDKIT},
}


def aggregate(answers: pd.DataFrame, method: str) -> pd.Series:
    """One label per item (Series indexed by item) from ``method`` of ``METHODS``."""
    if method not in AGGREGATE:
        raise ValueError(f"unknown aggregation method {method!r}; choose from {', '.join(METHODS)}")
    missing = {"item", "worker", "label"} - set(answers.columns)
    if missing:
        raise ValueError(f"answers need columns item, worker, label; missing {sorted(missing)}")
    return AGGREGATE[method](answers[["item", "worker", "label"]].astype(str))


def rule_without_gold(answers: pd.DataFrame) -> tuple[str, str]:
    """``(method, why)`` when there is no gold: see the module docstring."""
    per_worker = answers.groupby("worker")["item"].transform("size")
    experienced = float((per_worker >= MIN_WORKER_ANSWERS).mean())
    per_item = len(answers) / max(answers["item"].nunique(), 1)
    if experienced >= 0.5 and per_item >= 2:
        return "dawid_skene", (
            f"no gold items; {experienced:.0%} of answers by workers with "
            f">= {MIN_WORKER_ANSWERS} answers, {per_item:.1f} answers per item: Dawid-Skene"
        )
    return "majority_vote", (
        f"no gold items; too little overlap to estimate workers ({experienced:.0%} of answers "
        f"by workers with >= {MIN_WORKER_ANSWERS} answers, {per_item:.1f} per item): majority vote"
    )


@dataclass
class AggregatorChoice:
    """The picked method (``name``), why, its labels, and every method's labels and gold
    accuracy (percent; empty without gold). ``skipped``: method -> why it did not run."""

    name: str
    reason: str
    labels: pd.Series
    all_labels: dict[str, pd.Series] = field(default_factory=dict)
    gold_accuracy: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def choose_aggregator(
    answers: pd.DataFrame,
    gold: pd.Series | None = None,
    methods: Iterable[str] | None = None,
    min_gold: int = 10,
) -> AggregatorChoice:
    """Run ``methods`` (default: all; crowd-kit's only when installed) on ``answers`` (columns
    item, worker, label) and pick one: best accuracy on ``gold`` (label per item) when at least
    ``min_gold`` gold items have answers, else ``rule_without_gold``. The gold labels are only
    compared with the methods' output, never given to them."""
    requested = list(methods) if methods is not None else list(METHODS)
    unknown = sorted(set(requested) - set(METHODS))
    if unknown or not requested:
        raise ValueError(
            f"unknown aggregation method(s) {unknown}; choose from {', '.join(METHODS)}"
        )
    answers = answers[["item", "worker", "label"]].astype(str)
    skipped: dict[str, str] = {}
    if methods is None and not crowdkit_available():
        skipped = {name: f"crowd-kit is not installed: {EXTRA_HINT}" for name in FROM_CROWDKIT}
    run = [m for m in METHODS if m in requested and m not in skipped]
    all_labels, seconds = {}, {}
    for name in run:
        start = time.perf_counter()
        try:
            all_labels[name] = aggregate(answers, name)
        except ImportError:
            raise
        except Exception as exc:  # a crowd-kit method failing on degenerate data
            if name not in FROM_CROWDKIT:
                raise
            skipped[name] = f"crowd-kit failed: {type(exc).__name__}: {exc}"[:200]
            continue
        seconds[name] = round(time.perf_counter() - start, 3)
    run = [m for m in run if m in all_labels]
    gold_accuracy: dict[str, float] = {}
    known = pd.Series(dtype=str) if gold is None else gold.dropna().astype(str)
    known = known[known.index.astype(str).isin(set(answers["item"]))]
    known.index = known.index.astype(str)
    if len(known) >= min_gold:
        for name, labels in all_labels.items():
            gold_accuracy[name] = round(
                100.0 * float((labels.reindex(known.index) == known).mean()), 4
            )
        name = max(run, key=lambda m: (gold_accuracy[m], -run.index(m)))
        reason = f"best accuracy on {len(known)} gold items ({gold_accuracy[name]:.2f} %)"
    else:
        name, reason = rule_without_gold(answers)
        if name not in all_labels:  # the rule's method was not requested
            name = run[0]
            reason += f"; not requested, so {name}"
        if gold is not None and len(known):
            reason = f"only {len(known)} gold items (< {min_gold}); " + reason
    return AggregatorChoice(
        name, reason, all_labels[name], all_labels, gold_accuracy, skipped, seconds
    )
