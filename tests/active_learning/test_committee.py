"""Query-by-committee: disagreement measures, agreement with modAL, bagging."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from active_learning import modal_compat
from active_learning.committee import (
    Committee,
    committee_scores,
    fit_committee,
    kl_max_disagreement,
    kl_mean_disagreement,
    vote_entropy,
)
from active_learning.models import make_classifier
from active_learning.strategies import get_strategy


@pytest.fixture(scope="module")
def committee(ag_case):
    return fit_committee(
        make_classifier(), ag_case.X[ag_case.labeled], ag_case.y[ag_case.labeled], 5, 0
    )


@pytest.mark.parametrize("measure", ["vote_entropy", "kl"])
def test_identical_members_never_disagree(ag_case, measure):
    members = [
        clone(ag_case.model).fit(ag_case.X[ag_case.labeled], ag_case.y[ag_case.labeled])
        for _ in range(3)
    ]
    scores = committee_scores(Committee(members), ag_case.X_pool, measure=measure)
    np.testing.assert_allclose(scores, 0.0, atol=1e-12)


def test_bagged_members_disagree_somewhere(ag_case, committee):
    assert len(committee) == 5
    assert (committee_scores(committee, ag_case.X_pool) > 0).sum() > 10


@pytest.mark.slow
def test_measures_equal_modals(ag_case, committee):
    P = committee.member_proba(ag_case.X_pool)
    np.testing.assert_allclose(
        vote_entropy(P),
        modal_compat.modal_vote_entropy(committee.members, ag_case.X_pool),
        atol=1e-12,
    )
    np.testing.assert_allclose(
        kl_max_disagreement(P),
        modal_compat.modal_kl_max_disagreement(committee.members, ag_case.X_pool),
        rtol=1e-4,  # float32 probabilities (float32 TF-IDF): modAL sums them in float32
    )


def test_committee_picks_the_largest_vote_entropy(ag_case, committee):
    idx, scores = get_strategy("committee")(committee, ag_case.X_pool, 20)
    ve = vote_entropy(committee.member_proba(ag_case.X_pool))
    assert ve[idx].min() >= np.sort(ve)[-20] - 1e-12
    assert np.all(np.diff(scores) <= 0)


def test_a_single_model_gets_a_bagged_committee(ag_case):
    a, _ = get_strategy("committee")(
        ag_case.model, ag_case.X_pool, 10, random_state=0, **ag_case.state
    )
    b, _ = get_strategy("committee")(
        ag_case.model, ag_case.X_pool, 10, random_state=0, **ag_case.state
    )
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="X_labeled and y_labeled"):
        get_strategy("committee")(ag_case.model, ag_case.X_pool, 10)


def test_every_member_sees_every_class_even_with_few_labels(ag_case):
    labeled = ag_case.labeled[:12]
    c = fit_committee(make_classifier(), ag_case.X[labeled], ag_case.y[labeled], 6, 0)
    expected = np.unique(ag_case.y[labeled])
    for member in c.members:
        np.testing.assert_array_equal(member.classes_, expected)


def test_committee_needs_two_classes_and_two_members(ag_case):
    X = ag_case.X[:10]
    with pytest.raises(ValueError, match="at least 2 classes"):
        fit_committee(make_classifier(), X, np.zeros(10), 3)
    with pytest.raises(ValueError, match="at least 2"):
        Committee([ag_case.model])


def test_kl_disagreement_against_a_hand_computation():
    # Two members, one item, two classes: (0.8, 0.2) and (0.4, 0.6); consensus (0.6, 0.4).
    P = np.array([[[0.8, 0.2]], [[0.4, 0.6]]])
    kl_a = 0.8 * np.log(0.8 / 0.6) + 0.2 * np.log(0.2 / 0.4)  # KL(member || consensus)
    kl_b = 0.4 * np.log(0.4 / 0.6) + 0.6 * np.log(0.6 / 0.4)
    np.testing.assert_allclose(kl_max_disagreement(P), [max(kl_a, kl_b)], rtol=1e-12)
    np.testing.assert_allclose(kl_mean_disagreement(P), [(kl_a + kl_b) / 2], rtol=1e-12)

    def h(p):
        return -(p * np.log(p)).sum()

    # Mean KL to the mean = entropy of the consensus - the members' mean entropy.
    expected = h(np.array([0.6, 0.4])) - (h(P[0, 0]) + h(P[1, 0])) / 2
    np.testing.assert_allclose(kl_mean_disagreement(P), [expected], rtol=1e-12)


def test_committee_ranks_by_mean_kl_when_asked(ag_case, committee):
    idx, scores = get_strategy("committee")(committee, ag_case.X_pool, 20, measure="kl_mean")
    kl = kl_mean_disagreement(committee.member_proba(ag_case.X_pool))
    np.testing.assert_allclose(scores, kl[idx])
    assert kl[idx].min() >= np.sort(kl)[-20] - 1e-12


def test_dropped_committee_kl_falls_back_to_vote_entropy_with_a_warning():
    from active_learning.strategies import STRATEGIES

    assert "committee_kl" not in STRATEGIES  # not offered any more
    with pytest.warns(DeprecationWarning, match="committee_kl.*dropped"):
        assert get_strategy("committee_kl") is get_strategy("committee")
