"""Text augmentation (seeded, label-preserving, opt-in) and time-series windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from augment.plan import load_augment_plan
from augment.text import TextAugmentConfig, augment_text
from augment.timeseries import sliding_windows

TEXT = "please check out my new music channel and subscribe today"


def test_text_augmentation_is_seeded_and_reports_its_operations():
    config = TextAugmentConfig(swap_prob=0.3, delete_prob=0.2)
    first = augment_text(TEXT, config, source_id=1, random_state=0)
    assert first == augment_text(TEXT, config, source_id=1, random_state=0)
    assert first.text != TEXT
    assert first.operations
    copies = {
        augment_text(TEXT, config, source_id=1, random_state=0, copy=c).text for c in range(5)
    }
    assert len(copies) > 1
    # Swaps and deletions only rearrange or drop the original words.
    assert set(first.text.split()) <= set(TEXT.split())


def test_text_augmentation_keeps_a_word_and_applies_synonyms():
    config = TextAugmentConfig(swap_prob=0.0, delete_prob=1.0)
    assert (
        len(augment_text("one two three", config, source_id="a", random_state=1).text.split()) == 1
    )
    synonyms = TextAugmentConfig(
        swap_prob=0, delete_prob=0, synonym_prob=1.0, synonyms={"channel": ["page"]}
    )
    out = augment_text(TEXT, synonyms, source_id="a", random_state=1)
    assert "page" in out.text.split() and "channel" not in out.text.split()
    with pytest.raises(ValueError, match="synonyms"):
        TextAugmentConfig(synonym_prob=0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        TextAugmentConfig(swap_prob=2.0)


def test_augment_plans_from_json_documents(tmp_path):
    plan = load_augment_plan({"text": {"swap_prob": 0.2}, "copies": 2})
    assert plan.kind == "text" and plan.copies == 2 and plan.text_config().swap_prob == 0.2
    assert load_augment_plan(plan.to_dict()) == plan
    image = load_augment_plan("typical")
    assert image.kind == "image" and image.copies == 1
    with pytest.raises(ValueError, match="unknown text augmentation options"):
        load_augment_plan({"text": {"swap": 0.2}})
    with pytest.raises(ValueError, match="copies"):
        load_augment_plan({"text": {}, "copies": 0})
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_augment_plan(bad)


def test_windows_never_cross_a_split_boundary():
    steps = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0) * 10})
    segments = ["train"] * 12 + ["dev"] * 8 + ["test"] * 10
    windows = sliding_windows(steps, size=4, stride=2, horizon=2, segments=segments, target=["y"])
    labels = np.asarray(segments)
    for start, segment in zip(windows.starts, windows.segments, strict=True):
        assert set(labels[start : start + 6]) == {segment}
    assert windows.starts.tolist() == [0, 2, 4, 6, 12, 14, 20, 22, 24]
    assert windows.inputs.shape == (9, 4, 2) and windows.targets.shape == (9, 2, 1)
    assert np.array_equal(windows.targets[0, :, 0], [40.0, 50.0])
    assert np.array_equal(windows.inputs[4, :, 0], [12.0, 13.0, 14.0, 15.0])


def test_windows_reject_bad_arguments():
    with pytest.raises(ValueError, match="size"):
        sliding_windows(np.arange(10), size=0)
    with pytest.raises(ValueError, match="one per step"):
        sliding_windows(np.arange(10), size=2, segments=[0] * 9)
    assert len(sliding_windows(np.arange(3), size=5)) == 0
