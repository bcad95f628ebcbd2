"""LF analysis on a hand-checked example, and equal to Snorkel's LFAnalysis on real votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.paths import SHARED_DATA
from weak_supervision.analysis import lf_analysis, lf_examples
from weak_supervision.wrench import load_wrench

# 5 items x 3 LFs. By hand:
#  lf a votes items 0,1,2 -> coverage 3/5; overlaps on 0,1 (b or c also votes) -> 2/5;
#     conflicts on 1 (c votes 0 there) -> 1/5; humans label 0,1,3: a is right on 0 (1=1),
#     wrong on 1 (1 vs 0) -> correct 1, incorrect 1.
#  lf b votes items 0,3 -> coverage 2/5, overlaps on 0 -> 1/5, conflicts 0; right on 0 and 3.
#  lf c votes items 1,4 (label 0) -> coverage 2/5, overlaps on 1 -> 1/5, conflicts on 1 -> 1/5;
#     right on 1 (0=0); item 4 is unlabeled.
L = np.array([[1, 1, -1], [1, -1, 0], [1, -1, -1], [-1, 0, -1], [-1, -1, 0]])
Y = np.array([1, 0, -1, 0, -1])


def test_hand_checked_numbers():
    table = lf_analysis(L, Y, lf_names=["a", "b", "c"])
    assert table.loc["a", "polarity"] == [1] and table.loc["b", "polarity"] == [0, 1]
    np.testing.assert_allclose(table["coverage"], [0.6, 0.4, 0.4])
    np.testing.assert_allclose(table["overlaps"], [0.4, 0.2, 0.2])
    np.testing.assert_allclose(table["conflicts"], [0.2, 0.0, 0.2])
    assert table["correct"].tolist() == [1, 2, 1]
    assert table["incorrect"].tolist() == [1, 0, 0]
    np.testing.assert_allclose(table["emp_accuracy"], [0.5, 1.0, 1.0])


def test_equals_snorkel_lf_summary_on_wrench_sms():
    from snorkel.labeling import LFAnalysis

    split = load_wrench(SHARED_DATA / "wrench" / "sms").splits["valid"]
    ours = lf_analysis(split.weak_labels.astype(np.int8), split.labels)
    ref = LFAnalysis(split.weak_labels).lf_summary(Y=split.labels)
    for col, ref_col in [
        ("coverage", "Coverage"),
        ("overlaps", "Overlaps"),
        ("conflicts", "Conflicts"),
        ("correct", "Correct"),
        ("incorrect", "Incorrect"),
    ]:
        np.testing.assert_allclose(ours[col].to_numpy(float), ref[ref_col].to_numpy(float))
    assert [list(p) for p in ref["Polarity"]] == ours["polarity"].tolist()


def test_examples_show_hits_and_disagreements():
    texts = [f"t{i}" for i in range(5)]
    ex = lf_examples(L, 0, texts, Y, n=5)
    assert ex["hits"]["item"].tolist() == [0, 1, 2]
    assert ex["disagreements"].to_dict("records") == [
        {"item": 1, "text": "t1", "vote": 1, "human": 0}
    ]
    assert isinstance(ex["hits"], pd.DataFrame)
    with pytest.raises(ValueError, match="out of range"):
        lf_examples(L, 3, texts)
