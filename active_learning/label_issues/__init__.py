"""Label-issue detection: which human labels are most likely wrong, and why.

The app's label-issue job::

    from active_learning.label_issues import detect_label_issues

    issues = detect_label_issues(
        labels,                  # the human label of every labeled item (class values)
        X=features,              # their features (e.g. TextFeaturizer().fit_transform(texts));
                                 # or pred_probs=... if out-of-sample probabilities exist already
        classes=project_labels,  # column order of every per-class input (default: sorted labels)
        votes=vote_counts,       # optional (n x K): annotator answers per class
        lm_probs=label_model_probs,  # optional (n x K): label model from the LF votes
        duplicate_pairs=pairs,   # optional (m x 2): augment.duplicates.near_duplicate_pairs(texts)
        item_ids=ids,            # optional: names used in the reasons
    )
    issues.order[:50]            # review these first (flags, and labels trusted even less)
    issues.flagged, issues.scores, issues.suggested, issues.reasons

Building blocks: :func:`out_of_sample_probs` (stratified k-fold), confident learning
(:func:`confident_thresholds`, :func:`confident_joint`, :func:`estimate_joint`,
:func:`find_label_issues`, :func:`label_quality`, :func:`review_first`), written from the paper
(no cleanlab code).
"""

from active_learning.label_issues.confident import (
    FILTERS,
    RANKINGS,
    confident_joint,
    confident_thresholds,
    estimate_joint,
    estimated_issue_count,
    find_label_issues,
    label_quality,
    review_first,
)
from active_learning.label_issues.detect import detect_label_issues
from active_learning.label_issues.probs import default_estimator, out_of_sample_probs
from active_learning.label_issues.signals import LabelIssues

__all__ = [
    "FILTERS",
    "RANKINGS",
    "LabelIssues",
    "confident_joint",
    "confident_thresholds",
    "default_estimator",
    "detect_label_issues",
    "estimate_joint",
    "estimated_issue_count",
    "find_label_issues",
    "label_quality",
    "out_of_sample_probs",
    "review_first",
]
