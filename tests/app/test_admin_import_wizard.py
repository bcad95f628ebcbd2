"""The web import wizard (issue 17): upload, preview, choose columns, check every line with
nothing stored, then import, each a job whose page shows the outcome; the numbers add up;
errors speak of columns, not CLI flags."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import Annotation, Item
from tests.app.factories import make_project, make_user, wait_for_job, wizard_upload
from tests.conftest import csrf_token_from, login

CSV = (
    "id,text,sentiment,author\n"
    "r1,loved it,positive,kim\n"
    "r2,awful,negative,lee\n"
    "r2,awful,negative,lee\n"
    "r3,so so,mixed,kim\n"
)


def _upload(browser, pid: int, text: str, name: str = "reviews.csv") -> str:
    return wizard_upload(browser, pid, text.encode(), name)


def _items(sessions, pid: int) -> int:
    with session_scope(sessions) as session:
        return session.scalar(select(func.count()).where(Item.project_id == pid))


def _job_page(browser, sent, user) -> tuple[str, int]:
    """Follow a check or import (a job) to its page once the job has ended: (html, job id)."""
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    url = sent.headers["Location"]
    job_id = int(url.rsplit("/", 1)[1])
    wait_for_job(browser, job_id, user.headers)
    return browser.get(url).get_data(as_text=True), job_id


def _numbers(html: str) -> dict[str, int]:
    found = re.findall(r'<div class="value">([\d,]+)</div><div class="label">([^<(]+)', html)
    return {label.strip(): int(value.replace(",", "")) for value, label in found}


@pytest.mark.slow
def test_wizard_previews_checks_then_imports(app, sessions) -> None:
    pid = make_project(sessions, "reviews", ("positive", "negative"))
    sam = make_user(sessions, "sam", "sme", (pid,))
    browser = app.test_client()
    login(browser, "sam", sam.password)
    step2 = _upload(browser, pid, CSV)
    page = browser.get(step2).get_data(as_text=True)
    assert "loved it" in page and "sentiment" in page and 'id="label-like-hint"' in page
    token = csrf_token_from(page)
    # Labels from "sentiment": line 5 says "mixed", not a label of the project. Nothing stored.
    labeled = {
        "csrf_token": token,
        "text_col": "text",
        "id_col": "id",
        "label_col": "sentiment",
        "label_kind": "human",
    }
    html, _ = _job_page(browser, browser.post(step2, data=labeled), sam)
    assert 'id="check-problems"' in html and 'id="check-report"' not in html
    assert "mixed" in html and re.search(r"line 5|row 4|r3", html)
    assert "--" not in re.sub(r"<[^>]+>", "", html.split('id="check-problems"')[1]).replace(
        "&#8211;", ""
    )
    assert "label_col=sentiment" in html  # "choose other columns" keeps the choices
    assert _items(sessions, pid) == 0
    # Without labels: the check reports what the import would do, still storing nothing.
    plain = {"csrf_token": token, "text_col": "text", "id_col": "id", "label_col": ""}
    html, check = _job_page(browser, browser.post(step2, data=plain), sam)
    assert 'id="check-report"' in html
    found = _numbers(html)
    assert found["rows read"] == 4 and found["new items"] == 3
    assert found["duplicates in the file"] == 1 and found["already in the project"] == 0
    assert _items(sessions, pid) == 0
    html, _ = _job_page(
        browser, browser.post(step2 + "/import", data={"csrf_token": token, "check": check}), sam
    )
    assert _items(sessions, pid) == 3
    assert 'id="import-result"' in html
    assert "4 rows read = 3 new items + 0 already there + 1 duplicates in the file" in html
    assert "reviews.csv" in browser.get(f"/projects/{pid}").get_data(as_text=True)
    assert browser.get(step2).status_code == 404  # the upload is gone once imported
    # Again: everything is already present, and the numbers still add up.
    again = _upload(browser, pid, CSV)
    page = browser.get(again).get_data(as_text=True)
    sent = browser.post(
        again, data={"csrf_token": csrf_token_from(page), "text_col": "text", "id_col": "id"}
    )
    numbers = _numbers(_job_page(browser, sent, sam)[0])
    assert numbers["already in the project"] == 3 and numbers["new items"] == 0


@pytest.mark.slow
def test_wizard_imports_labels_and_refuses_annotators(app, sessions) -> None:
    pid = make_project(sessions, "reviews", ("positive", "negative", "mixed"))
    sam = make_user(sessions, "sam", "sme", (pid,))
    ann = make_user(sessions, "ann", "annotator", (pid,))
    browser = app.test_client()
    login(browser, "sam", sam.password)
    step2 = _upload(browser, pid, CSV)
    token = csrf_token_from(browser.get(step2).get_data(as_text=True))
    form = {
        "csrf_token": token,
        "text_col": "text",
        "id_col": "id",
        "label_col": "sentiment",
        "label_kind": "human",
    }
    _, check = _job_page(browser, browser.post(step2, data=form), sam)
    html, job = _job_page(
        browser, browser.post(step2 + "/import", data={"csrf_token": token, "check": check}), sam
    )
    assert "3 new items" in html and _numbers(html)["labels"] == 3
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).where(Annotation.project_id == pid)) == 3
    other = app.test_client()
    login(other, "ann", ann.password)
    assert other.get(f"/projects/{pid}/import-wizard").status_code == 403
    assert other.get(f"/projects/{pid}/import-wizard/jobs/{job}").status_code == 403
    bad = _upload(browser, pid, "id,body\n1,x\n", "plain.csv")
    page = browser.get(bad).get_data(as_text=True)
    assert "<th>body</th>" in page
    # Importing needs a finished check of this upload.
    refused = browser.post(
        bad + "/import", data={"csrf_token": token, "check": check}, follow_redirects=True
    )
    assert "check the file before importing it" in refused.get_data(as_text=True)
    wrong = browser.post(
        _upload_url(browser, pid),
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "next": f"/projects/{pid}/import-wizard",
            "file": (io.BytesIO(b"x"), "notes.txt"),
        },
        follow_redirects=True,
    )
    assert ".csv, .tsv, .jsonl and .parquet" in wrong.get_data(as_text=True)


def _upload_url(browser, pid: int) -> str:
    return f"/projects/{pid}/import-wizard"
