"""Majority vote and label models on WRENCH youtube and sms: the published numbers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from labelapp.cli.ws import ws
from tests.paths import SHARED_DATA
from weak_supervision.label_model import LabelModel, class_balance_from_labels, distinct_patterns
from weak_supervision.majority import majority_vote, majority_vote_proba, probs_to_preds
from weak_supervision.metrics import score
from weak_supervision.pipeline import choose_label_model, fit_label_model
from weak_supervision.wrench import load_wrench

WRENCH = SHARED_DATA / "wrench"


@pytest.fixture(scope="module")
def youtube():
    return load_wrench(WRENCH / "youtube")


@pytest.fixture(scope="module")
def sms():
    return load_wrench(WRENCH / "sms")


def test_majority_vote_reproduces_published_wrench_numbers(youtube, sms):
    yt = youtube.splits["test"]
    assert score(yt.labels, majority_vote(yt.weak_labels, 2), 2)["accuracy"] == 84.00
    st = sms.splits["test"]
    assert score(st.labels, majority_vote(st.weak_labels, 2), 2)["f1"] == 23.97


def test_tie_break_is_snorkels():
    from snorkel.utils import probs_to_preds as snorkel_probs_to_preds

    rng = np.random.default_rng(0)
    probs = rng.integers(0, 3, size=(500, 4)).astype(float) + 1e-9
    probs /= probs.sum(axis=1, keepdims=True)
    assert (probs_to_preds(probs) == snorkel_probs_to_preds(probs)).all()


def test_label_model_equals_snorkel_on_full_matrix(youtube):
    from snorkel.labeling.model import LabelModel as SnorkelLabelModel

    L, L_test = youtube.splits["train"].weak_labels, youtube.splits["test"].weak_labels
    ours = LabelModel(2, n_epochs=50).fit(L.astype(np.int8)).predict_proba(L_test)
    ref = SnorkelLabelModel(cardinality=2, verbose=False)
    ref.fit(L, n_epochs=50, lr=0.01, seed=123, progress_bar=False)
    np.testing.assert_allclose(ours, ref.predict_proba(L_test), atol=1e-6)


def test_distinct_patterns_rebuild_the_matrix():
    L = np.array([[0, -1, 1], [1, 1, 1], [0, -1, 1], [-1, -1, -1]], dtype=np.int8)
    patterns, inverse, counts = distinct_patterns(L)
    assert len(patterns) == 3 and counts.sum() == 4
    assert (patterns[inverse] == L).all()


def test_class_balance_needs_enough_labels():
    assert class_balance_from_labels(np.array([0, 1, -1]), 2) is None
    balance = class_balance_from_labels(np.array([0] * 18 + [1] * 2 + [-1] * 5), 2)
    np.testing.assert_allclose(balance, [19 / 22, 3 / 22])


def test_abstain_prior_only_changes_all_abstain_rows():
    L = np.array([[-1, -1], [1, -1], [0, 1]])
    probs = majority_vote_proba(L, 2, abstain_prior=np.array([0.9, 0.1]))
    np.testing.assert_allclose(probs, [[0.9, 0.1], [0.0, 1.0], [0.5, 0.5]])


@pytest.mark.slow
def test_pipeline_does_not_lose_to_majority_vote(youtube, sms):
    for ds, metric, published in ((youtube, "accuracy", 84.0), (sms, "f1", 23.97)):
        valid, test = ds.splits["valid"], ds.splits["test"]
        choice = choose_label_model(
            ds.splits["train"].weak_labels, 2, L_dev=valid.weak_labels, y_dev=valid.labels
        )
        got = score(test.labels, choice.predict(test.weak_labels), 2)[metric]
        assert got >= published, (ds.path.name, choice.name, choice.scores)
        assert set(choice.scores) == {
            "label_model",
            "label_model_balanced",
            "majority_vote",
            "majority_vote_prior",
        }


def test_fit_label_model_returns_probabilities(youtube):
    valid = youtube.splits["valid"]
    labels = valid.labels.copy()
    labels[60:] = -1  # only some items are human-labeled
    probs = fit_label_model(valid.weak_labels, 2, human_labels=labels)
    assert probs.shape == (len(labels), 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="out of range"):
        fit_label_model(valid.weak_labels, 1)


@pytest.mark.slow
def test_cli_evaluate_last_line_is_json(tmp_path):
    # no train.json: the pipeline fits on valid, as the CLI promises
    for name in ("valid.json", "test.json", "label.json"):
        shutil.copy(WRENCH / "youtube" / name, tmp_path / name)
    result = CliRunner().invoke(ws, ["evaluate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert set(out) == {"majority_vote", "label_model", "chosen", "candidates"}
    assert out["majority_vote"] == {"accuracy": 84.0, "f1": 80.77}
    assert out["label_model"] == out["candidates"][out["chosen"]]
    assert set(out["label_model"]) == {"accuracy", "f1"}
    assert "fitted on valid" in result.output
    # every candidate is printed, the chosen one marked
    for name in out["candidates"]:
        assert any(line.strip().startswith(name) for line in result.output.splitlines())
    assert result.output.count("<- chosen") == 1


def test_cli_evaluate_reports_bad_folders(tmp_path):
    result = CliRunner().invoke(ws, ["evaluate", str(tmp_path)])
    assert result.exit_code != 0 and "label.json" in result.output


def _write_wrench(path, n_classes: int, n_lfs: int, seed: int = 0) -> None:
    """A small WRENCH-format folder with known truth and LFs that are right 80% of the time."""
    rng = np.random.default_rng(seed)
    path.mkdir()
    (path / "label.json").write_text(json.dumps({str(i): f"c{i}" for i in range(n_classes)}))
    for split, n in (("valid", 150), ("test", 200)):
        y = rng.integers(0, n_classes, n)
        items = {}
        for i in range(n):
            votes = []
            for _ in range(n_lfs):
                if rng.random() < 0.4:
                    votes.append(-1)
                elif rng.random() < 0.8:
                    votes.append(int(y[i]))
                else:
                    votes.append(int(rng.integers(0, n_classes)))
            items[str(i)] = {"label": int(y[i]), "weak_labels": votes, "data": {"text": f"t{i}"}}
        (path / f"{split}.json").write_text(json.dumps(items))


@pytest.mark.slow
def test_cli_evaluate_handles_multiclass_and_few_lfs(tmp_path):
    _write_wrench(tmp_path / "four", n_classes=4, n_lfs=6)
    result = CliRunner().invoke(ws, ["evaluate", str(tmp_path / "four")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["label_model"]["accuracy"] > 60  # far above the 25% of chance
    assert out["label_model"]["f1"] >= out["majority_vote"]["f1"] - 5  # macro F1 here
    _write_wrench(tmp_path / "two_lfs", n_classes=3, n_lfs=2)
    result = CliRunner().invoke(ws, ["evaluate", str(tmp_path / "two_lfs")])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert "label_model" not in out["candidates"]  # too few LFs for Snorkel's model
    assert out["label_model"]["accuracy"] > 50
