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
from labelapp.services.drift.compare import compare_groups
from labelapp.services.drift.service import drift_between
from labelapp.services.errors import UserError
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import make_project
from tests.paths import SHARED_DATA

VIDEOS = sorted((SHARED_DATA / "youtube_spam_uci").glob("Youtube0*.csv"))
REPORT_KEYS = {"a", "b", "domain_auc", "columns", "labels", "drifted"}


def _video(path: Path) -> pd.DataFrame:
    """A video's comments as the drift library sees them: text, human label, metadata."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame(
        {"$text": df["CONTENT"], "$label": df["CLASS"], "DATE": df["DATE"].replace("", None)}
    )


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


def test_label_shift_is_concept_drift() -> None:
    frame = _video(VIDEOS[0])
    spam, ham = frame[frame["$label"] == "1"], frame[frame["$label"] == "0"]
    a = pd.concat([spam.iloc[:150], ham.iloc[:50]])
    b = pd.concat([spam.iloc[150:], ham.iloc[50:]])
    labels = compare_groups(a, b)["labels"]
    assert labels["test"] == "chi2" and labels["drifted"] and labels["p"] < 1e-6
    assert labels["share_a"] == {"0": 0.25, "1": 0.75}


def _import(sessions, pid: int, path: Path, tmp_path: Path) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["label"] = df.pop("CLASS").map({"0": "ham", "1": "spam"})
    target = tmp_path / path.name
    df.to_csv(target, index=False)
    options = ImportOptions(
        text_col="CONTENT",
        id_col="COMMENT_ID",
        group_col="AUTHOR",
        label_col="label",
        label_kind="human",
        schema="evolve",
    )
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), target, options)


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
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "import",
            str(path),
            "--project",
            "yt",
            "--create",
            "--labels",
            "ham,spam",
            "--text-col",
            "CONTENT",
            "--id-col",
            "COMMENT_ID",
        ],
    )
    assert result.exit_code == 0, result.output
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
    # moved; the domain AUC is diluted by the shared half (0.57 here, under the 0.65 floor)
    assert drift["against_version"] == 1 and 0.5 < drift["domain_auc"] < 0.65
    assert drift["columns"]["DATE"]["drifted"] and drift["columns"]["$oov_rate"]["drifted"]
    assert (drift["a"], drift["b"]) == (350, 350 + 446)  # the new version holds both videos
