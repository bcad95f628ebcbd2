"""Imported labels say what they are: ``--label-kind human`` counts like annotators' answers (any
split), ``--label-kind weak`` like a label model's (train only, with its confidence)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Annotation, Item, ProbLabel, Project
from labelapp.services.export import ExportRequest, export_project
from labelapp.services.labels import human_labels, resolve_labels
from tests.app.factories import api_import, make_project, make_user

WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _file(path: Path, start: int, n: int, **extra: list) -> Path:
    texts = [
        f"{WORDS[i % 13]} {WORDS[(i * 7) % 13]} number {i} {'x' * (i % 5)}"
        for i in range(start, start + n)
    ]
    labels = ["spam" if i % 2 else "ham" for i in range(start, start + n)]
    pd.DataFrame(
        {"id": [f"r{i}" for i in range(start, start + n)], "text": texts, "label": labels, **extra}
    ).to_csv(path, index=False)
    return path


def _resolved(sessions, pid: int) -> dict[str, tuple]:
    with session_scope(sessions) as session:
        resolved = resolve_labels(session, session.get(Project, pid))
        names = dict(
            session.execute(select(Item.id, Item.external_id).where(Item.project_id == pid)).all()
        )
    return {names[i]: v for i, v in resolved.labels.items()}


WEAK = ("--label-kind", "weak", "--confidence-col", "score")  # weak labels with their confidence


def _import_labels(path: Path, *options: str):
    """``labelapp import PATH --project kinds --label-col label`` with more ``options``."""
    return run("import", str(path), "--project", "kinds", "--label-col", "label", *options)


def test_cli_label_kinds_and_the_export_splits(db_url, sessions, tmp_path) -> None:
    pid = make_project(sessions, "kinds")
    human = _file(tmp_path / "human.csv", 0, 200)
    weak = _file(
        tmp_path / "weak.csv", 200, 100, score=[0.95 if i % 4 else 0.5 for i in range(100)]
    )
    result = _import_labels(human, "--label-kind", "human")
    assert result.exit_code == 0, result.output
    assert "200 labels (human)" in result.output
    result = _import_labels(weak, *WEAK)
    assert result.exit_code == 0, result.output
    assert "100 labels (weak)" in result.output
    # The same file again records nothing new.
    again = _import_labels(weak, *WEAK)
    assert "0 labels (weak)" in again.output

    got = _resolved(sessions, pid)
    assert got["r3"] == (["spam"], "human", 1.0)
    assert got["r201"] == (["spam"], "import", pytest.approx(0.95))
    assert got["r200"] == (["ham"], "import", pytest.approx(0.5))
    with session_scope(sessions) as session:
        proj = session.get(Project, pid)
        assert len(human_labels(session, proj)) == 200  # weak labels never train the queue's model
        assert session.scalar(select(Annotation.id).where(Annotation.source == "import")) is None
        probs = session.scalars(select(ProbLabel.probs).where(ProbLabel.project_id == pid)).first()
    assert probs == pytest.approx([0.5, 0.5]) or probs == pytest.approx([0.05, 0.95])

    version = export_project(
        sessions, pid, ExportRequest(fmt="csv", min_confidence=0.9), tmp_path / "out"
    )
    rows = pd.read_csv(tmp_path / "out" / "train.csv", dtype={"external_id": str})
    dev_test = pd.concat([pd.read_csv(tmp_path / "out" / f"{s}.csv") for s in ("dev", "test")])
    assert set(dev_test["label_source"]) == {"human"} and len(dev_test) > 20
    weak_rows = rows[rows["label_source"] == "import"]
    assert len(weak_rows) == 75  # the 25 weak labels below 0.9 stay out
    assert version.params["items_per_source"] == {"human": 200, "import": 75}


def test_bad_confidence_and_misused_options_are_refused(db_url, sessions, tmp_path) -> None:
    make_project(sessions, "kinds")
    path = _file(tmp_path / "weak.csv", 0, 3, score=["0.9", "high", "1.5"])
    result = _import_labels(path, *WEAK)
    assert result.exit_code == 1
    assert "line 3: confidence 'high' is not a number from 0 to 1" in result.output
    assert "line 4: confidence '1.5'" in result.output
    result = _import_labels(path, "--confidence-col", "score")
    assert result.exit_code == 2 and "--label-kind weak" in result.output
    result = run("import", str(path), "--project", "kinds", "--label-kind", "weak")
    assert result.exit_code == 2 and "--label-kind needs --label-col" in result.output
    assert "0 items" in run("projects", "list").output


def test_deprecated_label_source_still_works_with_a_warning(db_url, sessions, tmp_path) -> None:
    pid = make_project(sessions, "kinds")
    result = _import_labels(_file(tmp_path / "a.csv", 0, 4), "--label-source", "human")
    assert result.exit_code == 0, result.output
    assert "--label-source is deprecated" in result.output and "--label-kind human" in result.output
    result = _import_labels(_file(tmp_path / "b.csv", 4, 4), "--label-source", "vendor")
    assert "read as --label-kind weak" in result.output
    got = _resolved(sessions, pid)
    assert got["r0"][1] == "human" and got["r5"][1] == "import"


@pytest.mark.slow
def test_api_import_with_label_kind(client, sessions, tmp_path) -> None:
    pid = make_project(sessions, "kinds")
    sme = make_user(sessions, "sam", "sme", (pid,))
    data = _file(tmp_path / "weak.csv", 0, 6, conf=[0.8] * 6).read_bytes()
    job = api_import(
        client,
        pid,
        sme.headers,
        {
            "file": (io.BytesIO(data), "weak.csv"),
            "label_col": "label",
            "label_kind": "weak",
            "confidence_col": "conf",
        },
    )
    assert job["status"] == "done", job
    body = job["result"]
    assert (body["label_kind"], body["annotations_created"]) == ("weak", 6)
    assert {(v[1], round(v[2], 6)) for v in _resolved(sessions, pid).values()} == {("import", 0.8)}
    bad = client.post(
        f"/api/projects/{pid}/imports",
        headers=sme.headers,
        data={"file": (io.BytesIO(data), "weak.csv"), "label_col": "label", "label_kind": "robot"},
        content_type="multipart/form-data",
    )
    assert bad.status_code in (400, 422) and "label_kind" in bad.get_data(as_text=True)
