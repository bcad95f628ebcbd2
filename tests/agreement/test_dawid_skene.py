"""Dawid-Skene against the 1979 paper's data and reference output, and on real crowd data."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.agreement.conftest import CROWD, DAWID_SKENE_1979
from weak_supervision.agreement import (
    DawidSkene,
    annotator_accuracy,
    evaluate_crowd,
    load_answers,
    load_truth,
    majority_vote,
)
from weak_supervision.agreement.crowd import CrowdFileError


def reference_output() -> dict:
    """Parse the reference EM output: log-likelihoods, marginals, error rates, posteriors."""
    text = (DAWID_SKENE_1979 / "reference_output_dallascard_impl.txt").read_text()
    iterations = re.findall(r"^\d+ \t(-[\d.]+)", text, flags=re.M)

    def numbers(chunk: str) -> np.ndarray:
        return np.array([float(x) for x in re.findall(r"-?\d+\.\d*|-?\d+", chunk)])

    marginals = text.split("Class marginals")[1].split("Error rates")[0]
    rates = text.split("Error rates")[1].split("Incidence-of-error rates")[0]
    patients = text.split("Patient classes")[1].strip().splitlines()
    posteriors = {int(line.split()[0]): numbers(line.split("[")[1]) for line in patients}
    return {
        "log_likelihood": float(iterations[-1]),
        "marginals": numbers(marginals),
        "error_rates": numbers(rates).reshape(5, 4, 4),
        "posteriors": posteriors,
    }


@pytest.fixture(scope="module")
def fitted_1979() -> DawidSkene:
    table = pd.read_csv(DAWID_SKENE_1979 / "dawid_skene_1979_table1.csv", sep=";")
    assert len(table) == 315  # observer 1 examined each of the 45 patients three times
    return DawidSkene(tol=1e-8).fit(table, item="patient", annotator="observer", label="response")


def test_reproduces_the_1979_estimates(fitted_1979: DawidSkene) -> None:
    reference = reference_output()
    assert fitted_1979.converged_
    assert fitted_1979.log_likelihood_ == pytest.approx(reference["log_likelihood"], abs=1e-5)
    assert fitted_1979.priors_ == pytest.approx(reference["marginals"], abs=0.005)
    # Printed to two decimals: rows are true classes, columns the observer's answers.
    assert fitted_1979.confusion_ == pytest.approx(reference["error_rates"], abs=0.005 + 1e-9)
    for patient, expected in reference["posteriors"].items():
        assert fitted_1979.posteriors_.loc[patient].to_numpy() == pytest.approx(expected, abs=6e-4)


def test_reliability_and_consensus_of_the_1979_observers(fitted_1979: DawidSkene) -> None:
    reliability = fitted_1979.annotator_reliability()
    confusion = fitted_1979.annotator_confusion(1)
    assert list(confusion.index) == [1, 2, 3, 4]
    assert np.allclose(confusion.sum(axis=1), 1.0)
    expected = (np.diag(confusion) * fitted_1979.priors_).sum()
    assert reliability.loc[1, "accuracy"] == pytest.approx(expected)
    consensus = fitted_1979.predict()
    assert consensus.loc[2] == 4 and consensus.loc[38] == 3  # patients 2 and 38 of the reference
    with pytest.raises(KeyError, match="unknown annotator"):
        fitted_1979.annotator_confusion(9)


@pytest.mark.slow
def test_d_product_majority_vote_is_the_published_one_and_dawid_skene_beats_it() -> None:
    answers = load_answers(CROWD / "D_Product" / "answer.csv")
    truth = load_truth(CROWD / "D_Product" / "truth.csv")
    result = evaluate_crowd(answers, truth)
    assert result.items == 8315 and result.f1_kind == "binary"
    # Published (Zheng et al., PVLDB 2017): majority vote 89.66 % / F1 59.05 %, D&S 93.66 %.
    assert round(result.scores["majority_vote"]["accuracy"], 2) == 89.66
    assert round(result.scores["majority_vote"]["f1"], 2) == 59.05
    assert result.scores["dawid_skene"]["accuracy"] >= 93.66
    assert result.scores["dawid_skene"]["f1"] >= 71.59
    assert result.as_json().keys() == {"majority_vote", "dawid_skene", "items"}


def test_bluebirds_dawid_skene_finds_the_reliable_workers() -> None:
    answers = load_answers(CROWD / "bluebirds_duck" / "answer.csv")
    truth = load_truth(CROWD / "bluebirds_duck" / "truth.csv")
    result = evaluate_crowd(answers, truth)
    assert (
        result.scores["dawid_skene"]["accuracy"] > result.scores["majority_vote"]["accuracy"] + 10
    )
    # Its reliability estimate ranks workers like their real accuracy on the truth does.
    columns = {"item": "question", "annotator": "worker", "label": "answer"}
    model = DawidSkene().fit(answers, **columns)
    real = annotator_accuracy(answers, truth, **columns)["accuracy"]
    estimated = model.annotator_reliability()["accuracy"].reindex(real.index)
    assert real.corr(estimated, method="spearman") > 0.8


def test_majority_vote_ties_and_gold_accuracy() -> None:
    answers = pd.DataFrame(
        {
            "item": ["a", "a", "b", "b", "b", "c"],
            "annotator": ["x", "y", "x", "y", "z", "z"],
            "label": ["neg", "pos", "pos", "pos", "neg", "neg"],
        }
    )
    voted = majority_vote(answers, classes=["pos", "neg"])
    assert voted.loc["a", "label"] == "pos" and voted.loc["a", "tied"]  # first of classes wins
    assert voted.loc["b", "label"] == "pos" and voted.loc["b", "share"] == pytest.approx(2 / 3)
    gold = pd.Series({"a": "neg", "b": "pos"})
    accuracy = annotator_accuracy(answers, gold)
    assert accuracy.loc["x", "accuracy"] == 1.0 and accuracy.loc["y", "accuracy"] == 0.5
    assert accuracy.loc["z", "n_gold"] == 1 and accuracy.loc["z", "accuracy"] == 0.0


def test_dawid_skene_works_for_many_classes_and_sparse_overlap() -> None:
    rng = np.random.default_rng(0)
    n_items, n_classes = 3000, 6
    truth = rng.integers(0, n_classes, n_items)
    skill = np.r_[np.full(6, 0.85), np.full(6, 0.35)]  # six good and six poor annotators
    rows = []
    for item in range(n_items):
        for annotator in rng.choice(12, size=3, replace=False):
            right = rng.random() < skill[annotator]
            rows.append((item, f"w{annotator}", truth[item] if right else rng.integers(n_classes)))
    answers = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    model = DawidSkene().fit(answers)
    consensus = model.predict().reindex(range(n_items)).to_numpy()
    voted = majority_vote(answers)["label"].reindex(range(n_items)).to_numpy()
    assert (consensus == truth).mean() > (voted == truth).mean() + 0.03
    estimated = model.annotator_reliability()["accuracy"]
    good = estimated[[f"w{a}" for a in range(6)]]
    poor = estimated[[f"w{a}" for a in range(6, 12)]]
    assert good.min() > poor.max()
    assert model.predict_proba().shape == (n_items, n_classes)


def test_gold_items_rescue_a_majority_that_swaps_two_classes() -> None:
    rng = np.random.default_rng(0)
    n_items = 2000
    truth = rng.integers(0, 3, n_items)
    swapped = np.array([1, 0, 2])  # three of five annotators read class 0 as 1 and 1 as 0
    rows = []
    for item in range(n_items):
        for annotator in range(5):
            meant = truth[item] if annotator < 2 else swapped[truth[item]]
            label = meant if rng.random() < 0.9 else rng.integers(3)
            rows.append((item, f"w{annotator}", int(label)))
    answers = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    gold = pd.Series(truth[:100], index=range(100))
    rest = np.arange(100, n_items)
    blind = DawidSkene().fit(answers).predict().reindex(rest).to_numpy()
    anchored_model = DawidSkene().fit(answers, gold=gold)
    anchored = anchored_model.predict().reindex(rest).to_numpy()
    assert (blind == truth[rest]).mean() < 0.5  # the swapping majority wins without gold
    assert (anchored == truth[rest]).mean() > 0.95
    assert (anchored_model.predict().loc[gold.index] == gold).all()
    assert anchored_model.annotator_confusion("w3").loc[0, 1] > 0.8
    with pytest.raises(ValueError, match="gold holds label"):
        DawidSkene().fit(answers, gold=pd.Series({0: 7}))


def test_bad_input_gets_clear_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="no column"):
        DawidSkene().fit(pd.DataFrame({"item": [1], "label": [1]}))
    with pytest.raises(ValueError, match="empty in 1 row"):
        DawidSkene().fit(pd.DataFrame({"item": [1, 2], "annotator": ["a", None], "label": [1, 1]}))
    with pytest.raises(RuntimeError, match="not fitted"):
        DawidSkene().predict()
    bad_header = tmp_path / "answer.csv"
    bad_header.write_text("item,who,answer\n1,a,0\n")
    with pytest.raises(CrowdFileError, match="line 1: header is 'item,who,answer' but has no wor"):
        load_answers(bad_header)
    empty_cell = tmp_path / "answers2.csv"
    empty_cell.write_text("question,worker,answer\n1,a,0\n2,,1\n")
    with pytest.raises(CrowdFileError, match="line 3: column 'worker' is empty"):
        load_answers(empty_cell)
    conflicting = tmp_path / "truth.csv"
    conflicting.write_text("question,truth\n1,0\n2,1\n1,1\n")
    with pytest.raises(CrowdFileError, match="line 4: question '1' has two different truths"):
        load_truth(conflicting)
