"""Small builders for test data, going through the real services."""

from __future__ import annotations

import time
from dataclasses import dataclass

from labelapp.db import session_scope
from labelapp.services.projects import create_project
from labelapp.services.users import add_member, create_user


@dataclass
class Account:
    id: int
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(
    sessions,
    username: str,
    role: str,
    projects: tuple[int, ...] = (),
    project_role: str | None = None,
) -> Account:
    """A user with ``role`` on the account, a member of ``projects`` with ``project_role`` in
    them (default: the highest the account allows)."""
    password = f"pw-{username}-123"
    with session_scope(sessions) as session:
        user, token = create_user(session, username, role, password=password)
        from labelapp.models import Project

        for project_id in projects:
            add_member(session, user, session.get(Project, project_id), project_role)
        return Account(user.id, username, password, token)


def make_project(
    sessions, name: str = "p", labels: tuple[str, ...] = ("ham", "spam"), **kwargs
) -> int:
    with session_scope(sessions) as session:
        return create_project(session, name, list(labels), **kwargs).id


def add_items(sessions, project_id: int, texts: list[str], tmp_dir) -> list[int]:
    """Import ``texts`` (ids t0, t1, ...) through the real importer; returns item ids in order."""
    import csv
    from pathlib import Path

    from sqlalchemy import select

    from labelapp.models import Item, Project
    from labelapp.services.imports import import_path

    path = Path(tmp_dir) / f"items-{project_id}-{len(texts)}.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerows([f"t{i}", t] for i, t in enumerate(texts))
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path)
        rows = session.execute(
            select(Item.id).where(Item.project_id == project_id).order_by(Item.position)
        )
        return [r[0] for r in rows]


def post_answer(client, account: Account, item_id: int, label: str) -> None:
    """``account`` answers ``label`` on ``item_id`` through the API (a new answer: 201)."""
    import uuid

    body = {"labels": [label], "client_id": str(uuid.uuid4())}
    res = client.post(f"/api/items/{item_id}/annotations", json=body, headers=account.headers)
    assert res.status_code == 201, res.get_json()


def answer_queue(client, project_id: int, account: Account, n: int, spam_word: str) -> None:
    """``account`` claims and answers ``n`` items through the API: spam when the text has
    ``spam_word``, else ham."""
    for _ in range(n):
        claim = client.post(f"/api/projects/{project_id}/next", headers=account.headers)
        item = claim.get_json()["item"]
        post_answer(client, account, item["id"], "spam" if spam_word in item["text"] else "ham")


def expire_leases(sessions, item_ids) -> None:
    """Time passes: the leases on ``item_ids`` ran out a second ago."""
    from datetime import timedelta

    from sqlalchemy import update

    from labelapp.models import QueueEntry, utcnow

    with session_scope(sessions) as session:
        session.execute(
            update(QueueEntry)
            .where(QueueEntry.item_id.in_(list(item_ids)))
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )


def wait_for_job(client, job_id: int, headers: dict, timeout: float = 120) -> dict:
    """Poll ``GET /api/jobs/ID`` until the background job is done or failed; its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=headers).get_json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def api_import(client, project_id: int, headers: dict, data: dict, timeout: float = 120) -> dict:
    """``POST /api/projects/ID/imports`` (multipart ``data`` with its ``file``), then wait for the
    import job: the finished job's JSON (``result`` is the import report when it is done)."""
    res = client.post(f"/api/projects/{project_id}/imports", data=data, headers=headers)
    assert res.status_code == 202, (res.status_code, res.get_data(as_text=True)[:500])
    return wait_for_job(client, res.get_json()["id"], headers, timeout)


def wizard_upload(browser, project_id: int, content: bytes, filename: str) -> str:
    """Step 1 of the import wizard in a logged-in test client: upload ``content`` as
    ``filename``; the URL of step 2 it redirects to."""
    import io

    from tests.conftest import csrf_token_from

    page = browser.get(f"/projects/{project_id}/import-wizard")
    assert page.status_code == 200
    sent = browser.post(
        f"/projects/{project_id}/import-wizard",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "file": (io.BytesIO(content), filename),
        },
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    return sent.headers["Location"]


def page_with_report(client, page_url: str, report_url: str, headers: dict) -> str:
    """A page that shows a report a job computes (the agreement report, the LF analysis): the
    report's API first, which waits for the job, then the page, which shows it."""
    report = client.get(report_url, query_string={"wait": 120}, headers=headers)
    assert report.status_code == 200 and report.get_json()["current"], report.get_json()
    return client.get(page_url, headers=headers).get_data(as_text=True)


def lf_page(client, project_id: int, headers: dict) -> str:
    """The LF page with a current LF analysis (:func:`page_with_report`)."""
    return page_with_report(
        client, f"/projects/{project_id}/lfs", f"/api/projects/{project_id}/lfs/analysis", headers
    )


def add_labels(session, project_id: int, user_id: int, item_ids, labels) -> None:
    """Add one answer per item (``labels[i]`` on ``item_ids[i]``) by ``user_id`` to ``session``:
    rows written directly, as data for the test, not through the submit use case."""
    from labelapp.models import Annotation

    for item_id, label in zip(item_ids, labels, strict=True):
        session.add(
            Annotation(
                item_id=item_id,
                project_id=project_id,
                user_id=user_id,
                kind="label",
                labels=[label],
            )
        )


def add_adjudication(
    session, project_id: int, user_id: int, item_id: int, label: str, note: str | None = None
) -> None:
    """Add ``user_id``'s adjudication of ``item_id`` (``label``, with its ``note``) to
    ``session``: a row written directly, as :func:`add_labels`."""
    from labelapp.models import Annotation

    session.add(
        Annotation(
            item_id=item_id,
            project_id=project_id,
            user_id=user_id,
            kind="adjudicate",
            source="adjudication",
            labels=[label],
            note=note,
        )
    )


def labeled_project(
    sessions, tmp_path, name: str, texts: list[str], labels: list[str]
) -> tuple[int, list[int], Account]:
    """A ham/spam project ``name`` of ``texts``, the first ``len(labels)`` of them answered
    ``labels`` by annotator ``ann``: (project id, item ids in order, the annotator)."""
    project_id = make_project(sessions, name, ("ham", "spam"))
    ids = add_items(sessions, project_id, texts, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    with session_scope(sessions) as session:
        add_labels(session, project_id, ann.id, ids[: len(labels)], labels)
    return project_id, ids, ann


def item_ids(session, project_id: int) -> dict[str, int]:
    """Every item's id in the project by its external id."""
    from sqlalchemy import select

    from labelapp.models import Item

    rows = session.execute(select(Item.external_id, Item.id).where(Item.project_id == project_id))
    return dict(rows.all())


def import_gold(sessions, project_id: int, path) -> dict[str, int]:
    """Import the CSV ``path`` (``id,text,answer``) as gold items: :func:`item_ids` after."""
    from labelapp.models import Project
    from labelapp.services.imports import ImportOptions, import_path

    with session_scope(sessions) as session:
        options = ImportOptions(label_col="answer", gold=True)
        import_path(session, session.get(Project, project_id), path, options)
        return item_ids(session, project_id)


def import_rows(sessions, project_id: int, path, rows) -> dict[str, int]:
    """Write ``rows`` (the header first) to the CSV ``path`` and import it through the real
    importer: :func:`item_ids` after."""
    import csv

    from labelapp.models import Project
    from labelapp.services.imports import import_path

    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path)
        return item_ids(session, project_id)
