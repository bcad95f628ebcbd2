"""LF application on Dask in the app: above LABELAPP_DASK_MIN_ITEMS (a LocalCluster) or at the
scheduler LABELAPP_DASK_SCHEDULER names, the stored votes equal those of the in-process applier,
Python LFs included, and the run says which applier ran."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

import labelapp
from labelapp.cli import main
from labelapp.db import session_scope
from labelapp.models import Item, LabelModelRun, Project, WeakLabel
from labelapp.services.errors import UserError
from labelapp.services.weak.lfs import latest_lfs, load_python_lfs, save_lf
from labelapp.services.weak.votes import apply_lfs
from tests.app.factories import add_items, make_project

# Each test on one of the two databases (tests/conftest.py): the part reads on both are tested
# by test_weak_parts.py and test_retrain_dask.py; Dask clusters cost CI time.
pytestmark = pytest.mark.one_backend

DEMO_CSV = Path(labelapp.__file__).parent / "demo_data" / "youtube_spam.csv"
PY_LFS = """
from snorkel.labeling import labeling_function

@labeling_function()
def short_comment(x):
    return 0 if len(x.text.split()) < 5 else -1

@labeling_function()
def has_link(x):
    return 1 if "http" in x.text.lower() else -1
"""
SPECS = (
    {"kind": "keyword", "name": "kw_check", "label": "spam", "keywords": ["check", "subscri"]},
    {"kind": "regex", "name": "re_song", "label": "ham", "pattern": r"\bsong|love (it|this)"},
)


@pytest.fixture
def project(sessions, tmp_path) -> int:
    """300 real YouTube comments, two declarative LFs and two Python LFs from a file."""
    texts = pd.read_csv(DEMO_CSV).drop_duplicates("CONTENT")["CONTENT"].head(300).tolist()
    project_id = make_project(sessions, "yt", ("ham", "spam"))
    add_items(sessions, project_id, texts, tmp_path)
    path = tmp_path / "yt_lfs.py"
    path.write_text(PY_LFS)
    with session_scope(sessions) as session:
        target = session.get(Project, project_id)
        for spec in SPECS:
            save_lf(session, target, dict(spec), None)
        load_python_lfs(session, target, path, None)
    return project_id


def _votes(sessions) -> set[tuple[int, int, int]]:
    with session_scope(sessions) as session:
        return set(
            session.execute(select(WeakLabel.item_id, WeakLabel.lf_id, WeakLabel.vote)).all()
        )


def _apply_runs(sessions) -> list[LabelModelRun]:
    with session_scope(sessions) as session:
        runs = session.scalars(
            select(LabelModelRun).where(LabelModelRun.kind == "apply").order_by(LabelModelRun.id)
        ).all()
        session.expunge_all()
        return list(runs)


@pytest.mark.slow
def test_local_cluster_above_the_threshold_stores_the_pandas_votes(
    project, sessions, monkeypatch
) -> None:
    monkeypatch.delenv("LABELAPP_DASK_SCHEDULER", raising=False)
    monkeypatch.delenv("LABELAPP_DASK_MIN_ITEMS", raising=False)
    in_process = apply_lfs(sessions, project)
    assert in_process["applier"] == "pandas (in process)"
    pandas_votes = _votes(sessions)
    assert len(pandas_votes) == in_process["n_votes"] > 50
    assert {lf for _, lf, _ in pandas_votes} == {lf.id for lf in _lfs(sessions, project)}

    monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", "1")
    monkeypatch.setenv("LABELAPP_DASK_PART_ITEMS", "70")  # 300 items: 5 parts
    messages: list[str] = []
    on_dask = apply_lfs(sessions, project, lambda f, m: messages.append(m))
    assert on_dask["applier"].startswith("dask (LocalCluster")
    assert any("LocalCluster" in m for m in messages), messages
    assert _votes(sessions) == pandas_votes
    assert on_dask.pop("n_parts") == 5
    assert {k: v for k, v in on_dask.items() if k != "applier"} == {
        k: v for k, v in in_process.items() if k != "applier"
    }
    runs = _apply_runs(sessions)
    assert [r.params["engine"] for r in runs] == ["pandas", "dask"]
    assert runs[1].metrics["n_votes"] == len(pandas_votes)


@pytest.mark.slow
def test_configured_scheduler_runs_the_cli_apply_with_the_same_votes(
    project, sessions, monkeypatch, dask_scheduler
) -> None:
    monkeypatch.delenv("LABELAPP_DASK_SCHEDULER", raising=False)
    monkeypatch.delenv("LABELAPP_DASK_MIN_ITEMS", raising=False)
    apply_lfs(sessions, project)
    pandas_votes = _votes(sessions)
    monkeypatch.setenv("LABELAPP_DASK_SCHEDULER", dask_scheduler)
    out = CliRunner().invoke(main, ["lf", "apply", "--project", "yt", "--steps", "apply"])
    assert out.exit_code == 0, out.output
    assert f"on dask (scheduler {dask_scheduler})" in out.output
    assert _votes(sessions) == pandas_votes
    assert _apply_runs(sessions)[-1].params == {
        "engine": "dask",
        "scheduler": dask_scheduler,
        "n_parts": 1,
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("LABELAPP_DASK_MIN_ITEMS", "many", "LABELAPP_DASK_MIN_ITEMS='many' is not a positive"),
        ("LABELAPP_DASK_MIN_ITEMS", "0", "is not a positive whole number"),
        ("LABELAPP_DASK_SCHEDULER", "localhost:8786", "give one like tcp://host:8786"),
    ],
)
def test_bad_dask_settings_are_refused_with_the_setting_named(
    project, sessions, monkeypatch, name, value, expected
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UserError, match=expected):
        apply_lfs(sessions, project)
    assert _votes(sessions) == set()


def _lfs(sessions, project_id: int) -> list:
    with session_scope(sessions) as session:
        rows = latest_lfs(session, project_id, active_only=True)
        session.expunge_all()
        return rows


@pytest.mark.slow
def test_a_part_that_fails_leaves_the_stored_votes_as_they_were(
    project, sessions, monkeypatch, tmp_path, dask_scheduler
) -> None:
    """All or nothing: a Python LF that fails on an item of the last part stores no vote of the
    new apply and keeps every vote of the last one."""
    monkeypatch.setenv("LABELAPP_DASK_SCHEDULER", dask_scheduler)
    monkeypatch.setenv("LABELAPP_DASK_PART_ITEMS", "70")
    before = apply_lfs(sessions, project)
    votes = _votes(sessions)
    with session_scope(sessions) as session:
        last_text = session.scalars(
            select(Item.text).where(Item.project_id == project).order_by(Item.position.desc())
        ).first()
    path = tmp_path / "broken_lf.py"
    path.write_text(
        "from snorkel.labeling import labeling_function\n\n"
        "@labeling_function()\n"
        "def breaks_late(x):\n"
        f"    if x.text == {last_text!r}:\n"
        "        raise ValueError('no such column')\n"
        "    return -1\n"
    )
    with session_scope(sessions) as session:
        load_python_lfs(session, session.get(Project, project), path, None)
    with pytest.raises(UserError, match="breaks_late"):
        apply_lfs(sessions, project)
    assert _votes(sessions) == votes
    assert len(_apply_runs(sessions)) == 1 and before["n_parts"] == 5
