"""Renaming and merging labels rewrite every stored name (issue 17): answers, gold answers,
corrections and the labels they replaced, probabilistic labels, label-issue scans, labeling
functions and (merge) their votes, counted in the label-set history; retired labels are kept and
marked in exports and in agreement. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import (
    Annotation,
    Item,
    LabelCorrection,
    LabelIssue,
    LabelIssueRun,
    ProbLabel,
    Project,
    WeakLabel,
)
from tests.app.factories import add_items, make_project, make_user
from tests.conftest import login

LABELS = ("ham", "spam", "eggs")


def _label_everything(api, people, pid: int, n: int) -> None:
    """Each annotator answers every item: item i gets LABELS[i % 3] from both."""
    for who in people:
        for _ in range(n):
            claim = api.post(f"/api/projects/{pid}/next", headers=who.headers).get_json()
            position = int(claim["item"]["external_id"][1:])
            sent = api.post(
                f"/api/items/{claim['item']['id']}/annotations",
                headers=who.headers,
                json={"labels": [LABELS[position % 3]], "client_id": str(uuid.uuid4())},
            )
            assert sent.status_code == 201


def _world(app, sessions, tmp_path):
    pid = make_project(sessions, "zoo", LABELS, overlap_k=2)
    texts = [f"comment number {i}" for i in range(6)]
    ids = add_items(sessions, pid, texts, tmp_path)
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,answer\ng1,a known eggs comment,eggs\n")
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.weak.lfs import save_lf

    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        import_path(session, project, gold, ImportOptions(label_col="answer", gold=True))
        lf, _ = save_lf(
            session,
            project,
            {"name": "kw", "kind": "keyword", "keywords": ["1"], "label": "eggs"},
            None,
        )
        session.add_all(WeakLabel(item_id=i, lf_id=lf.id, vote=2) for i in ids[:3])
        session.add(
            ProbLabel(item_id=ids[2], project_id=pid, source="import", probs=[0, 0, 1],
                      label="eggs", confidence=1.0)
        )  # fmt: skip
        run = LabelIssueRun(project_id=pid)
        session.add(run)
        session.flush()
        session.add(
            LabelIssue(run_id=run.id, item_id=ids[2], label="eggs", suggested="ham", score=0.9)
        )
    people = [make_user(sessions, f"ann{i}", "annotator", (pid,)) for i in (1, 2)]
    sam = make_user(sessions, "sam", "sme", (pid,))
    root = make_user(sessions, "root", "admin")
    api = app.test_client()
    _label_everything(api, people, pid, len(texts))
    corrected = api.post(
        f"/api/items/{ids[0]}/corrections",
        headers=sam.headers,
        json={"labels": ["eggs"], "reason": "it is about eggs"},
    )
    assert corrected.status_code == 201
    corrected = api.post(
        f"/api/items/{ids[2]}/corrections",
        headers=sam.headers,
        json={"labels": ["ham"], "reason": "not eggs after all"},
    )
    assert corrected.get_json()["previous_labels"] == ["eggs"]
    return pid, ids, sam, root, api


def _names_stored(sessions, pid: int) -> set[str]:
    with session_scope(sessions) as session:
        names: set[str] = set()
        for column, where in (
            (Annotation.labels, Annotation.project_id == pid),
            (Item.gold_labels, Item.project_id == pid),
            (LabelCorrection.labels, LabelCorrection.project_id == pid),
            (LabelCorrection.previous_labels, LabelCorrection.project_id == pid),
        ):
            for (labels,) in session.execute(select(column).where(where)):
                names |= set(labels or [])
        names |= set(session.scalars(select(ProbLabel.label).where(ProbLabel.project_id == pid)))
        for label, suggested in session.execute(select(LabelIssue.label, LabelIssue.suggested)):
            names |= {label, suggested}
        return names


def test_rename_and_merge_rewrite_every_store(app, sessions, tmp_path) -> None:
    pid, ids, sam, _root, api = _world(app, sessions, tmp_path)
    renamed = api.post(
        f"/api/projects/{pid}/labels/rename",
        headers=sam.headers,
        json={"old": "eggs", "new": "bacon"},
    ).get_json()
    assert renamed["answers_changed"] == 5  # items 2 and 5, two answers each; the gold answer
    assert renamed["history"][0]["rewritten"] == {
        "answers": 5,
        "gold_answers": 1,
        "corrections": 1,
        "corrected_labels": 1,
        "probabilistic_labels": 1,
        "label_issues": 1,
        "labeling_functions": 1,
    }
    assert "eggs" not in _names_stored(sessions, pid)
    assert "bacon" in _names_stored(sessions, pid)

    merged = api.post(
        f"/api/projects/{pid}/labels/merge",
        headers=sam.headers,
        json={"source": "bacon", "target": "spam", "preview": False},
    ).get_json()
    assert merged["history"][0]["kind"] == "merge"
    assert merged["history"][0]["rewritten"]["lf_votes"] == 3
    assert {lab["name"]: lab["retired"] for lab in merged["labels"]}["bacon"] is True
    assert "bacon" not in _names_stored(sessions, pid)
    with session_scope(sessions) as session:
        assert set(session.scalars(select(WeakLabel.vote))) == {1}  # spam's class index
        latest = session.scalar(
            select(LabelCorrection.labels)
            .where(LabelCorrection.item_id == ids[0])
            .order_by(LabelCorrection.id.desc())
        )
        assert latest == ["spam"]
    web = app.test_client()
    login(web, "sam", sam.password)
    page = web.get(f"/projects/{pid}").get_data(as_text=True)
    assert "also 1 corrected labels, 1 corrections, 1 gold answers" in page
    assert "3 lf votes" in page


@pytest.mark.slow
def test_retired_labels_are_exported_and_marked_in_agreement(app, sessions, tmp_path) -> None:
    from labelapp.services.export import ExportRequest, export_project

    pid, _ids, sam, root, api = _world(app, sessions, tmp_path)
    retired = api.post(
        f"/api/projects/{pid}/labels/retire", headers=sam.headers, json={"name": "eggs"}
    )
    assert retired.status_code == 200
    out = tmp_path / "export"
    export_project(sessions, pid, ExportRequest(fmt="jsonl", ratios=(1.0, 0.0, 0.0)), out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["provenance"]["retired_labels"] == ["eggs"]
    assert {"name": "eggs", "retired": True, "ambiguous": False} in manifest["provenance"]["labels"]
    assert manifest["counts"]["train"]["eggs"] >= 1  # its answers stay, in the split
    rows = [json.loads(line) for p in out.glob("*.jsonl") for line in p.read_text().splitlines()]
    assert "eggs" in {r["label"] for r in rows}

    # The page's parameters (the defaults): the page then shows this report.
    got = api.get(f"/api/projects/{pid}/agreement?wait=120", headers=root.headers)
    assert got.status_code == 200, got.get_json()
    report = got.get_json()
    assert report["retired_labels"] == ["eggs"]
    web = app.test_client()
    login(web, "root", root.password)
    page = web.get(f"/projects/{pid}/agreement").get_data(as_text=True)
    row = page[page.index('<tr data-label="eggs">') :].split("</tr>")[0]
    assert "retired" in row
    assert (
        'data-label="spam"' in page
        and "retired" not in page[page.index('data-label="spam"') :].split("</tr>")[0]
    )
