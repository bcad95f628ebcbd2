"""Splits on real data: grouped, stratified, duplicate-aware, human-only eval, stable, seeded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from augment.duplicates import find_duplicates
from augment.splits import assign_splits
from tests.augment.realdata import ag_news_items, youtube_items


@pytest.fixture(scope="module")
def youtube() -> pd.DataFrame:
    return youtube_items()


@pytest.fixture(scope="module")
def ag_news() -> pd.DataFrame:
    return ag_news_items()


def straddling(keys: pd.Series, splits: pd.Series) -> int:
    """Number of key values whose rows sit in more than one split."""
    frame = pd.DataFrame({"key": keys, "split": splits}).dropna()
    return int((frame.groupby("key")["split"].nunique() > 1).sum())


def test_youtube_authors_never_straddle_and_labels_stay_balanced(youtube):
    result = assign_splits(youtube, random_state=0)
    splits = result.splits
    assert splits.notna().all()
    assert straddling(youtube["group_key"], splits) == 0
    overall = (youtube["label"] == "spam").mean()
    for name in ("train", "dev", "test"):
        part = youtube.loc[splits == name, "label"]
        assert abs(len(part) / len(youtube) - {"train": 0.8, "dev": 0.1, "test": 0.1}[name]) < 0.02
        assert abs((part == "spam").mean() - overall) < 0.03, name
    assert result.report.chi2_p_value > 0.5
    # Spammers post many comments: these groups are real, and the largest is big.
    assert result.report.notes["largest_component"] > 50


def test_duplicates_never_straddle_on_youtube(youtube):
    result = assign_splits(youtube, random_state=3)
    links = find_duplicates(youtube["text"])
    exact = pd.Series(np.where(links.exact >= 0, links.exact, -np.arange(1, len(youtube) + 1)))
    assert straddling(exact, result.splits) == 0
    assert len(links.near_pairs) > 20  # real near duplicates exist in this data
    left = result.splits.to_numpy()[links.near_pairs[:, 0]]
    right = result.splits.to_numpy()[links.near_pairs[:, 1]]
    assert (left == right).all()


def test_ag_news_is_stratified_to_the_item(ag_news):
    result = assign_splits(ag_news, random_state=0, ratios=(0.7, 0.15, 0.15))
    counts = result.report.counts
    per_label = ag_news["label"].value_counts()
    for label, total in per_label.items():
        for split, ratio in (("train", 0.7), ("dev", 0.15), ("test", 0.15)):
            # Duplicate sets (a few dozen in AG News) may shift a label by a handful of items.
            assert abs(counts.loc[split, label] - ratio * total) <= 5, (split, label)
    assert result.report.chi2_p_value > 0.99
    assert result.report.to_dict()["counts"]["dev"]["Sports"] == counts.loc["dev", "Sports"]


def test_dev_and_test_hold_only_human_labels(ag_news):
    rng = np.random.default_rng(7)
    items = ag_news.copy()
    weak = rng.random(len(items)) < 0.4
    items["label_source"] = np.where(weak, "label_model", "human")
    items["confidence"] = np.where(weak, rng.uniform(0.3, 1.0, len(items)), np.nan)
    result = assign_splits(items, random_state=1, min_confidence=0.8)
    splits = result.splits
    evaluation = splits.isin(["dev", "test"]).to_numpy()
    assert (items.loc[evaluation, "label_source"] == "human").all()
    low = weak & (items["confidence"] < 0.8).to_numpy()
    assert splits[low].isna().all()
    high = weak & ~low
    assert (splits[high].dropna() == "train").all()
    assert splits[high].notna().mean() > 0.95  # only those duplicated with eval items drop out
    human = ~weak
    share = splits[human].value_counts(normalize=True)
    assert abs(share["dev"] - 0.1) < 0.01 and abs(share["test"] - 0.1) < 0.01
    sources = result.report.sources
    assert sources.loc["dev", "label_model"] == 0 and sources.loc["train", "label_model"] > 0
    assert result.report.notes["weak_below_min_confidence"] == int(low.sum())


def test_weak_items_do_not_pull_groups_into_train():
    # Every group holds weak items; dev and test must still get their human share.
    groups = np.repeat(np.arange(60), 10)
    items = pd.DataFrame(
        {
            "item_id": np.arange(600),
            "label": np.tile(["a", "b"], 300),
            "group_key": groups,
            "label_source": np.where(np.arange(600) % 10 < 3, "propagation", "human"),
            "confidence": 0.99,
        }
    )
    splits = assign_splits(items, random_state=0).splits
    assert (splits == "dev").sum() > 0 and (splits == "test").sum() > 0
    assert straddling(items["group_key"], splits) == 0
    evaluation = splits.isin(["dev", "test"]).to_numpy()
    assert (items.loc[evaluation, "label_source"] == "human").all()


def test_splits_are_stable_when_items_are_added(ag_news):
    first = ag_news.iloc[:6000]
    before = assign_splits(first, random_state=0).splits
    grown = ag_news.copy()
    grown["split"] = before.reindex(grown.index)
    # A new item that duplicates an existing dev item must join it in dev.
    dev_item = first.index[(before == "dev").to_numpy()][0]
    copy = pd.DataFrame(
        {
            "item_id": [99_999],
            "label": [first.at[dev_item, "label"]],
            "text": [first.at[dev_item, "text"].upper()],
        }
    )
    grown = pd.concat([grown, copy], ignore_index=True)
    after = assign_splits(grown, random_state=123).splits
    assert (after.iloc[:6000] == before).all()
    assert after.iloc[-1] == "dev"
    new = after.iloc[6000:-1]
    assert set(new.unique()) == {"train", "dev", "test"}


def test_placed_items_keep_their_split_and_a_straddle_is_reported():
    """Without resplit nothing placed moves (an item's split is a promise); a duplicate link
    found between items placed apart is counted, and a new copy joins one of them."""
    items = pd.DataFrame(
        {
            "item_id": [1, 2, 3, 4, 5],
            "label": ["a", "a", "b", "b", "a"],
            "text": [
                "Buy cheap pills now",
                "buy CHEAP pills, now!",
                "hello there",
                "good song",
                "BUY CHEAP PILLS NOW",
            ],
            "split": ["train", "test", "test", "dev", None],
        }
    )
    result = assign_splits(items, random_state=0)
    assert list(result.splits.iloc[:4]) == ["train", "test", "test", "dev"]
    assert result.splits.iloc[4] in ("train", "test")  # follows the items it duplicates
    assert result.report.notes["straddling_components"] == 1
    assert result.report.notes["kept_split_in_straddling_component"] == 1
    assert list(assign_splits(items, random_state=0, resplit=True).splits.iloc[:2].unique()) in (
        ["train"],
        ["dev"],
        ["test"],
    )  # re-split: the duplicates go together again


@pytest.mark.slow
def test_seed_order_and_resplit(youtube):
    a = assign_splits(youtube, random_state=5).splits
    shuffled = youtube.sample(frac=1.0, random_state=1)
    b = assign_splits(shuffled, random_state=5).splits.reindex(youtube.index)
    assert (a == b).all()
    c = assign_splits(youtube, random_state=6).splits
    assert (a != c).mean() > 0.1
    previous = youtube.assign(split=a)
    assert (assign_splits(previous, random_state=6).splits == a).all()
    assert (assign_splits(previous, random_state=6, resplit=True).splits == c).all()


def test_multi_label_items_are_stratified_by_label_set():
    rng = np.random.default_rng(0)
    sets = [["x"], ["y"], ["x", "y"]]
    labels = [sets[i] for i in rng.integers(0, 3, 900)]
    items = pd.DataFrame({"item_id": np.arange(900), "label": labels})
    result = assign_splits(items, random_state=0)
    assert set(result.report.counts.columns) == {"x", "y", "x|y"}
    assert result.report.chi2_p_value > 0.9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="item_id"), "no 'item_id' column"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "appears more than once"),
        (lambda f: f.assign(split="validation"), "not one of"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(change, message):
    items = pd.DataFrame({"item_id": [1, 2], "label": ["a", "b"]})
    with pytest.raises(ValueError, match=message):
        assign_splits(change(items), random_state=0)


def test_bad_ratios_are_rejected():
    items = pd.DataFrame({"item_id": [1, 2], "label": ["a", "b"]})
    with pytest.raises(ValueError, match="summing to 1"):
        assign_splits(items, random_state=0, ratios=(0.8, 0.3, 0.1))


def test_a_weak_item_kept_in_dev_by_an_old_split_moves_to_train():
    items = pd.DataFrame(
        {
            "item_id": [1, 2, 3],
            "label": ["a", "b", "a"],
            "label_source": ["label_model", "human", "adjudicated"],
            "confidence": [0.95, None, None],
            "split": ["dev", "test", "dev"],
        }
    )
    result = assign_splits(items, random_state=0, min_confidence=0.9)
    assert result.splits.tolist() == ["train", "test", "dev"]
    assert result.report.notes["weak_moved_from_eval_to_train"] == 1


def test_evaluation_splits_too_small_to_trust_are_reported() -> None:
    import pandas as pd

    from augment.splits import assign_splits

    balanced = pd.DataFrame({"item_id": range(400), "label": ["a", "b"] * 200})
    assert assign_splits(balanced, random_state=0).report.warnings == ()
    few_b = pd.DataFrame({"item_id": range(200), "label": ["a"] * 150 + ["b"] * 50})
    warnings = assign_splits(few_b, random_state=0).report.warnings
    assert warnings == (
        "dev holds 5 item(s) of 'b', fewer than 10: 50 'b' item(s) have a label of source "
        "'human' or 'adjudicated' or 'corrected' in all",
        "test holds 5 item(s) of 'b', fewer than 10: 50 'b' item(s) have a label of source "
        "'human' or 'adjudicated' or 'corrected' in all",
    )
    imported = balanced.assign(label_source="import:comments.csv", confidence=1.0)
    report = assign_splits(imported, random_state=0).report
    assert [w.split(":")[0] for w in report.warnings] == ["dev is empty", "test is empty"]
    assert "only those go to evaluation splits" in report.warnings[0]
    assert report.to_dict()["warnings"] == list(report.warnings)
