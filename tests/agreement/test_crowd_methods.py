"""Crowd aggregation methods (ours and crowd-kit's), the pick rule, and the evaluate command
on the benchmark files as published."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from tests.agreement.conftest import CROWD, evaluate, evaluate_crowd
from weak_supervision.agreement import crowd_methods
from weak_supervision.agreement.crowd import load_answers, load_truth
from weak_supervision.agreement.crowd_methods import aggregate, choose_aggregator, wawa_labels

BLUEBIRDS = CROWD / "bluebirds_duck"


def _long(folder) -> tuple[pd.DataFrame, pd.Series]:
    answers = load_answers(folder / "answer.csv")
    truth = load_truth(folder / "truth.csv")
    return answers.rename(columns={"question": "item", "answer": "label"}), truth


def _synthetic(n_items: int = 150, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Binary items, 8 workers (5 good at 85%, 3 near random), 3 answers per item."""
    rng = np.random.default_rng(seed)
    truth = pd.Series({f"t{i}": str(rng.integers(0, 2)) for i in range(n_items)})
    rows = []
    for item, label in truth.items():
        for worker in rng.choice(8, size=3, replace=False):
            right = rng.random() < (0.85 if worker < 5 else 0.55)
            rows.append((item, f"w{worker}", label if right else str(1 - int(label))))
    return pd.DataFrame(rows, columns=["item", "worker", "label"]), truth


def test_published_headers_and_named_columns_read_the_same(tmp_path):
    answers = (BLUEBIRDS / "answer.csv").read_text().splitlines()
    truth = (BLUEBIRDS / "truth.csv").read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(["id,worker,answer", *answers[1:]]))
    (tmp_path / "t.csv").write_text("\n".join(["q,truth", *truth[1:]]))
    (tmp_path / "b.csv").write_text("\n".join(["img,who,said", *answers[1:]]))
    (tmp_path / "u.csv").write_text("\n".join(["img,truth", *truth[1:]]))
    methods = ["--methods", "majority_vote,dawid_skene"]
    reference = evaluate(
        BLUEBIRDS / "answer.csv",
        BLUEBIRDS / "truth.csv",
        *methods,
    )
    published = evaluate(
        tmp_path / "a.csv",
        tmp_path / "t.csv",
        *methods,
    )
    named = evaluate(
        tmp_path / "b.csv",
        tmp_path / "u.csv",
        "--item-col",
        "img",
        "--worker-col",
        "who",
        "--label-col",
        "said",
        *methods,
    )
    for result in (reference, published, named):
        assert result.exit_code == 0, result.output
    last = [json.loads(r.output.strip().splitlines()[-1]) for r in (reference, published, named)]
    assert last[0] == last[1] == last[2] and last[0]["items"] == 108
    missing = evaluate(tmp_path / "b.csv", tmp_path / "u.csv")
    assert missing.exit_code != 0
    assert "has no question column" in missing.output and "--item-col" in missing.output
    wrong = evaluate(
        tmp_path / "b.csv",
        tmp_path / "u.csv",
        "--item-col",
        "nope",
    )
    assert wrong.exit_code != 0 and "no column 'nope'" in wrong.output
    bad = evaluate(
        tmp_path / "a.csv",
        tmp_path / "t.csv",
        "--methods",
        "dawid_skene,bogus",
    )
    assert bad.exit_code != 0 and "bogus" in bad.output


@pytest.mark.slow
def test_d_product_meets_the_crowd_kit_table_and_picks_dawid_skene():
    """Crowd-Kit paper, D_Product: best row DS 0.940 accuracy; Zheng et al.: MV 89.66 %.
    Without gold, the rule (workers with >= 10 answers give most answers) picks Dawid-Skene."""
    result = evaluate_crowd("D_Product", "dawid_skene,majority_vote,wawa")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert set(summary) == {"dawid_skene", "majority_vote", "wawa", "chosen", "items"}
    assert summary["chosen"] == "dawid_skene" and summary["items"] == 8315
    assert round(summary["dawid_skene"]["accuracy"] / 100, 3) >= 0.940
    assert round(summary["majority_vote"]["accuracy"], 2) == 89.66
    assert "<- chosen" in next(line for line in result.output.splitlines() if "dawid_skene" in line)


def test_our_dawid_skene_agrees_with_crowd_kits():
    pytest.importorskip("crowdkit")
    from crowdkit.aggregation import DawidSkene as CrowdKitDawidSkene

    answers, _ = _long(BLUEBIRDS)
    ours = aggregate(answers, "dawid_skene")
    theirs = CrowdKitDawidSkene(n_iter=100).fit_predict(answers.rename(columns={"item": "task"}))
    common = ours.index.intersection(theirs.index)
    assert len(common) == 108
    assert (ours.loc[common] == theirs.loc[common].astype(str)).mean() >= 0.99


def test_wawa_is_crowd_kits_definition():
    """crowd-kit's Wawa (AttributeError on this scikit-learn): skills = agreement with the
    majority vote, then crowd-kit's own MajorityVote weighted by those skills."""
    pytest.importorskip("crowdkit")
    from crowdkit.aggregation import MajorityVote

    answers, _ = _synthetic()
    data = answers.rename(columns={"item": "task"})
    majority = MajorityVote().fit_predict(data)
    skills = (
        (data["label"] == majority.reindex(data["task"]).to_numpy()).groupby(data["worker"]).mean()
    )
    theirs = MajorityVote().fit_predict(data, skills=skills)
    ours = wawa_labels(answers)
    # ties may break differently; on this data the weighted votes never tie
    assert (ours.loc[theirs.index] == theirs).all()


@pytest.mark.slow
def test_crowd_kit_methods_run_and_beat_chance():
    pytest.importorskip("crowdkit")
    answers, truth = _synthetic()
    choice = choose_aggregator(answers)
    assert set(choice.all_labels) == set(crowd_methods.METHODS), choice.skipped
    for name, labels in choice.all_labels.items():
        accuracy = (labels.reindex(truth.index) == truth).mean()
        assert accuracy > 0.7, (name, accuracy)


def test_gold_items_pick_the_method_and_truth_never_does():
    answers, truth = _long(BLUEBIRDS)
    methods = ["dawid_skene", "majority_vote"]
    # gold = the truth of 40 items: Dawid-Skene is far better there (90 % vs 76 % overall)
    by_gold = choose_aggregator(answers, gold=truth.iloc[:40], methods=methods)
    assert by_gold.name == "dawid_skene"
    assert by_gold.gold_accuracy["dawid_skene"] > by_gold.gold_accuracy["majority_vote"]
    # a "gold" that says what majority vote says makes majority vote the pick
    majority = by_gold.all_labels["majority_vote"]
    fake_gold = majority.loc[majority != by_gold.all_labels["dawid_skene"]].iloc[:20]
    assert len(fake_gold) >= 10
    assert choose_aggregator(answers, gold=fake_gold, methods=methods).name == "majority_vote"
    few = choose_aggregator(answers, gold=truth.iloc[:3], methods=methods)
    assert "only 3 gold items" in few.reason and few.gold_accuracy == {}


def test_rule_without_gold_needs_worker_overlap():
    rng = np.random.default_rng(0)
    sparse = pd.DataFrame(
        {
            "item": [f"i{i // 2}" for i in range(400)],
            "worker": [f"w{i}" for i in range(400)],  # every worker answers once
            "label": rng.choice(["a", "b"], 400),
        }
    )
    choice = choose_aggregator(sparse, methods=["dawid_skene", "majority_vote"])
    assert choice.name == "majority_vote" and "too little overlap" in choice.reason
    dense, _ = _synthetic()
    assert choose_aggregator(dense, methods=["dawid_skene", "majority_vote"]).name == "dawid_skene"


def test_without_crowd_kit_its_methods_are_skipped_with_the_extra_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "crowdkit.aggregation", None)
    monkeypatch.setitem(sys.modules, "crowdkit", None)
    answers, _ = _synthetic(60)
    choice = choose_aggregator(answers)
    assert set(choice.all_labels) == set(crowd_methods.OURS)
    assert set(choice.skipped) == set(crowd_methods.FROM_CROWDKIT)
    assert "labelapp[crowd]" in choice.skipped["glad"]
    with pytest.raises(ImportError, match=r"labelapp\[crowd\]"):
        aggregate(answers, "glad")
