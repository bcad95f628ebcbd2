"""Reports a job computes and the web serves (issue 16, point 6): the agreement report and the LF
analysis are computed by jobs (run here in the test process: ``inline_jobs``) and served from
what they stored; the web says how current they are and recomputes when the data changed."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import Job, Project
from labelapp.services import agreement_store, augment_choices
from labelapp.services.project_lifecycle import delete_project
from tests.app.factories import add_items, make_project, make_user
from tests.conftest import login


def _jobs(sessions, kind: str) -> int:
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.kind == kind))


def _label(client, who, item_id: int, name: str) -> None:
    body = {"labels": [name], "client_id": str(uuid.uuid4())}
    res = client.post(f"/api/items/{item_id}/annotations", json=body, headers=who.headers)
    assert res.status_code == 201, res.get_json()


@pytest.mark.slow
def test_agreement_is_served_from_the_job_and_recomputed_when_answers_change(
    app, client, sessions, tmp_path, inline_jobs
) -> None:
    pid = make_project(sessions, "two", ("ham", "spam"), overlap_k=2)
    ids = add_items(sessions, pid, ["one", "two", "three"], tmp_path)
    ann, bob = (make_user(sessions, n, "annotator", (pid,)) for n in ("ann", "bob"))
    admin = make_user(sessions, "root", "admin")
    url = f"/api/projects/{pid}/agreement"
    browser = app.test_client()
    login(browser, "root", admin.password)

    # No report yet: the page says one is being computed and queues the job.
    page = browser.get(f"/projects/{pid}/agreement").get_data(as_text=True)
    assert 'id="agreement-pending"' in page and 'id="settings"' in page
    assert _jobs(sessions, "agreement") == 1
    first = client.get(url, headers=admin.headers).get_json()
    assert first["current"] and first["job"] is None and first["report"] is None
    assert _jobs(sessions, "agreement") == 1  # the page's job computed it: not again

    _label(client, ann, ids[0], "ham")
    _label(client, bob, ids[0], "spam")
    # wait=0: the last report at once, marked not current, with the job computing the next.
    stale = client.get(url, query_string={"wait": 0}, headers=admin.headers).get_json()
    assert not stale["current"] and stale["job"]["kind"] == "agreement"
    assert stale["report"] is None and stale["computed_at"] == first["computed_at"]
    fresh = client.get(url, headers=admin.headers).get_json()
    assert fresh["current"] and fresh["report"]["n_overlap_items"] == 1
    assert fresh["adjudication"]["backlog"] == 1
    assert _jobs(sessions, "agreement") == 2

    # The page shows it with its age; after a reload that followed a job it queues no other.
    page = browser.get(f"/projects/{pid}/agreement").get_data(as_text=True)
    assert 'id="agreement-status"' in page and "Computed" in page and "ago" in page
    _label(client, bob, ids[1], "ham")
    after = browser.get(f"/projects/{pid}/agreement?report_job=2").get_data(as_text=True)
    assert 'id="agreement-status-recompute"' in after and _jobs(sessions, "agreement") == 2
    browser.get(f"/projects/{pid}/agreement")  # a plain visit recomputes
    assert _jobs(sessions, "agreement") == 3

    # Another parameter set is another report; the backlog takes any with its min_confidence.
    quick = client.get(f"{url}?n_resamples=0&model=0", headers=admin.headers).get_json()
    assert quick["current"] and quick["model"] is None
    backlog = client.get(f"/api/projects/{pid}/adjudication", headers=admin.headers).get_json()
    assert backlog["current"] and backlog["total"] == 1
    assert _jobs(sessions, "agreement") == 4  # the backlog used a current report


@pytest.mark.slow
def test_reports_are_pruned_and_deleted_with_their_project(
    client, sessions, tmp_path, inline_jobs, monkeypatch
) -> None:
    monkeypatch.setattr(agreement_store, "KEEP", 2)
    pid = make_project(sessions, "pruned", ("ham", "spam"))
    add_items(sessions, pid, ["one"], tmp_path)
    admin = make_user(sessions, "root", "admin")
    for resamples in (0, 10, 20, 20):
        res = client.get(
            f"/api/projects/{pid}/agreement?n_resamples={resamples}&wait=0", headers=admin.headers
        )
        assert res.status_code in (200, 202), res.get_json()
    ann = make_user(sessions, "ann", "annotator", (pid,))
    _label(client, ann, 1, "ham")  # the report with 20 resamples is computed again
    assert client.get(f"/api/projects/{pid}/agreement?n_resamples=20", headers=admin.headers)
    folder = agreement_store.report_dir(pid)
    # The two newest parameter sets; of the newest, its report and the one before.
    assert sorted(p.name for p in folder.glob("*.json")) == [
        "agreement-2.json",
        "agreement-3.json",
        "agreement-4.json",
    ]
    with session_scope(sessions) as session:
        delete_project(session, session.get(Project, pid), "pruned")
    assert not folder.exists()


def test_lf_analysis_waits_or_answers_at_once(client, sessions, tmp_path, inline_jobs) -> None:
    pid = make_project(sessions, "lfs", ("ham", "spam"))
    add_items(sessions, pid, ["free stuff", "a song"], tmp_path)
    sme = make_user(sessions, "sme", "sme", (pid,))
    url = f"/api/projects/{pid}/lfs/analysis"
    pending = client.get(url, query_string={"wait": 0}, headers=sme.headers)
    assert pending.status_code == 202 and pending.get_json()["kind"] == "lf_analysis"
    done = client.get(url, headers=sme.headers).get_json()
    assert done["current"] and done["n_items"] == 2 and done["rows"] == []
    spec = {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]}
    assert (
        client.post(f"/api/projects/{pid}/lfs", json=spec, headers=sme.headers).status_code == 201
    )
    # The LF page lists the new LF at once, its numbers pending until the analysis has it.
    page = client.get(f"/projects/{pid}/lfs", headers=sme.headers).get_data(as_text=True)
    assert 'id="lf-kw_free"' in page and "analysis pending" in page
    again = client.get(url, headers=sme.headers).get_json()
    assert again["current"] and [r["name"] for r in again["rows"]] == ["kw_free"]

    multi = make_project(sessions, "tags", ("a", "b"), multi_label=True)
    tagger = make_user(sessions, "tagger", "sme", (multi,))
    refused = client.get(f"/api/projects/{multi}/lfs/analysis", headers=tagger.headers)
    assert refused.status_code == 400 and _jobs(sessions, "lf_analysis") == 2


@pytest.mark.slow
def test_a_page_reloaded_after_an_analysis_of_older_votes_computes_it_again(
    client, sessions, tmp_path, inline_jobs
) -> None:
    """The LF page reloads after the analysis job it follows; if LFs were applied while that job
    ran, its analysis is of the old votes: the page queues the next one (labeling alone does not,
    so that a page left open while people label does not recompute in a loop)."""
    pid = make_project(sessions, "lfs", ("ham", "spam"))
    ids = add_items(sessions, pid, ["free stuff", "a song", "free song"], tmp_path)
    sme = make_user(sessions, "sme", "sme", (pid,))
    spec = {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]}
    assert (
        client.post(f"/api/projects/{pid}/lfs", json=spec, headers=sme.headers).status_code == 201
    )
    before = client.get(f"/api/projects/{pid}/lfs/analysis", headers=sme.headers).get_json()
    assert before["n_covered"] == 0  # not applied yet
    analysed = _jobs(sessions, "lf_analysis")
    with session_scope(sessions) as session:
        last = session.scalar(select(func.max(Job.id)).where(Job.kind == "lf_analysis"))

    _label(client, sme, ids[1], "ham")  # labeling alone: the reloaded page queues nothing
    client.get(f"/projects/{pid}/lfs?report_job={last}", headers=sme.headers)
    assert _jobs(sessions, "lf_analysis") == analysed

    res = client.post(f"/api/projects/{pid}/ws/apply", headers=sme.headers)
    assert res.status_code in (200, 202), res.get_json()
    page = client.get(f"/projects/{pid}/lfs?report_job={last}", headers=sme.headers)
    assert _jobs(sessions, "lf_analysis") == analysed + 1  # the votes changed: computed again
    text = page.get_data(as_text=True)
    assert 'id="lf-kw_free"' in text
    after = client.get(f"/api/projects/{pid}/lfs/analysis", headers=sme.headers).get_json()
    assert after["current"] and after["n_covered"] == 2


def test_augment_choices_are_the_shipped_pipelines() -> None:
    from augment.images import load_pipeline_spec, ready_pipelines

    names = [name for name, _ in augment_choices.choices("image")]
    assert names == ready_pipelines()
    for name, title in augment_choices.choices("image"):
        said = str(load_pipeline_spec(name).get("description", "")).split(".")[0]
        assert title == f"{name}: {said.split(':', 1)[-1].strip()}"
    assert augment_choices.choices("text") == [augment_choices.TEXT_CHOICE]


@pytest.mark.slow
def test_an_export_plan_is_checked_in_a_child_process(
    client, sessions, tmp_path, inline_jobs
) -> None:
    pid = make_project(sessions, "texts", ("ham", "spam"))
    add_items(sessions, pid, ["one text", "two texts"], tmp_path)
    sme = make_user(sessions, "sme", "sme", (pid,))
    url = f"/api/projects/{pid}/exports"
    bad = client.post(url, json={"format": "csv", "augment": "light"}, headers=sme.headers)
    assert bad.status_code == 400  # an image pipeline for a text project, said by the child
    assert "cannot augment" in bad.get_json()["error"]["message"]
    body = {"format": "csv", "augment": "text", "copies": 2}
    started = client.post(url, json=body, headers=sme.headers)
    assert started.status_code in (201, 202), started.get_json()
    with session_scope(sessions) as session:
        params = session.get(Job, started.get_json()["id"]).params
    assert params["augment"]["kind"] == "text" and params["augment"]["copies"] == 2
