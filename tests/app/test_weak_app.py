"""Weak supervision in the app as an SME uses it: declarative LFs saved and previewed through the
API, Python LFs loaded and applied through the CLI, the pipeline job storing votes and
probabilistic labels with their sources, and annotators kept out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import labelapp
from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Item, LabelingFunction, LabelModelRun, ProbLabel, WeakLabel
from labelapp.services.imports import import_path
from tests.app.factories import (
    add_labels,
    import_rows,
    lf_page,
    make_project,
    make_user,
    wait_for_job,
)

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

DEMO_CSV = Path(labelapp.__file__).parent / "demo_data" / "youtube_spam.csv"

# Six items, hand-checked: "free" hits t0, t2, t4; humans say t0 spam, t2 ham, t1 ham; so the
# keyword LF voting spam covers 3/6 and is right on 1 of its 2 labeled hits.
TINY = [
    ("t0", "FREE gift card, click now", "ads"),
    ("t1", "great song, love it", "fan"),
    ("t2", "free concert in my town was great", "fan"),
    ("t3", "check out my channel", "ads"),
    ("t4", "get free subscribers", "ads"),
    ("t5", "the bridge at 2:10 is amazing", "fan"),
]
HUMAN = {"t0": "spam", "t1": "ham", "t2": "ham"}
MD_FAN = {  # a metadata LF: the fan channel is ham
    "kind": "metadata",
    "name": "md_fan",
    "label": "ham",
    "field": "channel",
    "op": "==",
    "value": "fan",
}


@pytest.fixture
def tiny(sessions, tmp_path) -> dict:
    project_id = make_project(sessions, "tiny", ("ham", "spam"), allow_ambiguous=True)
    sme = make_user(sessions, "sme", "sme", (project_id,))
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    rows = [("id", "text", "channel"), *TINY]
    ids = import_rows(sessions, project_id, tmp_path / "tiny.csv", rows)
    with session_scope(sessions) as session:
        add_labels(session, project_id, ann.id, [ids[ext] for ext in HUMAN], HUMAN.values())
    return {"project": project_id, "ids": ids, "sme": sme, "ann": ann}


def test_save_validates_each_declarative_kind_and_versions_edits(tiny, client, sessions) -> None:
    url = f"/api/projects/{tiny['project']}/lfs"
    headers = tiny["sme"].headers
    good = [
        {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free", "click"]},
        {"kind": "regex", "name": "re_check", "label": "spam", "pattern": r"check\s+out"},
        MD_FAN,
    ]
    for spec in good:
        saved = client.post(url, json=spec, headers=headers)
        assert saved.status_code == 201, saved.get_json()
        assert (
            saved.get_json()["version"] == 1 and saved.get_json()["spec"]["label"] == spec["label"]
        )
    taken = client.post(url, json=good[0], headers=headers)  # an existing name: asked first
    assert taken.status_code == 409 and "exists (version 1" in taken.get_json()["error"]["message"]
    assert (
        client.post(f"{url}?replace=1", json=good[0], headers=headers).status_code == 200
    )  # unchanged

    bad = [
        (
            {"kind": "regex", "name": "re_bad", "label": "spam", "pattern": "(free"},
            "invalid pattern '(free'",
        ),
        (
            {"kind": "keyword", "name": "kw", "label": "eggs", "keywords": ["x"]},
            "label 'eggs' is not one of this project's labels (ham, spam)",
        ),
        (
            {"kind": "keyword", "name": "kw", "label": "spam", "keywords": []},
            "keywords: List should have at least 1 item",
        ),
        (
            {
                "kind": "metadata",
                "name": "md",
                "label": "ham",
                "field": "channel",
                "op": "~",
                "value": "fan",
            },
            "op: Input should be '=='",
        ),
        ({"kind": "python", "name": "py", "source": "import os"}, "labelapp lf load"),
        (
            {"kind": "keyword", "name": "2bad", "label": "spam", "keywords": ["x"]},
            "name: String should match pattern",
        ),
        (
            {"kind": "keyword", "name": "kw", "label": "spam", "keywords": ["x"], "pattern": "y"},
            "pattern: Extra inputs are not permitted",
        ),
    ]
    for spec, expected in bad:
        res = client.post(url, json=spec, headers=headers)
        assert res.status_code == 400, spec
        assert expected in res.get_json()["error"]["message"], res.get_json()

    edited = client.post(
        f"{url}?replace=1", json={**good[0], "keywords": ["free"]}, headers=headers
    ).get_json()
    assert edited["version"] == 2 and edited["active"]
    listing = client.get(url, headers=headers).get_json()
    assert listing["classes"] == ["ham", "spam"]
    assert {(lf["name"], lf["version"]) for lf in listing["lfs"]} == {
        ("kw_free", 2),
        ("re_check", 1),
        ("md_fan", 1),
    }
    versions = client.get(f"{url}/{edited['id']}/versions", headers=headers).get_json()["versions"]
    assert [(v["version"], v["active"]) for v in versions] == [(1, False), (2, True)]
    off = client.patch(f"{url}/{edited['id']}", json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.get_json()["active"] is False
    old = client.patch(f"{url}/{versions[0]['id']}", json={"active": True}, headers=headers)
    assert old.status_code == 400 and "replaced by version 2" in old.get_json()["error"]["message"]


def test_preview_numbers_on_a_hand_checked_example(tiny, client) -> None:
    url = f"/api/projects/{tiny['project']}/lfs/preview"
    spec = {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]}
    p = client.post(url, json=spec, headers=tiny["sme"].headers).get_json()
    assert (p["n_items"], p["n_hits"], p["n_labeled_hits"], p["correct"]) == (6, 3, 2, 1)
    assert p["coverage"] == pytest.approx(0.5) and p["emp_accuracy"] == pytest.approx(0.5)
    assert [h["external_id"] for h in p["hits"]] == ["t0", "t2", "t4"]
    assert [h["human"] for h in p["hits"]] == ["spam", "ham", None]
    md = dict(MD_FAN)
    p = client.post(url, json=md, headers=tiny["sme"].headers).get_json()
    assert [h["external_id"] for h in p["hits"]] == ["t1", "t2", "t5"]
    assert (p["correct"], p["n_labeled_hits"]) == (2, 2)  # t1 and t2 are ham
    # nothing was saved by previewing
    assert (
        client.get(f"/api/projects/{tiny['project']}/lfs", headers=tiny["sme"].headers).get_json()[
            "lfs"
        ]
        == []
    )


PY_LFS = """
from snorkel.labeling import labeling_function

@labeling_function()
def has_free(x):
    return 1 if "free" in x.text.lower() else -1

@labeling_function()
def mentions_song(x):
    return 0 if "song" in x.text.lower() else -1
"""


@pytest.mark.slow
def test_cli_loads_python_lfs_and_applies_them(
    tiny, client, sessions, tmp_path, inline_jobs
) -> None:
    path = tmp_path / "my_lfs.py"
    path.write_text(PY_LFS)
    runner = CliRunner()
    loaded = runner.invoke(main, ["lf", "load", str(path), "--project", "tiny", "--author", "sme"])
    assert loaded.exit_code == 0, loaded.output
    assert "has_free: version 1" in loaded.output and "0=ham, 1=spam" in loaded.output
    again = runner.invoke(main, ["lf", "load", str(path), "--project", "tiny"])
    assert "has_free: unchanged (version 1)" in again.output
    with session_scope(sessions) as session:
        rows = session.scalars(select(LabelingFunction).order_by(LabelingFunction.name)).all()
        assert [(r.name, r.kind, r.source) for r in rows] == [
            ("has_free", "python", PY_LFS),
            ("mentions_song", "python", PY_LFS),
        ]
    listed = runner.invoke(main, ["lf", "list", "--project", "tiny"])
    assert "has_free\tpython\tv1\ton" in listed.output

    applied = runner.invoke(main, ["lf", "apply", "--project", "tiny"])
    assert applied.exit_code == 0, applied.output
    assert (
        "applied 2 LFs to 6 items on pandas (in process): 4 votes, 4 items covered"
        in applied.output
    )
    with session_scope(sessions) as session:
        votes = {
            (session.get(Item, i).external_id, session.get(LabelingFunction, lf).name): v
            for i, lf, v in session.execute(
                select(WeakLabel.item_id, WeakLabel.lf_id, WeakLabel.vote)
            )
        }
        sources = dict(
            session.execute(select(ProbLabel.source, func.count()).group_by(ProbLabel.source)).all()
        )
        runs = session.scalars(select(LabelModelRun).order_by(LabelModelRun.id)).all()
    assert votes == {
        ("t0", "has_free"): 1,
        ("t2", "has_free"): 1,
        ("t4", "has_free"): 1,
        ("t1", "mentions_song"): 0,
    }
    assert sources["label_model"] == 4 and sources["propagation"] >= 4
    assert [r.kind for r in runs] == ["apply", "label_model", "propagation"]
    assert (
        runs[0].metrics["applier"] == "pandas (in process)" and runs[0].params["engine"] == "pandas"
    )
    assert runs[1].metrics["n_evaluated"] == 3  # t0, t1, t2 are covered and human-labeled

    analysis = client.get(
        f"/api/projects/{tiny['project']}/lfs/analysis", headers=tiny["sme"].headers
    ).get_json()
    by_name = {r["name"]: r for r in analysis["rows"]}
    assert by_name["has_free"]["coverage"] == pytest.approx(0.5)
    assert (by_name["has_free"]["correct"], by_name["has_free"]["incorrect"]) == (1, 1)
    assert [d["item_id"] for d in by_name["has_free"]["disagreements"]] == [tiny["ids"]["t2"]]
    assert by_name["mentions_song"]["emp_accuracy"] == 1.0
    assert by_name["has_free"]["polarity"] == ["spam"]


@pytest.mark.slow
def test_pipeline_job_stores_votes_and_prob_labels_with_sources(client, sessions, tmp_path) -> None:
    """Real comments: an SME's keyword LFs, the pipeline as a background job, then the page."""
    comments = pd.read_csv(DEMO_CSV).drop_duplicates("CONTENT").head(120).reset_index(drop=True)
    project_id = make_project(sessions, "yt", ("ham", "spam"))
    path = tmp_path / "yt.csv"
    comments.assign(id=[f"c{i}" for i in range(len(comments))], text=comments["CONTENT"])[
        ["id", "text"]
    ].to_csv(path, index=False)
    sme = make_user(sessions, "sme", "sme", (project_id,))
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    with session_scope(sessions) as session:
        from labelapp.models import Project

        import_path(session, session.get(Project, project_id), path)
        ids = session.scalars(
            select(Item.id).where(Item.project_id == project_id).order_by(Item.position)
        ).all()
        truth = ["spam" if cls else "ham" for cls in comments["CLASS"][:60]]
        add_labels(session, project_id, ann.id, ids[:60], truth)
    url = f"/api/projects/{project_id}"
    for spec in (
        {"kind": "keyword", "name": "kw_check", "label": "spam", "keywords": ["check", "subscri"]},
        {"kind": "regex", "name": "re_link", "label": "spam", "pattern": r"https?://|\.com"},
        {"kind": "keyword", "name": "kw_song", "label": "ham", "keywords": ["song", "views"]},
    ):
        assert client.post(f"{url}/lfs", json=spec, headers=sme.headers).status_code == 201

    started = client.post(f"{url}/ws/pipeline", headers=sme.headers)
    assert started.status_code == 202, started.get_json()
    job = wait_for_job(client, started.get_json()["id"], sme.headers)
    assert job["status"] == "done", job
    assert job["kind"] == "ws_pipeline" and job["progress"] == 1.0
    result = job["result"]
    with session_scope(sessions) as session:
        n_votes = session.scalar(select(func.count()).select_from(WeakLabel))
        rows = session.execute(
            select(ProbLabel.source, ProbLabel.label_model_run_id, func.count()).group_by(
                ProbLabel.source, ProbLabel.label_model_run_id
            )
        ).all()
        runs = {r.kind: r for r in session.scalars(select(LabelModelRun))}
    assert n_votes == result["apply"]["n_votes"] > 0
    assert (
        result["apply"]["applier"] == "pandas (in process)"
    )  # 120 items: below the Dask threshold
    assert {(s, run) for s, run, _ in rows} == {  # "Run all": the end model's predictions too
        ("label_model", result["label_model_run_id"]),
        ("propagation", result["propagation_run_id"]),
        ("model", result["end_model_run_id"]),
    }
    assert result["end_model"]["n_items"] == 120
    counts = {s: n for s, _, n in rows}
    assert counts["label_model"] == result["apply"]["n_covered"]
    assert counts["propagation"] > counts["label_model"]  # it reaches items no LF covers
    assert runs["label_model"].job_id == job["id"] and runs["propagation"].job_id == job["id"]
    lm = runs["label_model"].metrics
    assert lm["n_evaluated"] > 0 and lm["accuracy"] > 60  # real comments, three rough LFs
    assert result["propagation"]["n_new"] > 0

    page = lf_page(client, project_id, sme.headers)  # the LF analysis: a job too
    for text in (
        "kw_check",
        "re_link",
        f"label_model {counts['label_model']}",
        f"propagation {counts['propagation']}",
        'id="lf-chart"',
        lm["chosen"],
        f"{n_votes:,} votes of 3 LF(s) on 120 items, applied on pandas (in process)",
    ):
        assert text in page, text
    assert "run in the sandbox" in page and "labelapp lf load" in page


@pytest.mark.slow
def test_annotators_are_refused_pages_and_routes(tiny, client) -> None:
    project_id, headers = tiny["project"], tiny["ann"].headers
    url = f"/api/projects/{project_id}"
    spec = {"kind": "keyword", "name": "kw", "label": "spam", "keywords": ["free"]}
    calls = [
        ("get", f"/projects/{project_id}/lfs"),
        ("get", f"{url}/lfs"),
        ("post", f"{url}/lfs"),
        ("post", f"{url}/lfs/preview"),
        ("get", f"{url}/lfs/analysis"),
        ("get", f"{url}/ws/runs"),
        ("post", f"{url}/ws/pipeline"),
        ("post", f"{url}/ws/apply"),
    ]
    for method, path in calls:
        assert client.open(path, method=method, json=spec, headers=headers).status_code == 403, path
    saved = client.post(f"{url}/lfs", json=spec, headers=tiny["sme"].headers).get_json()
    for method, path in (
        ("patch", f"{url}/lfs/{saved['id']}"),
        ("get", f"{url}/lfs/{saved['id']}/versions"),
    ):
        assert (
            client.open(path, method=method, json={"active": False}, headers=headers).status_code
            == 403
        )
    project_page = client.get(f"/projects/{project_id}", headers=headers).get_data(as_text=True)
    assert 'id="lfs-link"' not in project_page
    sme_page = client.get(f"/projects/{project_id}", headers=tiny["sme"].headers)
    assert 'id="lfs-link"' in sme_page.get_data(as_text=True)
    assert client.post(f"{url}/ws/bogus", headers=tiny["sme"].headers).status_code == 400
