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
