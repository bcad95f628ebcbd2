"""Label-issue detection: confident learning by hand, real flipped labels, reasons, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from active_learning.label_issues import (
    confident_joint,
    confident_thresholds,
    detect_label_issues,
    estimate_joint,
    estimated_issue_count,
    find_label_issues,
    label_quality,
    out_of_sample_probs,
    review_first,
)
from active_learning.text_features import TextFeaturizer
from tests.paths import SHARED_DATA

# Six items, three classes. Thresholds: t0 = (0.9+0.6+0.2)/3, t1 = (0.8+0.4)/2, t2 = 0.6.
HAND_LABELS = np.array([0, 0, 0, 1, 1, 2])
HAND_PROBS = np.array(
    [
        [0.9, 0.05, 0.05],  # labeled 0, confidently 0
        [0.6, 0.3, 0.1],  # labeled 0, 0.6 >= t0: confidently 0
        [0.2, 0.7, 0.1],  # labeled 0, 0.7 >= t1: confidently 1 -> off-diagonal
        [0.1, 0.8, 0.1],  # labeled 1, confidently 1
        [0.5, 0.4, 0.1],  # labeled 1, below every threshold: not counted
        [0.3, 0.1, 0.6],  # labeled 2, exactly at t2: counted
    ]
)


def test_thresholds_and_confident_joint_match_the_hand_computation():
    t = confident_thresholds(HAND_LABELS, HAND_PROBS)
    np.testing.assert_allclose(t, [1.7 / 3, 0.6, 0.6])
    raw = confident_joint(HAND_LABELS, HAND_PROBS, calibrate=False)
    np.testing.assert_array_equal(raw, [[2, 1, 0], [0, 1, 0], [0, 0, 1]])
    # calibrated: each row rescaled to its label count (row 1: 1 confident item, 2 labeled)
    calibrated = confident_joint(HAND_LABELS, HAND_PROBS)
    np.testing.assert_allclose(calibrated, [[2, 1, 0], [0, 2, 0], [0, 0, 1]])
    np.testing.assert_allclose(estimate_joint(HAND_LABELS, HAND_PROBS), calibrated / 6)
    assert estimated_issue_count(HAND_LABELS, HAND_PROBS) == 1


def test_an_item_above_two_thresholds_counts_for_its_most_probable_class():
    labels = np.array([0, 0, 1, 1, 2])
    probs = np.array(
        [[0.42, 0.48, 0.1], [0.3, 0.3, 0.4], [0.1, 0.5, 0.4], [0.2, 0.3, 0.5], [0.1, 0.2, 0.7]]
    )
    # t = [0.36, 0.4, 0.7]: item 0 is above t0 and t1 and counts for class 1 (0.48 > 0.42);
    # items 1 and 3 are above no threshold
    np.testing.assert_allclose(confident_thresholds(labels, probs), [0.36, 0.4, 0.7])
    raw = confident_joint(labels, probs, calibrate=False)
    np.testing.assert_array_equal(raw, [[0, 1, 0], [0, 1, 0], [0, 0, 1]])


@pytest.mark.parametrize(
    "filter_by", ["prune_by_noise_rate", "prune_by_class", "both", "confident_joint"]
)
def test_every_filter_flags_the_off_diagonal_item_of_the_hand_example(filter_by):
    mask = find_label_issues(HAND_LABELS, HAND_PROBS, filter_by=filter_by)
    np.testing.assert_array_equal(mask, [False, False, True, False, False, False])
    ranked = find_label_issues(
        HAND_LABELS, HAND_PROBS, filter_by=filter_by, rank_by="self_confidence"
    )
    np.testing.assert_array_equal(ranked, [2])


def test_label_quality_rankings():
    np.testing.assert_allclose(label_quality(HAND_LABELS, HAND_PROBS)[:3], [0.9, 0.6, 0.2])
    margin = label_quality(HAND_LABELS, HAND_PROBS, "normalized_margin")
    np.testing.assert_allclose(margin[[0, 2, 4]], [(0.85 + 1) / 2, (-0.5 + 1) / 2, (-0.1 + 1) / 2])
    with pytest.raises(ValueError, match="unknown ranking"):
        label_quality(HAND_LABELS, HAND_PROBS, "entropy")


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="6 labels"):
        find_label_issues(HAND_LABELS, HAND_PROBS[:5])
    with pytest.raises(TypeError, match="integer codes"):
        find_label_issues(np.array(["a"] * 6), HAND_PROBS)
    with pytest.raises(ValueError, match="unknown filter_by"):
        find_label_issues(HAND_LABELS, HAND_PROBS, filter_by="nope")
    with pytest.raises(ValueError, match="not among classes"):
        detect_label_issues(["a", "b", "z"], np.full((3, 2), 0.5), classes=["a", "b"])
    with pytest.raises(ValueError, match="pred_probs .* or features X"):
        detect_label_issues(["a", "b"])
    with pytest.raises(ValueError, match="votes must be"):
        detect_label_issues(HAND_LABELS, HAND_PROBS, votes=np.ones((6, 2)))


def youtube() -> tuple[list[str], np.ndarray]:
    files = sorted((SHARED_DATA / "youtube_spam_uci").glob("Youtube0*.csv"))
    df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return df["CONTENT"].astype(str).tolist(), df["CLASS"].to_numpy()


@pytest.fixture(scope="module")
def flipped_youtube():
    texts, y = youtube()
    rng = np.random.default_rng(0)
    flip = rng.choice(len(y), len(y) // 10, replace=False)
    noisy = np.where(y == 1, "spam", "ham").astype(object)
    noisy[flip] = np.where(y[flip] == 1, "ham", "spam")
    return TextFeaturizer().fit_transform(texts), y, noisy, flip


def test_flipped_youtube_labels_are_found_well_above_the_noise_rate(flipped_youtube):
    X, _, noisy, flip = flipped_youtube
    issues = detect_label_issues(noisy, X=X, random_state=0)
    k = len(flip)
    precision_at_k = np.isin(issues.order[:k], flip).mean()
    assert precision_at_k > 0.75  # 10 % noise: a random ranking scores about 0.10
    flagged = np.flatnonzero(issues.flagged)
    assert np.isin(flagged, flip).mean() > 0.7 and np.isin(flip, flagged).mean() > 0.7
    # the suggestion for a flipped, flagged item is mostly its true label (two classes)
    hit = np.intersect1d(flagged, flip)
    assert (issues.suggested[hit] != noisy[hit]).all()
    assert all(r and r[0].startswith("model is ") for r in (issues.reasons[i] for i in flagged))
    assert issues.scores.min() >= 0 and issues.scores.max() <= 1
    assert abs(issues.n_estimated - k) < 0.3 * k


def test_detection_is_deterministic_for_a_seed(flipped_youtube):
    X, _, noisy, _ = flipped_youtube
    a = detect_label_issues(noisy, X=X, random_state=3)
    b = detect_label_issues(noisy, X=X, random_state=3)
    np.testing.assert_array_equal(a.order, b.order)
    np.testing.assert_array_equal(a.pred_probs, b.pred_probs)
    assert a.reasons == b.reasons


def test_out_of_sample_probs_handle_small_and_missing_classes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y = np.array(["a"] * 20 + ["b"] * 17 + ["c"] * 2 + ["d"])
    probs = out_of_sample_probs(X, y, n_splits=5, classes=["a", "b", "c", "d", "e"])
    assert probs.shape == (40, 5)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(probs[-1], [0, 0, 0, 1, 0])  # the lone 'd': no evidence
    assert (probs[:, 4] == 0).all()  # 'e' has no labeled items
    assert (probs[:-1, 3] == 0).all()  # 'd' was never fitted
    assert (probs[37:39, 2] > 0).all()  # 2 folds, so 'c' was in every training part
    with pytest.raises(ValueError, match="at least two classes"):
        out_of_sample_probs(X[:3], ["a", "a", "b"])
    with pytest.raises(ValueError, match="40 rows but there are 3 labels"):
        out_of_sample_probs(X, ["a", "b", "a"])


def test_every_signal_gives_its_reason_and_the_suggestion_follows_the_evidence():
    labels = np.array(["ham", "ham", "spam", "ham", "spam", "ham"])
    # the model agrees with every label except item 0
    probs = np.array([[0.03, 0.97], [0.9, 0.1], [0.2, 0.8], [0.8, 0.2], [0.1, 0.9], [0.95, 0.05]])
    votes = np.array([[1, 0], [1, 2], [0, 1], [1, 0], [0, 1], [1, 0]])
    lm = np.array([[np.nan, np.nan], [0.5, 0.5], [0.2, 0.8], [0.07, 0.93], [0, 0], [0.6, 0.4]])
    pairs = np.array([[4, 5]])
    issues = detect_label_issues(
        labels,
        probs,
        votes=votes,
        lm_probs=lm,
        duplicate_pairs=pairs,
        item_ids=[100, 101, 102, 103, 104, 105],
    )
    assert issues.reasons[0] == ["model is 0.97 sure it is 'spam'"]
    assert issues.reasons[1] == ["2 of 3 annotators said 'spam'"]
    assert issues.reasons[3] == ["LF votes say 'spam' with 0.93 label-model confidence"]
    assert issues.reasons[4] == ["near-duplicate of item 105 labeled 'ham'"]
    assert issues.reasons[5] == ["near-duplicate of item 104 labeled 'spam'"]
    assert issues.reasons[2] == []
    np.testing.assert_array_equal(issues.flagged, [True, True, False, True, True, True])
    np.testing.assert_array_equal(issues.suggested, ["spam", "spam", "spam", "spam", "ham", "spam"])
    assert issues.order[-1] == 2  # the only unflagged item comes last
    assert issues.order[0] == 0  # the model (0.97) and its weight 1 outrank weaker signals
    assert set(issues.strengths) == {"model", "annotators", "label_model", "duplicates"}
    # an LF majority below the confidence threshold is no reason
    weak = detect_label_issues(labels, probs, lm_probs=lm, lm_threshold=0.95)
    assert weak.reasons[3] == []


@pytest.mark.slow
def test_a_class_without_labeled_items_and_sparse_features_are_handled(flipped_youtube):
    X, _, noisy, _ = flipped_youtube
    issues = detect_label_issues(noisy, X=X, classes=["ham", "spam", "unsure"])
    assert issues.pred_probs.shape == (len(noisy), 3)
    assert (issues.pred_probs[:, 2] == 0).all()
    assert np.isinf(issues.thresholds[2]) and issues.confident_joint[2].sum() == 0
    assert not (issues.suggested == "unsure").any()
    assert issues.flagged.any()


# Class 0: item 0 is the least trusted (0.1) but spread over classes 1 and 2, so no pair's
# noise-rate budget takes it; items 1 and 2 lean to class 1. t = [0.5417, 0.75, 0.85].
SPREAD_LABELS = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2])
SPREAD_PROBS = np.array(
    [
        [0.10, 0.45, 0.45],  # labeled 0: lowest self-confidence, no confident other class
        [0.20, 0.80, 0.00],  # labeled 0, confidently 1: flagged
        [0.25, 0.75, 0.00],  # labeled 0, confidently 1, but trusted more than item 1
        [0.90, 0.05, 0.05],
        [0.90, 0.05, 0.05],
        [0.90, 0.05, 0.05],
        [0.05, 0.90, 0.05],
        [0.20, 0.60, 0.20],
        [0.10, 0.10, 0.80],
        [0.05, 0.05, 0.90],
    ]
)


def test_a_label_trusted_less_than_a_flagged_one_of_its_class_is_reviewed_before_it():
    # C[0] = [3.6, 2.4, 0]: prune-by-class takes items 0 and 1 (lowest p0), prune-by-noise-rate
    # items 1 and 2 (largest p1 - p0), "both" only item 1
    flagged = find_label_issues(SPREAD_LABELS, SPREAD_PROBS)
    np.testing.assert_array_equal(np.flatnonzero(flagged), [1])
    first = review_first(SPREAD_LABELS, SPREAD_PROBS, flagged)
    np.testing.assert_array_equal(np.flatnonzero(first), [0, 1])  # not item 2 (0.25 > 0.2)
    issues = detect_label_issues(SPREAD_LABELS, SPREAD_PROBS)
    np.testing.assert_array_equal(issues.order[:2], [0, 1])  # flagged-first put item 1 first
    np.testing.assert_array_equal(issues.review_first, first)
    # the flags, their reasons and the flagged list are unchanged: item 0 is reviewed, not flagged
    np.testing.assert_array_equal(issues.flagged, flagged)
    assert issues.reasons[0] == [] and issues.reasons[1]
    np.testing.assert_array_equal(issues.flagged_indices, [1])
    with pytest.raises(ValueError, match="one entry per label"):
        review_first(SPREAD_LABELS, SPREAD_PROBS, flagged[:3])


def test_the_review_order_follows_self_confidence_within_each_class():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 600)
    probs = rng.dirichlet(np.full(4, 0.7), 600)
    probs[np.arange(600), labels] += rng.uniform(0, 1.5, 600)  # mostly agree with the label
    probs /= probs.sum(axis=1, keepdims=True)
    issues = detect_label_issues(labels, probs)
    first, sc = issues.review_first, probs[np.arange(600), labels]
    assert first.sum() > issues.flagged.sum() and (first >= issues.flagged).all()
    assert first[issues.order[: first.sum()]].all()  # the review-first items lead the order
    disagree = probs.argmax(axis=1) != labels
    for c in range(4):
        inside, outside = sc[first & (labels == c)], sc[~first & disagree & (labels == c)]
        assert inside.max() < outside.min()  # no less trusted label of the class is left out


def test_on_flipped_ag_news_the_top_k_holds_as_many_flips_as_self_confidence_alone():
    # 4 balanced classes, 10 % uniform flips: self-confidence is the ranking to match here.
    # Flagged-first (the previous order) found 575 against 576 on this draw (and fewer on each
    # of seeds 1-4), since "both" leaves out some low-confidence labels that are wrong as often.
    df = pd.read_csv(
        SHARED_DATA / "text_classification" / "ag_news_test" / "test.csv",
        header=None,
        names=["label", "title", "description"],
    )
    X = TextFeaturizer().fit_transform((df["title"] + ". " + df["description"]).tolist())
    y = df["label"].to_numpy() - 1
    rng = np.random.default_rng(0)
    flip = rng.choice(len(y), len(y) // 10, replace=False)
    noisy = y.copy()
    noisy[flip] = (y[flip] + rng.integers(1, 4, len(flip))) % 4
    probs = out_of_sample_probs(X, noisy, random_state=0)
    issues = detect_label_issues(noisy, probs)
    k, wrong = len(flip), noisy != y
    by_confidence = np.argsort(probs[np.arange(len(y)), noisy], kind="stable")
    assert wrong[issues.order[:k]].sum() >= wrong[by_confidence[:k]].sum()
    assert wrong[issues.order[:k]].mean() > 0.7
