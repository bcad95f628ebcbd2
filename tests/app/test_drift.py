"""Drift on the real YouTube comments: two videos drift, random halves of one video do not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.drift.classifier import delong_se
from labelapp.services.drift.compare import compare_groups
from labelapp.services.drift.rule import DriftRule
from labelapp.services.drift.service import drift_between
from labelapp.services.errors import UserError
from tests.app.factories import make_project
from tests.app.youtube import UCI, cli_import, import_labeled, labeled_video

VIDEOS = sorted(UCI.glob("Youtube0*.csv"))
REPORT_KEYS = {"a", "b", "domain_auc", "columns", "labels", "drifted"}


def _video(path: Path) -> pd.DataFrame:
    """A video's comments as the drift library sees them: text, human label, metadata."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame(
        {"$text": df["CONTENT"], "$label": df["CLASS"], "DATE": df["DATE"].replace("", None)}
    )


@pytest.mark.slow
@pytest.mark.parametrize("video", VIDEOS, ids=lambda p: p.stem)
def test_twenty_random_halvings_of_one_video_raise_at_most_one_alarm(video: Path) -> None:
    frame = _video(video)
    alarms = []
    for seed in range(20):
        order = np.random.default_rng(seed).permutation(len(frame))
        half = len(frame) // 2
        report = compare_groups(frame.iloc[order[:half]], frame.iloc[order[half:]], seed=seed)
        assert abs(report["domain_auc"] - 0.5) < 0.15
        alarms.append(report["drifted"])
    assert sum(alarms) <= 1, alarms


@pytest.mark.parametrize(
    "pair",
    [(0, 1), (0, 2), (1, 3), (2, 4), (3, 4)],
    ids=lambda p: f"{VIDEOS[p[0]].stem[:9]}-{VIDEOS[p[1]].stem[:9]}",
)
def test_comments_of_two_videos_drift(pair: tuple[int, int]) -> None:
    report = compare_groups(_video(VIDEOS[pair[0]]), _video(VIDEOS[pair[1]]))
    assert report["drifted"] and report["domain_auc"] > 0.7
    assert report["columns"]["DATE"]["test"] == "ks" and report["columns"]["DATE"]["drifted"]


def test_the_rule_is_a_small_effect_and_its_thresholds_are_settings(monkeypatch) -> None:
    a, b = _video(VIDEOS[0]), _video(VIDEOS[1])  # two videos: domain AUC 0.75
    report = compare_groups(a, b)
    domain = report["columns"]["$domain_classifier"]
    assert report["drifted"] and domain["auc_lower"] > 0.556 and domain["p_small"] < 0.05
    assert (
        domain["min_effect"] == pytest.approx(0.056)
        and report["columns"]["DATE"]["min_effect"] == 0.08
    )
    # a larger smallest AUC than the data can show: no drift; the columns keep their own rule
    strict = compare_groups(a, b, rule=DriftRule(min_auc=0.8, min_ks=0.99))
    assert not strict["drifted"] and not strict["columns"]["DATE"]["drifted"]
    assert strict["columns"]["$domain_classifier"]["auc_lower"] < 0.8
    monkeypatch.setenv("LABELAPP_DRIFT_MIN_AUC", "0.7")
    assert DriftRule.from_settings() == DriftRule(min_auc=0.7)
    assert DriftRule.from_settings(min_auc=0.6, alpha=None).min_auc == 0.6  # an option wins
    with pytest.raises(UserError, match="smallest AUC"):
        DriftRule(min_auc=0.4)


def test_delong_standard_error_is_the_pairwise_one() -> None:
    rng = np.random.default_rng(0)
    pos, neg = rng.normal(0.5, 1, 40).round(1), rng.normal(0, 1, 30).round(1)  # with ties
    pairs = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    expected = np.sqrt(pairs.mean(1).var(ddof=1) / 40 + pairs.mean(0).var(ddof=1) / 30)
    assert delong_se(pos, neg) == pytest.approx(expected)


def test_label_shift_is_concept_drift() -> None:
    frame = _video(VIDEOS[0])
    spam, ham = frame[frame["$label"] == "1"], frame[frame["$label"] == "0"]
    a = pd.concat([spam.iloc[:150], ham.iloc[:50]])
    b = pd.concat([spam.iloc[150:], ham.iloc[50:]])
    labels = compare_groups(a, b)["labels"]
    assert labels["test"] == "chi2" and labels["drifted"] and labels["p"] < 1e-6
    assert labels["share_a"] == {"0": 0.25, "1": 0.75}


def _import(sessions, pid: int, path: Path, tmp_path: Path) -> None:
    target = tmp_path / path.name
    labeled_video(path).to_csv(target, index=False)
    import_labeled(sessions, pid, target, schema="evolve")


def test_drift_between_imports_in_the_database(sessions, tmp_path) -> None:
    pid = make_project(sessions)
    _import(sessions, pid, VIDEOS[0], tmp_path)
    _import(sessions, pid, VIDEOS[1], tmp_path)
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        report = drift_between(
            session, project, f"import:{VIDEOS[0].name}", f"import:{VIDEOS[1].name}"
        )
        assert (report["a"], report["b"]) == (350, 350)
        assert report["drifted"] and report["domain_auc"] > 0.7
        assert report["labels"]["n_a"] == 350 and report["labels"]["test"] == "chi2"
        with pytest.raises(UserError, match="no import named 'x.csv'"):
            drift_between(session, project, "import:x.csv", f"import:{VIDEOS[1].name}")
        with pytest.raises(UserError, match="cannot read the selector"):
            drift_between(session, project, "nonsense", f"import:{VIDEOS[1].name}")


def test_drift_command_ends_with_the_json_report(db_url, tmp_path) -> None:
    frame = pd.read_csv(VIDEOS[4], dtype=str, keep_default_na=False)
    frame["half"] = np.where(np.random.default_rng(3).random(len(frame)) < 0.5, "x", "y")
    path = tmp_path / "shakira.csv"
    frame.to_csv(path, index=False)
    result = cli_import(path, "yt")
    assert result.exit_code == 0, result.output
    runner = CliRunner()
    result = runner.invoke(main, ["drift", "--project", "yt", "--a", "half=x", "--b", "half=y"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert set(report) == REPORT_KEYS
    assert report["a"] + report["b"] == frame["COMMENT_ID"].nunique() and not report["drifted"]
    assert report["columns"]["CLASS"]["test"] == "chi2"
    assert {"test", "statistic", "p", "drifted"} <= set(report["columns"]["DATE"])
    assert report["labels"] == {
        "test": "none",
        "statistic": None,
        "p": None,
        "n_a": 0,
        "n_b": 0,
        "reason": "no human labels in A",
        "drifted": False,
    }
    bad = runner.invoke(main, ["drift", "--project", "yt", "--a", "half=z", "--b", "half=y"])
    assert bad.exit_code != 0 and "picks no items" in bad.output
    ruled = ["drift", "--project", "yt", "--a", "half=x", "--b", "half=y", "--min-ks", "0.5"]
    result = runner.invoke(main, ruled)
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["columns"]["DATE"]["min_effect"] == 0.5
    wrong = runner.invoke(main, [*ruled, "--min-auc", "0.3"])
    assert wrong.exit_code != 0 and "smallest AUC" in wrong.output


def test_each_version_manifest_records_drift_against_the_previous(sessions, tmp_path) -> None:
    import json as jsonlib

    from labelapp.services.export import ExportRequest, export_project

    pid = make_project(sessions)
    _import(sessions, pid, VIDEOS[0], tmp_path)
    first = export_project(sessions, pid, ExportRequest(fmt="csv"), tmp_path / "v1")
    assert first.manifest["provenance"]["drift_from_previous"] is None
    _import(sessions, pid, VIDEOS[3], tmp_path)
    second = export_project(sessions, pid, ExportRequest(fmt="csv"), tmp_path / "v2")
    drift = second.manifest["provenance"]["drift_from_previous"]
    on_disk = jsonlib.loads((tmp_path / "v2" / "manifest.json").read_text())
    assert on_disk["provenance"]["drift_from_previous"] == drift
    # version 2 holds version 1's comments and another video's: the dates and the vocabulary
    # moved; the domain AUC is diluted by the shared comments (0.57 here)
    assert drift["against_version"] == 1 and 0.5 < drift["domain_auc"] < 0.65
    assert drift["columns"]["DATE"]["drifted"] and drift["columns"]["$oov_rate"]["drifted"]
    assert (drift["a"], drift["b"]) == (350, 350 + 446)  # the new version holds both videos
