"""Inter-annotator agreement, annotator reliability, consensus, human level: the public API.

Input is the long table a project stores, a pandas DataFrame with one row per answer:
``item, annotator, label[, created_at]`` (other column names via ``item=``, ``annotator=``,
``label=``). Only the latest answer per (item, annotator) counts (by ``created_at`` when present).

One call for a project's agreement page, API and CLI table::

    report = agreement_report(df, labels=["neg", "neu", "pos"], gold=gold_series)
    report.to_dict()        # JSON-ready, NaN -> null (include_consensus=, max_disagreements=)

``agreement_report(answers, labels=None, gold=None, *, level="nominal", n_resamples=1000,
min_confidence=None, ...) -> AgreementReport`` with

- ``percent_agreement``, ``fleiss_kappa``, ``krippendorff_alpha[level]``: estimate and bootstrap
  interval (items resampled, seeded) -- alpha for "nominal" and for ``level`` ("ordinal",
  "interval", "ratio"); missing answers are allowed everywhere;
- ``kappa`` / ``kappa_items``: Cohen's kappa of every annotator pair and their shared items
  (``weighted_kappa``, linear weights, when ``level`` is not nominal);
- ``per_label``: specific agreement per label with its interval, answer counts, Dawid-Skene prior,
  and the human level per label;
- ``annotators``: answers, overlap answers, mean kappa, agreement with the others, Dawid-Skene
  accuracy and mean recall, gold accuracy (``gold``: item -> known label);
- ``confusion``: each annotator's Dawid-Skene confusion matrix (gold items' labels held fixed);
- ``consensus``: per item majority vote, its share, ties, pair agreement, Dawid-Skene consensus
  and confidence; ``disagreements``: the items for adjudication (annotators disagree, or
  confidence < ``min_confidence``), lowest confidence first, with who answered what;
- ``human_level``: a :class:`HumanLevel`; ``report.human_level.score_model(predictions)`` puts a
  model's agreement with the same consensus, on the same answers, next to the annotators'.

The pieces, for other uses:

- ratings matrices (items x annotators, NaN = missing; ``categories=`` fixes the label order):
  ``percent_agreement``, ``fleiss_kappa``, ``krippendorff_alpha(ratings, level)``,
  ``pairwise_cohen_kappa(ratings, weights)``, ``specific_agreement``; ``ratings_matrix(df)``
  pivots a long table; ``fleiss_kappa_from_counts`` takes an items x categories count table;
- two annotators: ``cohen_kappa(a, b, weights)``; ``cohen_kappa_from_table(table)`` adds the
  asymptotic standard error and interval (as SAS PROC FREQ);
- intervals: ``bootstrap_agreement(counts, categories)`` (all metrics at once, fast) and
  ``bootstrap_ci(statistic, ratings)`` (any statistic);
- reliability and consensus: ``DawidSkene().fit(df, gold=None)`` (``predict``, ``predict_proba``,
  ``annotator_confusion``, ``annotator_reliability``), ``majority_vote(df)``,
  ``annotator_accuracy(df, gold)``;
- human level: ``human_level(df)`` -> :class:`HumanLevel` (``overall``, ``per_label()``,
  ``per_annotator()``, ``score_model(predictions)``);
- groups: ``agreement_by(df, "guideline_version")`` (before/after a guideline change),
  ``agreement_over_time(df, freq="W")``;
- crowd files (``question,worker,answer`` / ``question,truth``): ``load_answers``, ``load_truth``,
  ``evaluate_crowd`` (majority vote and Dawid-Skene scored against the truth);
- plots (:mod:`weak_supervision.agreement.plots`, matplotlib imported on use): ``kappa_heatmap``,
  ``annotator_plot`` (Dawid-Skene accuracy, agreement with others, gold accuracy),
  ``agreement_over_time_plot``; ``figure_png(figure)`` gives PNG bytes.

Everything is numpy/pandas/scipy (and scikit-learn's kappa); no Flask, no SQLAlchemy.
"""

from weak_supervision.agreement.alpha import (
    LEVELS,
    Level,
    alpha_from_counts,
    coincidence_matrix,
    krippendorff_alpha,
)
from weak_supervision.agreement.bootstrap import (
    AgreementIntervals,
    ConfidenceInterval,
    bootstrap_agreement,
    bootstrap_ci,
)
from weak_supervision.agreement.crowd import evaluate_crowd, load_answers, load_truth
from weak_supervision.agreement.data import (
    category_counts,
    encode_ratings,
    latest_answers,
    ratings_matrix,
)
from weak_supervision.agreement.dawid_skene import DawidSkene
from weak_supervision.agreement.groups import agreement_by, agreement_over_time
from weak_supervision.agreement.human_level import HumanLevel, human_level
from weak_supervision.agreement.kappa import (
    KappaEstimate,
    PairwiseKappa,
    cohen_kappa,
    cohen_kappa_from_table,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    pairwise_cohen_kappa,
    percent_agreement,
    specific_agreement,
)
from weak_supervision.agreement.report import AgreementReport, agreement_report
from weak_supervision.agreement.votes import annotator_accuracy, encode_answers, majority_vote

__all__ = [
    "LEVELS",
    "AgreementIntervals",
    "AgreementReport",
    "ConfidenceInterval",
    "DawidSkene",
    "HumanLevel",
    "KappaEstimate",
    "Level",
    "PairwiseKappa",
    "agreement_by",
    "agreement_over_time",
    "agreement_report",
    "alpha_from_counts",
    "annotator_accuracy",
    "bootstrap_agreement",
    "bootstrap_ci",
    "category_counts",
    "cohen_kappa",
    "cohen_kappa_from_table",
    "coincidence_matrix",
    "encode_answers",
    "encode_ratings",
    "evaluate_crowd",
    "fleiss_kappa",
    "fleiss_kappa_from_counts",
    "human_level",
    "krippendorff_alpha",
    "latest_answers",
    "load_answers",
    "load_truth",
    "majority_vote",
    "pairwise_cohen_kappa",
    "percent_agreement",
    "ratings_matrix",
    "specific_agreement",
]
