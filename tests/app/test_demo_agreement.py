"""The demo's first start has agreement to show: a seeded share of comments with overlap answered
by three simulated annotators of different reliability, so the agreement report, the
adjudication backlog and Dawid-Skene have real numbers; the careful annotator comes out ahead.
A project without overlapping items shows no reliability figure."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from labelapp.db import make_engine, make_session_factory, session_scope
from labelapp.demo import TEXT_PROJECT, prepare
from labelapp.demo_annotators import SIMULATED
from labelapp.models import Annotation, Item, Project, User
from labelapp.services import agreement as service
from tests.app.factories import add_labels, make_project, make_user
from tests.conftest import login


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("LABELAPP_DATA_DIR", "unset")  # prepare() sets both; restored afterwards
    mp.setenv("LABELAPP_DATABASE_URL", "unset")
    info = prepare(tmp_path_factory.mktemp("demo") / "data")
    engine = make_engine(info.database_url)
    yield info, make_session_factory(engine)
    engine.dispose()
    mp.undo()


def _answers(sessions) -> list[tuple[int, str, list[str]]]:
    with session_scope(sessions) as session:
        return [
            tuple(r)
            for r in session.execute(
                select(Annotation.item_id, User.username, Annotation.labels)
                .join(User, User.id == Annotation.user_id)
                .order_by(Annotation.id)
            )
        ]


@pytest.mark.slow
def test_demo_first_start_has_agreement_numbers(demo) -> None:
    info, sessions = demo
    assert info.created
    with session_scope(sessions) as session:
        project = session.scalar(select(Project).where(Project.name == TEXT_PROJECT))
        assert (project.overlap_k, project.overlap_share) == (3, 0.15)
        result = service.project_agreement(session, project, n_resamples=200, with_model=False)
        data = service.agreement_dict(session, result, max_disagreements=5)
    report = data["report"]
    assert report["n_annotators"] == 3 and report["n_overlap_items"] > 150
    assert 0.3 < report["fleiss_kappa"]["estimate"] < 0.8  # real, imperfect agreement
    assert data["adjudication"]["backlog"] > 20  # disagreements wait for a reviewer
    people = {a["annotator"]: a for a in report["annotators"]}
    assert set(people) == {name for name, _ in SIMULATED}
    ds = [people[name]["ds_accuracy"] for name, _ in SIMULATED]  # most to least reliable
    assert ds[0] > ds[1] > ds[2]
    for name, reliability in SIMULATED:
        assert abs(people[name]["ds_accuracy"] - reliability) < 0.1, (name, people[name])
        assert people[name]["gold_n"] >= 25


@pytest.mark.slow
def test_demo_answers_come_from_a_fixed_seed(demo, tmp_path) -> None:
    _, sessions = demo
    mp = pytest.MonkeyPatch()
    mp.setenv("LABELAPP_DATA_DIR", "unset")
    mp.setenv("LABELAPP_DATABASE_URL", "unset")
    try:
        again = prepare(tmp_path / "again")
    finally:
        mp.undo()
    engine = make_engine(again.database_url)
    try:
        assert _answers(make_session_factory(engine)) == _answers(sessions)
    finally:
        engine.dispose()
    with session_scope(sessions) as session:
        n = session.scalar(select(func.count()).select_from(Annotation))
    assert n > 500


def test_no_reliability_figure_without_overlapping_items(
    client, sessions, tmp_path, inline_jobs
) -> None:
    from labelapp.services.imports import import_path

    project_id = make_project(sessions, "single", ("ham", "spam"))
    path = tmp_path / "items.csv"
    path.write_text("id,text\n" + "".join(f"i{i},text {i}\n" for i in range(6)))
    admin = make_user(sessions, "root", "admin", (project_id,))
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path)
        ids = session.scalars(select(Item.id).where(Item.project_id == project_id)).all()
        add_labels(session, project_id, ann.id, ids, ["spam" if i % 2 else "ham" for i in ids])
    assert login(client, "root", admin.password).status_code == 302
    # The agreement job computes the report the page then shows.
    report = client.get(f"/api/projects/{project_id}/agreement", headers=admin.headers)
    assert report.status_code == 200 and report.get_json()["current"]
    page = client.get(f"/projects/{project_id}/agreement")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="no-reliability"' in html and 'id="reliability-chart"' not in html
    assert "no overlap</span>" in html  # the table shows no Dawid-Skene accuracy either
    png = client.get(f"/projects/{project_id}/agreement/annotators.png")
    assert png.status_code == 404
