"""``--include-unlabeled``: the items an export leaves out come in ``unlabeled.<ext>`` with their
weak label or model prediction and confidence (CLI, API job, page form)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Item, ProbLabel
from tests.app.factories import add_items, add_labels, make_project, make_user, wait_for_job


def _project(sessions, tmp_path) -> tuple[int, list[int]]:
    """12 items: 6 labeled by an annotator, one weak label below 0.9, one end-model prediction
    and one confident weak label; three with nothing."""
    pid = make_project(sessions, "pool")
    texts = [f"comment number {i} about {w}" for i, w in enumerate("abcdefghijkl")]
    ids = add_items(sessions, pid, texts, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    with session_scope(sessions) as session:
        add_labels(session, pid, ann.id, ids[:6], ["ham", "spam"] * 3)
        for item_id, source, label, conf in (
            (ids[6], "label_model", "spam", 0.6),
            (ids[7], "model", "ham", 0.7),
            (ids[8], "label_model", "ham", 0.97),
        ):
            session.add(
                ProbLabel(
                    project_id=pid,
                    item_id=item_id,
                    source=source,
                    label=label,
                    confidence=conf,
                    probs=[conf, 1 - conf],
                )
            )
    return pid, ids


def test_cli_writes_the_unlabeled_pool_with_predictions(db_url, sessions, tmp_path) -> None:
    pid, ids = _project(sessions, tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "export",
            "--project",
            "pool",
            "--format",
            "csv",
            "--out",
            str(out),
            "--include-unlabeled",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert (
        "unlabeled.csv: 5 items without a label, 2 with a weak label or prediction" in result.output
    )
    pool = pd.read_csv(out / "unlabeled.csv").set_index("item_id")
    assert sorted(pool.index) == sorted(ids[6:8] + ids[9:])  # the 0.97 weak label was exported
    assert (pool.loc[ids[6], "prediction"], pool.loc[ids[6], "prediction_source"]) == (
        "spam",
        "label_model",
    )
    assert pool.loc[ids[7], ["prediction", "prediction_source", "confidence"]].tolist() == [
        "ham",
        "model",
        0.7,
    ]
    assert pool.loc[ids[9], ["prediction", "confidence"]].isna().all()
    assert {"text", "external_id"} <= set(pool.columns)
    manifest = json.loads((out / "manifest.json").read_text())
    assert "unlabeled.csv" not in manifest["files"]  # not a split of the versioned data set
    # Without the flag there is no such file.
    again = CliRunner().invoke(
        main,
        ["export", "--project", "pool", "--format", "csv", "--out", str(tmp_path / "plain")],
        catch_exceptions=False,
    )
    assert again.exit_code == 0 and not (tmp_path / "plain" / "unlabeled.csv").exists()


@pytest.mark.slow
def test_api_label_studio_export_pre_annotates_the_pool(
    client, sessions, tmp_path, monkeypatch
) -> None:
    # No wait: the POST answers 202 with the job at once, to be polled.
    monkeypatch.setenv("LABELAPP_EXPORT_WAIT_SECONDS", "0")
    pid, ids = _project(sessions, tmp_path)
    sme = make_user(sessions, "sam", "sme", (pid,))
    response = client.post(
        f"/api/projects/{pid}/exports",
        headers=sme.headers,
        json={"format": "label_studio", "include_unlabeled": True},
    )
    assert response.status_code == 202, response.get_json()
    job = wait_for_job(client, response.get_json()["id"], sme.headers)
    assert job["status"] == "done", job
    version = client.get(f"/api/projects/{pid}/exports/1", headers=sme.headers).get_json()
    assert version["unlabeled"]["n_items"] == 5 and version["unlabeled"]["n_predicted"] == 2
    with session_scope(sessions) as session:
        from labelapp.models import DatasetVersion

        folder = session.scalar(
            select(DatasetVersion.out_dir).where(DatasetVersion.project_id == pid)
        )
        texts = dict(
            session.execute(select(Item.id, Item.text).where(Item.project_id == pid)).all()
        )
    from pathlib import Path

    tasks = json.loads((Path(folder) / "unlabeled.json").read_text())
    by_item = {t["data"]["item_id"]: t for t in tasks}
    assert by_item[ids[7]]["data"]["text"] == texts[ids[7]]
    prediction = by_item[ids[7]]["predictions"][0]
    assert (prediction["model_version"], prediction["score"]) == ("model", 0.7)
    assert prediction["result"][0]["value"]["choices"] == ["ham"]
    assert by_item[ids[10]]["predictions"] == []


def test_the_split_reports_chi_squared_test_matches_scipy() -> None:
    """The export's balance report computes the chi-squared test without importing scipy.stats
    (seconds per job process); it must give scipy's statistic, p value and degrees of freedom."""
    import numpy as np
    from scipy.stats import chi2_contingency

    from augment.balance import chi2_independence

    rng = np.random.default_rng(7)
    for shape in ((2, 2), (3, 2), (3, 4), (2, 6)):
        table = rng.integers(1, 60, shape)
        expected = chi2_contingency(table)
        assert chi2_independence(table) == (
            pytest.approx(expected.statistic),
            pytest.approx(expected.pvalue),
            expected.dof,
        )
