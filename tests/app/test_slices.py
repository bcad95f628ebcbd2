"""Slices: each figure against a hand computation (Wilson interval, human level, accuracy, gap,
order, small marks), then the report of a real project."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Item, Project
from labelapp.services.errors import UserError
from labelapp.services.labels import human_labels
from labelapp.services.slice_stats import agreement_hits, slice_rows, wilson
from labelapp.services.slices import slice_report
from tests.app.factories import add_labels, make_project, make_user
from tests.app.youtube import UCI, cli_import, import_labeled, labeled_video

PSY = UCI / "Youtube01-Psy.csv"


def test_wilson_interval_by_hand() -> None:
    low, high = wilson(8, 10)
    # p = 0.8, z = 1.96: centre (0.8 + z²/20) / (1 + z²/10),
    # half z·sqrt(0.016 + z²/400) / (1 + z²/10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0 and wilson(0, 0) is None


def test_human_level_is_agreement_with_the_others() -> None:
    assert agreement_hits({1: ["a"], 2: ["a"]}) == (2, 2)
    # 1 and 2 each face a tie (a vs b): no verdict; 3 faces a majority "a" and disagrees
    assert agreement_hits({1: ["a"], 2: ["a"], 3: ["b"]}) == (0, 1)
    assert agreement_hits({1: ["a"], 2: ["a"], 3: ["a"], 4: ["b"]}) == (3, 4)
    assert agreement_hits({1: ["a"]}) == (0, 0)


def test_slice_rows_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "lang": ["en"] * 5 + ["fr"] * 3,
            "label": ["a", "a", "b", "b", None, "a", "b", None],
            "prediction": ["a", "a", "b", "a", None, "b", "b", None],
            "human_hits": [1, 1, 0, 0, 0, 1, 0, 0],
            "human_judged": [1, 1, 0, 0, 0, 1, 1, 0],
        }
    )
    rows = slice_rows(frame, "lang")
    assert [r["value"] for r in rows] == ["en", "fr"]  # gap 1 - 3/4 = .25 before .5 - .5 = 0
    en, fr = rows
    assert (en["items"], en["human_labels"], en["model_accuracy"], en["human_level"]) == (
        5,
        4,
        0.75,
        1.0,
    )
    assert en["model_interval"] == list(wilson(3, 4)) and math.isclose(en["gap"], 0.25)
    assert (
        fr["items"],
        fr["human_labels"],
        fr["model_accuracy"],
        fr["human_level"],
        fr["gap"],
    ) == (3, 2, 0.5, 0.5, 0.0)
    assert en["small"] and fr["small"]


def _psy_with_links(tmp_path) -> tuple[pd.DataFrame, Path]:
    """Psy's comments with their labels and a ``link`` column (yes: the text has a link)."""
    df = labeled_video(PSY)
    df["link"] = np.where(df["CONTENT"].str.contains("http", case=False), "yes", "no")
    path = tmp_path / "psy.csv"
    df.to_csv(path, index=False)
    return df, path


def _project_with_overlap(sessions, tmp_path) -> tuple[int, pd.DataFrame]:
    df, path = _psy_with_links(tmp_path)
    pid = make_project(sessions)
    ann = [make_user(sessions, f"ann{i}", "annotator", (pid,)) for i in range(2)]
    import_labeled(sessions, pid, path)
    with session_scope(sessions) as session:
        items = session.execute(select_items(pid)).all()
        # Overlap on the first 12 items: both annotators agree on 9, disagree on 3.
        for n, (item_id, external) in enumerate(items[:12]):
            truth = df.loc[df["COMMENT_ID"] == external, "label"].iloc[0]
            other = "spam" if truth == "ham" else "ham"
            for user, answer in ((ann[0], truth), (ann[1], truth if n < 9 else other)):
                add_labels(session, pid, user.id, [item_id], [answer])
    return pid, df


def select_items(pid: int):
    from sqlalchemy import select

    return select(Item.id, Item.external_id).where(Item.project_id == pid).order_by(Item.position)


def test_slice_report_of_a_real_project(sessions, tmp_path) -> None:
    pid, df = _project_with_overlap(sessions, tmp_path)
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        report = slice_report(session, project, "link")
        labels = human_labels(session, project)
        with pytest.raises(UserError, match="no metadata column 'nope'"):
            slice_report(session, project, "nope")
    unique = df.drop_duplicates("COMMENT_ID")
    by_value = {r["value"]: r for r in report["slices"]}
    assert set(by_value) == {"yes", "no"}
    for value, row in by_value.items():
        ids = set(unique.loc[unique["link"] == value, "COMMENT_ID"])
        assert row["items"] == len(ids)
    assert sum(r["items"] for r in report["slices"]) == report["items"] == len(unique)
    assert sum(r["human_labels"] for r in report["slices"]) == report["human_labels"] == len(labels)
    # human level: 12 overlap items, each with 2 answers: 9 agreeing pairs (18 hits of 24 judged)
    assert sum(r["human_judged"] for r in report["slices"]) == 24
    assert (
        sum(r["human_level"] * r["human_judged"] for r in report["slices"] if r["human_judged"])
        == 18
    )
    for row in report["slices"] + report["classes"]:
        hits = round(row["model_accuracy"] * row["human_labels"])
        assert row["model_interval"] == list(wilson(hits, row["human_labels"]))
        assert row["small"] == (row["human_labels"] < 30)
    gaps = [r["gap"] for r in report["slices"] if r["gap"] is not None]
    assert gaps == sorted(gaps, reverse=True)
    assert {r["value"] for r in report["classes"]} == {"ham", "spam"}
    assert 0.8 < report["model_accuracy"] <= 1.0  # spam vs ham on TF-IDF, held out


def test_slices_command(db_url, tmp_path) -> None:
    _, path = _psy_with_links(tmp_path)
    result = cli_import(path, "psy", "--label-col", "label", "--label-kind", "human")
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["slices", "--project", "psy", "--by", "link"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "by link:" and "by class:" in lines
    import json

    report = json.loads(lines[-1])
    assert report["by"] == "link" and report["human_labels"] == 350
