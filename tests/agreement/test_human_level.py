"""Human level: each answer against the other annotators' majority; a model on the same footing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from weak_supervision.agreement import human_level


def answers_table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "annotator", "label"])


@pytest.fixture()
def small() -> pd.DataFrame:
    return answers_table(
        [
            ("i1", "ann", "cat"),
            ("i1", "bob", "cat"),
            ("i1", "cy", "dog"),
            ("i2", "ann", "dog"),
            ("i2", "bob", "dog"),
            ("i2", "cy", "dog"),
            ("i3", "ann", "cat"),
            ("i3", "bob", "dog"),
            ("i4", "ann", "cat"),
            ("i4", "bob", "dog"),
            ("i4", "cy", "bird"),
            ("i5", "ann", "cat"),
        ]
    )


def test_each_answer_is_compared_with_the_others_majority(small: pd.DataFrame) -> None:
    level = human_level(small, classes=["cat", "dog", "bird"])
    pairs = level.pairs.set_index(["item", "annotator"])
    # i1: ann and bob each see the others split cat/dog -> tie, no reference; cy sees cat, cat.
    assert ("i1", "ann") not in pairs.index and pairs.loc[("i1", "cy"), "reference"] == "cat"
    assert not pairs.loc[("i1", "cy"), "agrees"]
    # i3 (two annotators): each one's reference is the other's label.
    assert pairs.loc[("i3", "ann"), "reference"] == "dog"
    # i4: every pair of others disagrees; i5: nobody else -> no reference.
    assert not any(item in ("i4", "i5") for item, _ in pairs.index)
    assert level.n_answers == 12 and level.n_without_reference == len(small) - len(level.pairs)
    # Agreeing answers: the three on i2; disagreeing: i1/cy and both on i3.
    assert level.overall == pytest.approx(3 / 6)
    per_label = level.per_label()
    assert list(per_label.index) == ["cat", "dog", "bird"]
    assert per_label.loc["dog", "n"] == 4 and per_label.loc["dog", "human"] == pytest.approx(3 / 4)
    assert per_label.loc["bird", "n"] == 0 and np.isnan(per_label.loc["bird", "human"])


def test_a_model_is_scored_on_the_same_answers(small: pd.DataFrame) -> None:
    level = human_level(small)
    predictions = pd.Series({"i1": "cat", "i2": "dog", "i3": "cat", "i5": "dog"})
    table = level.score_model(predictions)
    overall = table.loc["overall"]
    # Same six answers: the model agrees on i1/cy (cat), i2 x3, i3/bob's reference (cat).
    assert overall["n"] == 6 and overall["items"] == 3
    assert overall["model"] == pytest.approx(5 / 6) and overall["human"] == pytest.approx(3 / 6)
    assert overall["gap"] == pytest.approx(2 / 6)
    # Without a prediction for i2, its answers leave both sides of the comparison.
    partial = level.score_model({"i1": "cat", "i3": "dog"}).loc["overall"]
    assert partial["n"] == 3 and partial["human"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match="same item ids"):
        level.score_model({"nope": "cat"})


def test_latest_answer_counts(small: pd.DataFrame) -> None:
    edited = pd.concat([small, answers_table([("i1", "cy", "cat")])], ignore_index=True)
    pairs = human_level(edited).pairs.set_index(["item", "annotator"])
    assert pairs.loc[("i1", "cy"), "agrees"]


def test_human_level_on_crowd_data_is_below_the_truth(d_product) -> None:
    answers, truth = d_product
    level = human_level(answers)
    table = level.score_model(truth)
    # D_Product annotators agree with their peers' majority ~81 % of the time; the true labels
    # agree with that majority more often than a single annotator does.
    assert 0.75 < table.loc["overall", "human"] < 0.87
    assert table.loc["overall", "model"] > table.loc["overall", "human"]
    assert table.loc["overall", "n"] == len(level.pairs)
