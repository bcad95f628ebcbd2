"""The label-issue scan on real comments with labels flipped on purpose: it finds them, says
why, stores the scan, and `labelapp review scan` prints them with a JSON last line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import LabelIssue, LabelIssueRun
from tests.app.factories import make_user, wait_for_job
from tests.app.youtube import DEMO_CSV, cli_import

N, FLIPS = 600, 60


@pytest.mark.slow
def test_a_scan_finds_flipped_labels_and_says_why(client, sessions, db_url, tmp_path) -> None:
    frame = pd.read_csv(DEMO_CSV).drop_duplicates("CONTENT").head(N).reset_index(drop=True)
    truth = frame["CLASS"].map({0: "ham", 1: "spam"})
    flipped = np.random.default_rng(7).choice(N, size=FLIPS, replace=False)
    given = truth.copy()
    given.iloc[flipped] = given.iloc[flipped].map({"ham": "spam", "spam": "ham"})
    frame["label"] = given
    path = tmp_path / "comments.csv"
    frame[["COMMENT_ID", "CONTENT", "label"]].to_csv(path, index=False)
    created = cli_import(path, "yt", "--label-col", "label", "--label-source", "human")
    assert created.exit_code == 0, created.output
    result = CliRunner().invoke(
        main, ["review", "scan", "--project", "yt", "--top", str(FLIPS)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output.strip().splitlines()[-1])
    assert summary["scored"] == N and summary["flagged"] >= 20
    wrong = set(frame.loc[flipped, "COMMENT_ID"])
    top = summary["top"]
    hits = sum(row["id"] in wrong for row in top)
    assert hits / len(top) > 0.6  # the noise rate is 0.10
    for row in top[:10]:
        assert row["reasons"] and row["suggested"] != row["label"]
        assert 0.0 <= row["score"] <= 1.0
    assert any(
        r.startswith("model is ") and " sure it is " in r for row in top for r in row["reasons"]
    )
    with session_scope(sessions) as session:
        scan = session.scalar(select(LabelIssueRun))
        assert (scan.n_scored, scan.n_flagged) == (N, summary["flagged"])
        stored = session.scalar(select(func.count()).select_from(LabelIssue))
        assert stored == N  # a score for every human label, flagged or not
    lines = result.output.splitlines()
    assert lines[0].startswith(f"yt: {summary['flagged']:,} of {N:,} labels look wrong")

    # The same through the API: a job, then the scan's labels, most likely wrong first.
    sid = make_user(sessions, "sid", "sme", (1,))
    started = client.post("/api/projects/1/label-issues", headers=sid.headers)
    assert started.status_code == 202
    job = wait_for_job(client, started.get_json()["id"], sid.headers)
    assert job["status"] == "done" and job["result"]["scored"] == N
    page = client.get("/api/projects/1/label-issues?limit=20", headers=sid.headers).get_json()
    assert page["run"]["scored"] == N and page["total"] == page["run"]["flagged"]
    scores = [row["score"] for row in page["issues"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 20
    assert sum(row["external_id"] in wrong for row in page["issues"]) >= 12
    everything = client.get("/api/projects/1/label-issues?flagged=false", headers=sid.headers)
    assert everything.get_json()["total"] == N


def test_a_scan_needs_two_classes_with_labels(sessions, db_url, tmp_path) -> None:
    path = tmp_path / "few.csv"
    path.write_text("id,text,label\na,one,ham\nb,two,ham\nc,three,spam\n")
    run = CliRunner().invoke
    run(
        main,
        [
            "import",
            str(path),
            "--project",
            "few",
            "--create",
            "--labels",
            "ham,spam",
            "--label-col",
            "label",
            "--label-source",
            "human",
        ],
        catch_exceptions=False,
    )
    result = run(main, ["review", "scan", "--project", "few"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "at least 2 labeled items of two classes" in result.output
    assert "2 'ham', 1 'spam'" in result.output
