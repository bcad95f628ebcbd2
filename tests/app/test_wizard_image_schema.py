"""The import wizard's image-zip path against the project's image schema (issue 20, point 2): the
same strict/evolve choice as a table's, strict by default. Under strict a zip of images of
another mode is refused by the check, with each property's problem on the page and nothing
stored; under evolve the check shows the same problems, and the import stores the images with
the schema's next version recorded for that import."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import ImportBatch, Item, Job, Project, ProjectSchema, SchemaCheck, utcnow
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.schema import current_schema
from labelapp.services.schema.names import SCHEMA_MODE_TEXT
from tests.app.factories import make_project, make_user, wait_for_job, wizard_upload
from tests.conftest import csrf_token_from, login

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)


def _zip(images: dict[str, tuple[str, tuple[int, int]]]) -> bytes:
    """``{entry: (mode, (width, height))}`` as PNGs in a zip."""
    from PIL import Image

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for entry, (mode, size) in images.items():
            png = io.BytesIO()
            Image.new(mode, size).save(png, format="PNG")
            zf.writestr(entry, png.getvalue())
    return out.getvalue()


FIRST = {f"scans/a{i}.png": ("RGB", (8, 8)) for i in range(3)}
# Against FIRST: one gray image (another mode: refused under strict) and one 40 pixels wide
# (beyond 4x the widest seen: reported, not refused on its own).
LATER = {"later/gray.png": ("L", (8, 8)), "later/wide.png": ("RGB", (40, 8))}
LATER |= {"later/ok.png": ("RGB", (8, 8))}


def _first_import(sessions, pid: int, tmp_path) -> None:
    path = tmp_path / "first"
    path.mkdir()
    with zipfile.ZipFile(io.BytesIO(_zip(FIRST))) as zf:
        zf.extractall(path)
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), path / "scans", ImportOptions())


def _counts(sessions, pid: int) -> tuple[int, int, int, int]:
    with session_scope(sessions) as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m).where(m.project_id == pid))
            for m in (Item, ImportBatch, ProjectSchema, SchemaCheck)
        )


def _text(html: str, section: str) -> str:
    """The text of the page from the section with this id on (tags dropped)."""
    assert f'id="{section}"' in html, html[-3000:]
    part = html.split(f'id="{section}"', 1)[1]
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part)))


def _finished(browser, sent, user) -> str:
    """Follow a check or an import to its job page once the job has ended."""
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    url = sent.headers["Location"]
    wait_for_job(browser, int(url.rsplit("/", 1)[1]), user.headers)
    return browser.get(url).get_data(as_text=True)


def _selected_schema(html: str) -> str:
    select_html = re.search(r'<select[^>]*id="schema"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = re.findall(r"<option([^>]*)>", select_html)
    chosen = [re.search(r'value="(\w+)"', o).group(1) for o in options if "selected" in o]
    assert len(chosen) == 1, select_html
    return chosen[0]


@pytest.mark.slow
def test_image_zip_refused_under_strict_and_accepted_under_evolve(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "scans", ("0", "1"), task_type="image")
    sam = make_user(sessions, "sam", "sme", (pid,))
    _first_import(sessions, pid, tmp_path)
    browser = app.test_client()
    login(browser, "sam", sam.password)
    step2 = wizard_upload(browser, pid, _zip(LATER), "l.zip")
    html = browser.get(step2).get_data(as_text=True)
    # The same choice, in the same words, as a table's; strict unless chosen otherwise.
    assert all(text in unescape(html) for text in SCHEMA_MODE_TEXT.values())
    assert _selected_schema(html) == "strict"
    token = csrf_token_from(html)
    before = _counts(sessions, pid)

    refused = _finished(browser, browser.post(step2, data={"csrf_token": token}), sam)
    problems = _text(refused, "check-problems")
    assert "1 problem(s) against the project's schema (version 1)" in problems
    assert "refused: 1 image(s) of a mode the schema has not seen (e.g. 'L') (first: " in problems
    assert "gray.png" in problems
    assert "warning: 1 image(s) of a width outside (2, 32) pixels (e.g. 40)" in problems
    assert 'id="check-report"' not in refused and 'id="run-import"' not in refused
    assert _counts(sessions, pid) == before  # no item, import, schema version or check stored
    evolve_link = unescape(re.search(r'href="([^"]+)" id="choose-evolve"', refused).group(1))
    assert "schema=evolve" in evolve_link

    html = browser.get(evolve_link).get_data(as_text=True)
    assert _selected_schema(html) == "evolve"
    form = {"csrf_token": token, "schema": "evolve"}
    checked = browser.post(step2, data=form)
    report = _finished(browser, checked, sam)
    shown = _text(report, "check-report")
    assert "schema: evolved from version 1 to 2; 2 problem(s):" in shown
    assert "image_mode: 1 image(s) of a mode the schema has not seen (e.g. 'L')" in shown
    assert "out_of_range: 1 image(s) of a width outside (2, 32) pixels" in shown
    assert _counts(sessions, pid) == before  # the check stores nothing either

    check_id = int(checked.headers["Location"].rsplit("/", 1)[1])
    sent = browser.post(step2 + "/import", data={"csrf_token": token, "check": check_id})
    done = _text(_finished(browser, sent, sam), "import-result")
    assert "3 images read = 3 new items" in done
    assert "schema: evolved from version 1 to 2" in done
    with session_scope(sessions) as session:
        batch = session.scalars(
            select(ImportBatch).where(ImportBatch.project_id == pid).order_by(ImportBatch.id)
        ).all()[-1]
        schema = current_schema(session, pid)
        check = session.scalars(select(SchemaCheck).where(SchemaCheck.import_id == batch.id)).one()
        assert batch.filename == "l.zip" and batch.items_created == 3
        assert (schema.version, schema.reason, schema.import_id) == (2, "evolved", batch.id)
        assert schema.schema["columns"]["$mode"]["isin"] == ["L", "RGB"]
        assert (check.mode, check.checked_version, check.schema_version) == ("evolve", 1, 2)
        assert {p["column"] for p in check.problems} == {"$mode", "$width"}
    assert _counts(sessions, pid) == (before[0] + 3, before[1] + 1, 2, before[3] + 1)


def test_a_running_check_is_not_handed_back_for_other_options(app, sessions) -> None:
    """While the strict check of an upload runs, asking to check it under evolve is refused
    with a message (the page would otherwise follow the strict check as if it were the evolve
    one); asking again with the same choices follows the running check."""
    pid = make_project(sessions, "scans", ("0", "1"), task_type="image")
    sam = make_user(sessions, "sam", "sme", (pid,))
    browser = app.test_client()
    login(browser, "sam", sam.password)
    step2 = wizard_upload(browser, pid, _zip(LATER), "l.zip")
    upload = step2.rstrip("/").rsplit("/", 1)[1]
    token = csrf_token_from(browser.get(step2).get_data(as_text=True))
    options = {"folder_labels": False, "schema": "strict"}
    with session_scope(sessions) as session:  # a strict check a worker is running
        running = Job(
            project_id=pid,
            kind="import",
            status="running",
            params={
                "upload": upload,
                "filename": "l.zip",
                "options": options,
                "images": True,
                "dry_run": True,
            },
            heartbeat_at=utcnow(),
            created_by_id=sam.id,
        )
        session.add(running)
        session.flush()
        running_id = running.id
    form = {"csrf_token": token, "schema": "evolve", "next": step2}
    refused = browser.post(step2, data=form, follow_redirects=True)
    assert refused.status_code == 200 and refused.request.path == step2  # not the job's page
    message = unescape(refused.get_data(as_text=True))
    assert f"job #{running_id}" in message and "one import runs at a time" in message
    same = browser.post(step2, data={"csrf_token": token, "schema": "strict", "next": step2})
    assert same.status_code == 302
    assert same.headers["Location"].endswith(f"/import-wizard/jobs/{running_id}")
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).where(Job.project_id == pid)) == 1


@pytest.mark.slow
def test_the_project_pages_image_form_offers_the_same_choice(app, sessions, tmp_path) -> None:
    """The project page's quick image import takes the schema mode too: strict refuses the zip
    of another mode and stores nothing, evolve imports it with the schema's next version."""
    pid = make_project(sessions, "scans", ("0", "1"), task_type="image")
    sam = make_user(sessions, "sam", "sme", (pid,))
    _first_import(sessions, pid, tmp_path)
    browser = app.test_client()
    login(browser, "sam", sam.password)
    page = browser.get(f"/projects/{pid}").get_data(as_text=True)
    assert _selected_schema(page) == "strict"
    token = csrf_token_from(page)
    before = _counts(sessions, pid)

    def send(mode: str) -> str:
        data = {"csrf_token": token, "file": (io.BytesIO(_zip(LATER)), "l.zip"), "schema": mode}
        return _finished(
            browser,
            browser.post(f"/projects/{pid}/import", data=data, content_type="multipart/form-data"),
            sam,
        )

    refused = unescape(send("strict"))
    assert "1 problem(s) against the project's schema (version 1)" in refused
    assert _counts(sessions, pid) == before
    done = _text(send("evolve"), "import-result")
    assert "3 images read = 3 new items" in done and "evolved from version 1 to 2" in done
    with session_scope(sessions) as session:
        assert current_schema(session, pid).version == 2
