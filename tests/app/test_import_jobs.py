"""Imports are jobs (issue 16 point 6, issue 17 point 5): the upload waits in the data directory,
a worker parses, checks and stores it all-or-nothing, reporting progress; a bad line fails the
job with the line and stores nothing; a worker killed mid-import leaves nothing half-stored and
the next worker imports the file once; the wizard imports image zips the same way."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import Annotation, ImportBatch, Item, Job, utcnow
from labelapp.services import uploads
from tests.app.factories import api_import, make_project, make_user, wait_for_job, wizard_upload
from tests.app.test_jobs_durable import kill9, start_worker, stop, wait_for
from tests.conftest import csrf_token_from, login


def _count(sessions, model, project_id: int) -> int:
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).where(model.project_id == project_id))


def _uploads_left() -> list[Path]:
    root = Path(os.environ["LABELAPP_DATA_DIR"]) / "uploads"
    return list(root.iterdir()) if root.exists() else []


@pytest.mark.slow
def test_an_api_import_is_a_job_with_the_right_counts(client, sessions) -> None:
    pid = make_project(sessions, "reviews", ("pos", "neg"))
    sam = make_user(sessions, "sam", "sme", (pid,))
    first = b"id,text,label\nr1,loved it,pos\nr2,awful,neg\n"
    job = api_import(
        client, pid, sam.headers, {"file": (io.BytesIO(first), "a.csv"), "label_col": "label"}
    )
    assert job["kind"] == "import" and job["status"] == "done", job
    again = b"id,text,label\nr1,loved it,pos\nr3,fine,pos\nr3,fine,pos\nr4,meh,\n"
    job = api_import(
        client, pid, sam.headers, {"file": (io.BytesIO(again), "b.csv"), "label_col": "label"}
    )
    report = job["result"]
    assert job["status"] == "done" and job["progress"] == 1.0, job
    # rows read = new items + already present + duplicates in the file
    assert (report["rows"], report["items_created"], report["items_existing"]) == (4, 2, 1)
    assert (report["duplicates_in_file"], report["annotations_created"]) == (1, 1)
    assert _count(sessions, Item, pid) == 4 and _count(sessions, Annotation, pid) == 3
    listed = client.get(f"/api/projects/{pid}/imports", headers=sam.headers).get_json()
    assert [i["filename"] for i in listed["imports"]] == ["a.csv", "b.csv"]
    assert _uploads_left() == []  # each upload went with its job
    # A check stores nothing and keeps nothing either.
    job = api_import(
        client,
        pid,
        sam.headers,
        {"file": (io.BytesIO(b"id,text\nr9,new\n"), "c.csv"), "dry_run": "true"},
    )
    assert job["result"]["items_created"] == 1 and job["result"]["dry_run"] is True
    assert _count(sessions, Item, pid) == 4 and _count(sessions, ImportBatch, pid) == 2


@pytest.mark.slow
def test_a_bad_line_fails_the_job_and_stores_nothing(client, sessions) -> None:
    pid = make_project(sessions, "reviews", ("pos", "neg"))
    sam = make_user(sessions, "sam", "sme", (pid,))
    bad = b"id,text,label\nr1,loved it,pos\nr2,awful,mixed\nr3,,neg\nr4,fine,pos\n"
    job = api_import(
        client, pid, sam.headers, {"file": (io.BytesIO(bad), "bad.csv"), "label_col": "label"}
    )
    assert job["status"] == "failed", job
    assert "bad.csv: 2 problem(s) found; nothing was imported" in job["error"]
    assert job["result"]["details"] == [
        "line 3: unknown label 'mixed'; the project's labels are neg, pos",
        "line 4: column 'text' is empty; every item needs text",
    ]
    assert "/tmp" not in job["error"] and "--" not in job["error"]
    assert _count(sessions, Item, pid) == 0 and _count(sessions, ImportBatch, pid) == 0
    assert _uploads_left() == []
    # One import at a time per project: another upload meanwhile is refused, and not kept.
    with session_scope(sessions) as session:
        session.add(
            Job(project_id=pid, kind="import", params={"upload": "0" * 32}, heartbeat_at=utcnow())
        )
    res = client.post(
        f"/api/projects/{pid}/imports",
        data={"file": (io.BytesIO(b"text\nx\n"), "x.csv")},
        headers=sam.headers,
    )
    assert (
        res.status_code == 409 and "one import runs at a time" in res.get_json()["error"]["message"]
    )
    assert _uploads_left() == []


def test_uploads_of_ended_jobs_are_swept(sessions) -> None:
    pid = make_project(sessions)

    class Stream:
        def save(self, path: Path) -> None:
            Path(path).write_text("text\nx\n")

    ended, running = uploads.save(Stream(), "a.csv"), uploads.save(Stream(), "b.csv")
    with session_scope(sessions) as session:
        for token, status in ((ended, "cancelled"), (running, "running")):
            job = Job(project_id=pid, kind="import", status=status)
            session.add(job)
            session.flush()
            uploads._mark(token, job.id)
    with session_scope(sessions) as session:
        uploads.sweep(session)
    assert [p.name for p in _uploads_left()] == [running]


@pytest.mark.slow
def test_an_import_that_cannot_start_leaves_no_upload(client, sessions) -> None:
    """The API and the project page's form keep the upload only when its job is queued: while
    another import runs, both refuse the new file and leave nothing in the data directory."""
    pid = make_project(sessions, "busy", ("pos", "neg"))
    sam = make_user(sessions, "sam", "sme", (pid,))

    class Stream:
        def save(self, path: Path) -> None:
            Path(path).write_text("text\nx\n")

    running = uploads.save(Stream(), "first.csv")
    with session_scope(sessions) as session:
        job = Job(project_id=pid, kind="import", status="running", params={"upload": running})
        session.add(job)
        session.flush()
        uploads._mark(running, job.id)
    refused = client.post(
        f"/api/projects/{pid}/imports",
        data={"file": (io.BytesIO(b"text\nsecond\n"), "second.csv")},
        headers=sam.headers,
    )
    assert (
        refused.status_code == 409
        and "one import runs at a time" in refused.get_json()["error"]["message"]
    )
    login(client, "sam", sam.password)
    token = csrf_token_from(client.get(f"/projects/{pid}").get_data(as_text=True))
    page = client.post(
        f"/projects/{pid}/import",
        data={"file": (io.BytesIO(b"text\nthird\n"), "third.csv"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    assert [p.name for p in _uploads_left()] == [running]


ROWS = 120_000


@pytest.fixture
def worker_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Workers that give up on a silent worker after 10 s (longer than the import's store)."""
    monkeypatch.setenv("LABELAPP_JOB_LEASE_SECONDS", "10")
    monkeypatch.delenv("LABELAPP_QUEUE_URL", raising=False)
    return db_url


@pytest.mark.slow
def test_a_worker_killed_mid_import_leaves_nothing_half_stored(
    worker_env, sessions, app, tmp_path
) -> None:
    pid = make_project(sessions, "big")
    sam = make_user(sessions, "sam", "sme", (pid,))
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write("id,text\n")
        f.writelines(f"r{i},comment number {i} about a song\n" for i in range(ROWS))
    client = app.test_client()
    worker = start_worker(concurrency=1)
    try:
        with big.open("rb") as f:
            res = client.post(
                f"/api/projects/{pid}/imports", data={"file": (f, "big.csv")}, headers=sam.headers
            )
        job_id = res.get_json()["id"]

        def storing() -> str | None:
            with session_scope(sessions) as session:
                job = session.get(Job, job_id)
                assert job.status in ("queued", "running"), (job.status, job.error)
                return job.message if job.message.startswith(("storing", "checked")) else None

        seen = wait_for(storing, 120, "the import to reach its store phase")
        time.sleep(0.2)
        kill9(worker)
        assert _count(sessions, Item, pid) == 0 and _count(sessions, ImportBatch, pid) == 0
        worker = start_worker(concurrency=1)
        job = wait_for_job(client, job_id, sam.headers, timeout=180)
    finally:
        stop(worker)
    assert job["status"] == "done", job
    assert re.match(r"storing|checked 120,000 rows", seen), seen
    with session_scope(sessions) as session:
        assert session.get(Job, job_id).attempts == 2
    assert job["result"]["items_created"] == ROWS
    assert _count(sessions, Item, pid) == ROWS and _count(sessions, ImportBatch, pid) == 1
    assert _uploads_left() == []


def _png(shade: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (8, 8), shade).save(out, format="PNG")
    return out.getvalue()


def image_zip() -> bytes:
    """digits/0/*.png and digits/1/*.png (3 each) and a stray text file."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for label in ("0", "1"):
            for n in range(3):
                zf.writestr(f"digits/{label}/{label}-{n}.png", _png(40 + 80 * int(label) + n))
        zf.writestr("digits/README.txt", "scans")
    return out.getvalue()


@pytest.mark.slow
def test_the_wizard_checks_then_imports_an_image_zip(app, sessions) -> None:
    pid = make_project(sessions, "digits", ("0", "1"), task_type="image")
    sam = make_user(sessions, "sam", "sme", (pid,))
    browser = app.test_client()
    login(browser, "sam", sam.password)
    step2 = wizard_upload(browser, pid, image_zip(), "d.zip")
    html = browser.get(step2).get_data(as_text=True)
    assert "6 images in the zip" in html and "1 other file will be left out" in html
    assert "0/0-0.png" in html and 'id="label-like-hint"' in html
    thumb = browser.get(step2 + "/images/0")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    assert thumb.data == _png(40)
    assert browser.get(step2 + "/images/99").status_code == 404
    token = csrf_token_from(html)
    checked = browser.post(step2, data={"csrf_token": token, "folder_labels": "1"})
    assert checked.status_code == 302
    check_page = _finished(browser, checked.headers["Location"], sam)
    assert 'id="check-report"' in check_page and '>6</div><div class="label">new items' in (
        check_page
    )
    assert _count(sessions, Item, pid) == 0
    media = Path(os.environ["LABELAPP_DATA_DIR"]) / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    check_id = int(checked.headers["Location"].rsplit("/", 1)[1])
    run = browser.post(step2 + "/import", data={"csrf_token": token, "check": check_id})
    assert run.status_code == 302
    done = _finished(browser, run.headers["Location"], sam)
    assert 'id="import-result"' in done and "6 images read = 6 new items" in done
    assert _count(sessions, Item, pid) == 6 and _count(sessions, Annotation, pid) == 6
    assert browser.get(step2).status_code == 404 and _uploads_left() == []


def _finished(browser, url: str, user) -> str:
    """The job page once its job has ended (as the page's script would reload it)."""
    job_id = int(url.rsplit("/", 1)[1])
    job = wait_for_job(browser, job_id, user.headers)
    assert job["status"] == "done", job
    return browser.get(url).get_data(as_text=True)


@pytest.mark.slow
def test_the_project_page_form_starts_the_same_import_job(app, sessions) -> None:
    pid = make_project(sessions, "reviews", ("pos", "neg"))
    sam = make_user(sessions, "sam", "sme", (pid,))
    browser = app.test_client()
    login(browser, "sam", sam.password)
    token = csrf_token_from(browser.get(f"/projects/{pid}").get_data(as_text=True))
    sent = browser.post(
        f"/projects/{pid}/import",
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(b"id,text,label\nr1,fine,pos\nr2,bad,neg\n"), "quick.csv"),
            "text_col": "text",
            "label_col": "label",
            "schema": "strict",
        },
    )
    assert sent.status_code == 302 and "/import-wizard/jobs/" in sent.headers["Location"]
    html = _finished(browser, sent.headers["Location"], sam)
    assert "2 rows read = 2 new items + 0 already there + 0 duplicates in the file" in html
    assert _count(sessions, Item, pid) == 2 and _count(sessions, Annotation, pid) == 2
    assert _uploads_left() == []
