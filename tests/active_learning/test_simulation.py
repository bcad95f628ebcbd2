"""The offline simulation, its summaries, and ``labelapp simulate``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from active_learning.curves import area_under_curve, summarize
from active_learning.featurize import featurize_texts
from active_learning.simulation import simulate
from labelapp.cli.simulate import simulate as simulate_command
from tests.active_learning.conftest import sms_spam


@pytest.fixture(scope="module")
def sms():
    df = sms_spam(1500)
    return featurize_texts(df["text"].tolist()), df["label"].to_numpy()


@pytest.fixture(scope="module")
def curves(sms):
    X, y = sms
    return simulate(X, y, ["random", "margin"], budget=120, batch_size=20, seeds=2)


def test_curves_run_to_the_budget_for_every_strategy_and_seed(curves):
    assert set(curves["strategy"]) == {"random", "margin"}
    for (_, _), c in curves.groupby(["strategy", "seed"]):
        assert c["n_labels"].tolist() == [20, 40, 60, 80, 100, 120]
        assert c["accuracy"].between(0, 1).all()


def test_strategies_start_from_the_same_labels(curves):
    first = curves[curves["round"] == 0].pivot(index="seed", columns="strategy", values="accuracy")
    np.testing.assert_array_equal(first["random"], first["margin"])


def test_margin_beats_random_on_sms_spam(curves):
    s = summarize(curves)
    assert s["margin"]["auc"] > s["random"]["auc"]
    assert s["margin"]["labels_to_target"] < 120
    assert s["random"]["target_accuracy"] == s["random"]["final_accuracy"]


def test_simulation_is_deterministic(sms, curves):
    X, y = sms
    again = simulate(X, y, ["margin"], budget=120, batch_size=20, seeds=[1])
    mine = curves[(curves["strategy"] == "margin") & (curves["seed"] == 1)]
    np.testing.assert_array_equal(again["accuracy"].to_numpy(), mine["accuracy"].to_numpy())


def test_bad_settings_are_refused(sms):
    X, y = sms
    with pytest.raises(ValueError, match="budget must be between 2 and the pool size"):
        simulate(X, y, ["margin"], budget=10_000, batch_size=10)
    with pytest.raises(ValueError, match="Unknown query strategy"):
        simulate(X, y, ["margn"], budget=50, batch_size=10)
    with pytest.raises(ValueError, match="one label per row"):
        simulate(X, y[:10], ["margin"], budget=50, batch_size=10)


def test_area_under_curve_is_the_mean_accuracy_over_the_label_range():
    assert area_under_curve(np.array([10, 20, 30]), np.array([0.5, 0.7, 0.7])) == pytest.approx(
        0.65
    )
    assert area_under_curve(np.array([10]), np.array([0.4])) == 0.4


def _simulate(data: Path, out: Path, *options: str):
    """``labelapp simulate`` on the ``text`` and ``label`` columns of ``data`` into ``out``."""
    args = ["--data", str(data), "--text-col", "text", "--label-col", "label", "--out", str(out)]
    return CliRunner().invoke(simulate_command, [*args, *options])


@pytest.mark.slow
def test_cli_writes_curves_and_ends_with_a_json_summary(tmp_path):
    data = tmp_path / "sms.jsonl"
    sms_spam(800, seed=2).to_json(data, orient="records", lines=True)
    out = tmp_path / "out"
    result = _simulate(
        data,
        out,
        *("--strategy", "random,margin,cluster", "--budget", "60", "--batch", "20"),
        *("--seeds", "2", "--featurizer", "tfidf"),
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert list(summary) == ["random", "margin", "cluster"]
    for r in summary.values():
        assert 0 < r["final_accuracy"] <= 1 and 0 < r["auc"] <= 1
    curves = pd.read_csv(out / "learning_curves.csv")
    assert len(curves) == 3 * 2 * 3  # strategies x seeds x rounds (20, 40, 60 labels)
    assert (out / "learning_curves.png").stat().st_size > 10_000
    assert set(pd.read_csv(out / "summary.csv")["strategy"]) == set(summary)


def test_cli_reads_headerless_tsv_and_explains_bad_columns(tmp_path):
    data = tmp_path / "sms.tsv"
    sms_spam(300)[["label", "text"]].to_csv(data, sep="\t", header=False, index=False)
    base = [
        "--data",
        str(data),
        "--budget",
        "40",
        "--batch",
        "20",
        "--seeds",
        "1",
        "--strategy",
        "margin",
        "--out",
        str(tmp_path / "o"),
        "--featurizer",
        "tfidf",
    ]
    ok = CliRunner().invoke(
        simulate_command, [*base, "--no-header", "--text-col", "1", "--label-col", "0"]
    )
    assert ok.exit_code == 0, ok.output
    assert "margin" in json.loads(ok.output.strip().splitlines()[-1])
    bad = CliRunner().invoke(
        simulate_command, [*base, "--text-col", "body", "--label-col", "0", "--no-header"]
    )
    assert bad.exit_code != 0 and "no column 'body'" in bad.output
    unknown = CliRunner().invoke(
        simulate_command,
        [*base, "--no-header", "--text-col", "1", "--label-col", "0", "--strategy", "best"],
    )
    assert unknown.exit_code != 0 and "Unknown query strategy 'best'" in unknown.output


@pytest.mark.slow
def test_cli_uses_sentence_embeddings_by_default_and_caches_them(tmp_path):
    data = tmp_path / "sms.csv"
    sms_spam(160, seed=4).to_csv(data, index=False)
    cache = tmp_path / "emb"
    options = ("--budget", "40", "--batch", "10", "--seeds", "1", "--embedding-cache", str(cache))
    result = _simulate(data, tmp_path / "o", *options)
    assert result.exit_code == 0, result.output
    assert "features: embeddings (384 columns)" in result.output
    assert list(json.loads(result.output.strip().splitlines()[-1])) == ["random", "margin", "auto"]
    assert len(list(cache.glob("*.vecs.npy"))) == 1
