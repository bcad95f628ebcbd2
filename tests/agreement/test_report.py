"""agreement_report: one call that the app's page, API and CLI use."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from weak_supervision.agreement import (
    DawidSkene,
    agreement_by,
    agreement_over_time,
    agreement_report,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen_kappa,
    percent_agreement,
    ratings_matrix,
)


def test_report_metrics_equal_the_single_metrics(d_product, d_product_report) -> None:
    answers, _ = d_product
    report = d_product_report
    wide = ratings_matrix(answers)
    assert report.n_items == 8315 and report.n_answers == 24945 and report.n_annotators == 176
    assert report.percent_agreement.estimate == pytest.approx(percent_agreement(wide))
    assert report.fleiss_kappa.estimate == pytest.approx(fleiss_kappa(wide))
    assert report.krippendorff_alpha["nominal"].estimate == pytest.approx(krippendorff_alpha(wide))
    for ci in (report.percent_agreement, report.fleiss_kappa, report.krippendorff_alpha["nominal"]):
        assert ci.low < ci.estimate < ci.high and ci.n_resamples == 200
    expected_kappa = pairwise_cohen_kappa(wide)
    assert np.allclose(report.kappa.to_numpy(), expected_kappa.to_numpy(), equal_nan=True)
    assert report.weighted_kappa is None  # nominal labels


@pytest.mark.slow
def test_report_consensus_reliability_and_gold(d_product, d_product_report) -> None:
    answers, truth = d_product
    report = d_product_report
    consensus = report.consensus
    gold = truth.iloc[::10]
    model = DawidSkene(smoothing=0.01).fit(answers, gold=gold)
    assert (consensus["consensus"] == model.predict().reindex(consensus.index)).all()
    assert (consensus.loc[gold.index, "consensus"] == gold).all()
    unknown = consensus.index.difference(gold.index)
    accuracy = (consensus.loc[unknown, "consensus"] == truth.reindex(unknown)).mean()
    assert accuracy >= 0.9366  # Dawid-Skene's published D_Product accuracy
    on_gold = answers[answers["item"].isin(gold.index)]
    right = on_gold["label"].to_numpy() == gold.reindex(on_gold["item"]).to_numpy()
    by_annotator = pd.Series(right).groupby(on_gold["annotator"].to_numpy()).mean()
    table = report.annotators
    assert table.loc[by_annotator.index, "gold_accuracy"].to_numpy() == pytest.approx(
        by_annotator.to_numpy()
    )
    assert table["n_answers"].sum() == len(answers)
    assert (table["ds_accuracy"].between(0, 1)).all()
    assert set(report.confusion) == set(table.index)


def test_disagreements_list_every_split_item_with_who_said_what(d_product_report) -> None:
    report = d_product_report
    split = report.consensus[report.consensus["majority_share"] < 1]
    assert set(report.disagreements.index) == set(split.index)
    assert (report.disagreements["reason"] == "disagreement").all()
    assert report.disagreements["confidence"].is_monotonic_increasing
    first = report.disagreements.iloc[0]
    assert len(set(first["labels"].values())) == 2 and len(first["labels"]) == first["n_answers"]


def test_report_to_dict_is_json_with_nulls_for_nan(d_product_report) -> None:
    data = json.loads(json.dumps(d_product_report.to_dict(), allow_nan=False))
    assert data["consensus"] is None
    assert data["n_disagreements"] == len(data["disagreements"]) > 1000
    short = d_product_report.to_dict(include_consensus=True, max_disagreements=5)
    assert len(short["disagreements"]) == 5 and len(short["consensus"]) == 8315
    assert short["consensus"][0].keys() >= {"item", "consensus", "confidence", "majority"}
    assert data["labels"] == ["0", "1"]
    assert data["kappa"]["values"][0][0] == 1.0
    assert len(data["kappa"]["annotators"]) == 176
    assert None in data["kappa"]["values"][0]  # pairs without shared items
    assert {row["label"] for row in data["human_level"]} == {"overall", "0", "1"}
    assert data["fleiss_kappa"]["low"] < data["fleiss_kappa"]["estimate"]


def small_answers() -> pd.DataFrame:
    rows = [
        ("q1", "ann", "low", "2024-01-01"),
        ("q1", "bob", "low", "2024-01-01"),
        ("q2", "ann", "mid", "2024-01-02"),
        ("q2", "bob", "high", "2024-01-02"),
        ("q3", "ann", "high", "2024-01-05"),
        ("q3", "bob", "high", "2024-01-09"),
        ("q3", "cy", "mid", "2024-01-09"),
        ("q4", "cy", "low", "2024-01-09"),
        ("q2", "bob", "mid", "2024-01-10"),  # bob corrects q2 later
    ]
    table = pd.DataFrame(rows, columns=["item", "annotator", "label", "created_at"])
    return table.assign(created_at=pd.to_datetime(table["created_at"]))


def test_report_honours_label_order_latest_answers_and_confidence() -> None:
    report = agreement_report(
        small_answers(), ["low", "mid", "high"], level="ordinal", n_resamples=0, min_confidence=0.99
    )
    assert report.labels == ["low", "mid", "high"]
    assert list(report.per_label.index) == ["low", "mid", "high"]
    assert report.n_answers == 8  # bob's first q2 answer is replaced by his correction
    assert report.consensus.loc["q2", "majority_share"] == 1.0
    wide = ratings_matrix(small_answers(), created_at="created_at")
    expected = krippendorff_alpha(wide, "ordinal", categories=["low", "mid", "high"])
    assert report.krippendorff_alpha["ordinal"].estimate == pytest.approx(expected)
    assert np.isnan(report.krippendorff_alpha["ordinal"].low)  # no intervals asked for
    assert report.weighted_kappa is not None
    assert report.disagreements.loc["q3", "reason"] == "disagreement"
    assert report.disagreements.loc["q3", "labels"] == {"ann": "high", "bob": "high", "cy": "mid"}
    # q4 has one answer: not a disagreement, but flagged when its confidence is below 0.99.
    flagged = report.disagreements
    assert ("q4" in flagged.index) == (report.consensus.loc["q4", "confidence"] < 0.99)
    assert report.annotators.loc["cy", "n_overlap"] == 1


def test_report_without_overlap_has_no_agreement_but_still_a_consensus() -> None:
    answers = pd.DataFrame({"item": [1, 2, 3], "annotator": "ann", "label": ["x", "y", "x"]})
    report = agreement_report(answers, ["x", "y"])
    assert report.n_overlap_items == 0 and report.disagreements.empty
    assert np.isnan(report.fleiss_kappa.estimate) and np.isnan(report.percent_agreement.low)
    assert report.consensus["consensus"].tolist() == ["x", "y", "x"]
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["fleiss_kappa"]["estimate"] is None and data["n_disagreements"] == 0


def test_report_rejects_bad_input_clearly() -> None:
    answers = small_answers()
    with pytest.raises(ValueError, match="not among classes"):
        agreement_report(answers, ["low", "mid"])
    with pytest.raises(ValueError, match="gold holds label"):
        agreement_report(answers, ["low", "mid", "high"], gold={"q1": "extreme"})
    with pytest.raises(ValueError, match="level must be one of"):
        agreement_report(answers, level="fuzzy")
    with pytest.raises(ValueError, match="numeric labels"):
        agreement_report(answers, ["low", "mid", "high"], level="interval", n_resamples=0)


def test_agreement_before_and_after_a_guideline_change() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for version, skill in ((1, 0.6), (2, 0.9)):
        for item in range(400):
            truth = rng.integers(3)
            for annotator in ("ann", "bob", "cy"):
                label = truth if rng.random() < skill else rng.integers(3)
                rows.append((f"v{version}-{item}", annotator, int(label), version))
    answers = pd.DataFrame(rows, columns=["item", "annotator", "label", "guideline_version"])
    table = agreement_by(answers, "guideline_version")
    assert list(table.index) == [1, 2]
    assert table.loc[2, "fleiss_kappa"] > table.loc[1, "fleiss_kappa"] + 0.2
    assert table.loc[1, "n_items"] == 400 and table.loc[1, "n_answers"] == 1200
    version_one = answers[answers["guideline_version"] == 1]
    assert table.loc[1, "krippendorff_alpha"] == pytest.approx(
        krippendorff_alpha(ratings_matrix(version_one))
    )


def test_agreement_over_time_groups_items_by_completion() -> None:
    table = agreement_over_time(small_answers(), freq="W")
    assert len(table) == 2 and table.index[0].startswith("2024-01-01")
    # Only q1 was completed in the first week: q2 (corrected on the 10th) and q3 (answered on
    # the 5th and the 9th) belong, with all their answers, to the second.
    assert table.iloc[0]["n_items"] == 1 and table.iloc[0]["n_answers"] == 2
    assert table.iloc[1]["n_items"] == 3 and table.iloc[1]["n_answers"] == 6
    assert table.iloc[0]["percent_agreement"] == 1.0
