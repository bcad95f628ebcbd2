"""An archived project is read-only (issue 17): every route that would change it answers 409 with
a message naming the archive, for reviewers and admins alike, while every read and the export
still work; the services refuse too (commands, jobs). SQLite and PostgreSQL.

The routes and their bodies come from the access matrix (tests/app/test_route_access.py), so a new
write route is checked here without a line of its own."""

from __future__ import annotations

import pytest

from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.errors import Conflict
from labelapp.web.access import ARCHIVED_WRITES

# ``world``: the access matrix's fixture (projects, gold, images, an LF, a job, a flag).
from tests.app.test_route_access import RULES, Browser, World, _call, _path, world  # noqa: F401

# Changes that still make sense on an archived project besides ARCHIVED_WRITES: giving a lease
# back and stopping a job change none of its data.
STILL_ALLOWED = ARCHIVED_WRITES | {"api.release", "api.cancel_job", "pages.cancel_job"}
NOT_PROJECT_SCOPED = {"auth.logout"}


def _archive(sessions, *project_ids: int) -> None:
    from labelapp.services.project_lifecycle import set_archived

    with session_scope(sessions) as session:
        for pid in project_ids:
            set_archived(session, session.get(Project, pid), True)


def _writes() -> list[str]:
    return sorted(
        endpoint
        for endpoint, rule in RULES.items()
        if rule.method != "GET"
        and rule.scoped
        and endpoint not in STILL_ALLOWED
        and endpoint not in NOT_PROJECT_SCOPED
    )


@pytest.mark.slow
def test_every_write_is_refused_and_every_read_works(
    app,
    sessions,
    world: World,  # noqa: F811
) -> None:
    _archive(sessions, world.project, world.image_project)
    problems = []
    browsers: dict[str, Browser] = {}
    for endpoint in _writes():
        rule = RULES[endpoint]
        path = _path(app, endpoint, world)
        caller = "admin" if rule.access == "admin" else "sme"  # reviewers were let through
        res = _call(app, rule, path, caller, world, browsers)
        text = res.get_data(as_text=True)
        if path.startswith("/api/"):
            ok = res.status_code == 409 and "archived and read-only" in text
        else:  # a page form: back to the page with the message flashed
            ok = res.status_code in (302, 303, 409)
        if not ok:
            problems.append(f"{caller} {rule.method} {path}: {res.status_code} {text[:160]}")
    for endpoint, rule in sorted(RULES.items()):
        if rule.method != "GET" or not rule.scoped:
            continue
        res = _call(app, rule, _path(app, endpoint, world), "admin", world, browsers)
        if res.status_code == 409 or res.status_code >= 500:
            problems.append(f"admin GET {endpoint}: {res.status_code}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_page_forms_say_why_and_export_still_works(
    app,
    sessions,
    world: World,  # noqa: F811
) -> None:
    from tests.conftest import csrf_token_from, login

    _archive(sessions, world.project)
    sme = world.people["sme"]
    web = app.test_client()
    login(web, sme.username, sme.password)
    page = web.get(f"/projects/{world.project}").get_data(as_text=True)
    assert "its label set is read-only" in page and 'id="add-label"' not in page
    refused = web.post(
        f"/projects/{world.project}/labels",
        data={"action": "add", "name": "new", "csrf_token": csrf_token_from(page)},
        follow_redirects=True,
    )
    assert "archived and read-only" in refused.get_data(as_text=True)
    exported = web.post(
        f"/api/projects/{world.project}/exports", json={"format": "csv"}, headers=sme.headers
    )
    assert exported.status_code in (200, 201, 202)  # 201: finished within the wait


def test_services_refuse_writes_from_commands_and_jobs(
    app,
    sessions,
    world: World,  # noqa: F811
    tmp_path,
) -> None:
    from labelapp.services.imports import import_path
    from labelapp.services.jobs import enqueue

    _archive(sessions, world.project)
    more = tmp_path / "more.csv"
    more.write_text("id,text\nm1,one more comment\n")
    with session_scope(sessions) as session, pytest.raises(Conflict, match="archived and read"):
        import_path(session, session.get(Project, world.project), more)
    with pytest.raises(Conflict, match="archived and read-only"):
        enqueue(sessions, world.project, "retrain")
