"""Who may see and change what: login, CSRF, tokens, roles and project membership."""

from __future__ import annotations

import io
import re
import uuid

import pytest

from labelapp.db import session_scope
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import api_import, make_project, make_user
from tests.conftest import csrf_token_from, login
from tests.paths import SHARED_DATA


@pytest.fixture
def world(sessions):
    """Two projects; alice is a member of the first only; an admin; an sme in the first."""
    from labelapp.models import Project

    first = make_project(sessions, "first")
    second = make_project(sessions, "second")
    with session_scope(sessions) as session:
        for pid in (first, second):
            import_path(
                session,
                session.get(Project, pid),
                SHARED_DATA / "youtube_spam_uci" / "Youtube01-Psy.csv",
                ImportOptions(text_col="CONTENT", id_col="COMMENT_ID"),
            )
    return {
        "first": first,
        "second": second,
        "alice": make_user(sessions, "alice", "annotator", (first,)),
        "sam": make_user(sessions, "sam", "sme", (first,)),
        "root": make_user(sessions, "root", "admin"),
    }


def _an_item_of(client, headers, project_id: int) -> int:
    return client.get(f"/api/projects/{project_id}/items?limit=1", headers=headers).json["items"][
        0
    ]["id"]


def test_login_logout_and_wrong_password(client, world) -> None:
    assert client.get("/").status_code == 302  # not logged in: to the login page
    bad = login(client, "alice", "wrong-password")
    assert bad.status_code == 401 and "wrong password" in bad.get_data(as_text=True)
    ok = login(client, "alice", world["alice"].password)
    assert ok.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "first" in page and "second" not in page
    token = csrf_token_from(page)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.slow
def test_login_form_without_csrf_token_is_refused(client, world) -> None:
    response = client.post(
        "/login", data={"username": "alice", "password": world["alice"].password}
    )
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still not logged in


def test_login_never_redirects_off_site(client, world) -> None:
    page = client.get("/login?next=//evil.example/x")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/login?next=//evil.example/x",
        data={"username": "alice", "password": world["alice"].password, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_api_requires_a_valid_token(client, world) -> None:
    assert client.get("/api/projects").status_code == 401
    assert client.get("/api/projects", headers={"Authorization": "Bearer nope"}).status_code == 401
    response = client.get("/api/projects", headers=world["alice"].headers)
    assert [p["name"] for p in response.json["projects"]] == ["first"]
    admin = client.get("/api/projects", headers=world["root"].headers)
    assert [p["name"] for p in admin.json["projects"]] == ["first", "second"]


def test_non_member_cannot_see_or_change_another_project(client, world) -> None:
    other = world["second"]
    item = _an_item_of(client, world["root"].headers, other)
    for headers in (world["alice"].headers, world["sam"].headers):
        for path in (
            f"/api/projects/{other}",
            f"/api/projects/{other}/items",
            f"/api/projects/{other}/imports",
            f"/api/items/{item}",
        ):
            assert client.get(path, headers=headers).status_code == 404, path
        upload = {"file": (io.BytesIO(b"text\nsneaky\n"), "x.csv")}
        response = client.post(f"/api/projects/{other}/imports", data=upload, headers=headers)
        assert response.status_code == 404
        # The annotation loop's writes check membership too (one statement on the hot path).
        for action in ("annotations", "skip", "heartbeat"):
            body = {"labels": ["x"], "client_id": str(uuid.uuid4())}
            response = client.post(f"/api/items/{item}/{action}", json=body, headers=headers)
            assert response.status_code == 404, action
            missing = client.post(f"/api/items/999999999/{action}", json=body, headers=headers)
            assert missing.status_code == 404
            assert "no item 999999999" in missing.get_json()["error"]["message"]
    listing = client.get(f"/api/projects/{other}/annotations", headers=world["root"].headers)
    assert listing.get_json()["total"] == 0
    # Pages too, with a real login session.
    login(client, "sam", world["sam"].password)
    assert client.get(f"/projects/{other}").status_code == 404
    assert client.get(f"/projects/{world['first']}").status_code == 200


@pytest.mark.slow
def test_annotator_cannot_import_but_sme_can(client, world) -> None:
    first = world["first"]
    upload = {"file": (io.BytesIO(b"text\nnew comment\n"), "x.csv")}
    refused = client.post(
        f"/api/projects/{first}/imports", data=upload, headers=world["alice"].headers
    )
    assert refused.status_code == 403
    # The file has none of the project's metadata columns: "evolve" accepts that schema change.
    upload = {"file": (io.BytesIO(b"text\nnew comment\n"), "x.csv"), "schema": "evolve"}
    done = api_import(client, first, world["sam"].headers, upload)  # a job
    assert done["status"] == "done" and done["result"]["items_created"] == 1


@pytest.mark.slow
def test_api_import_rejects_bad_file_with_line_numbers(client, world) -> None:
    upload = {"file": (io.BytesIO(b'text\nok\n""\n'), "bad.csv")}
    job = api_import(client, world["first"], world["sam"].headers, upload)
    assert job["status"] == "failed" and "bad.csv: 1 problem(s) found" in job["error"]
    assert job["result"]["details"] == ["line 3: column 'text' is empty; every item needs text"]


def test_only_admins_create_projects(client, world) -> None:
    body = {"name": "new", "labels": ["a", "b"]}
    assert client.post("/api/projects", json=body, headers=world["sam"].headers).status_code == 403
    created = client.post("/api/projects", json=body, headers=world["root"].headers)
    assert created.status_code == 201 and created.json["labels"] == ["a", "b"]
    dup = client.post("/api/projects", json=body, headers=world["root"].headers)
    assert dup.status_code == 409


def test_cookie_session_api_posts_need_csrf(client, world) -> None:
    login(client, "root", world["root"].password)
    body = {"name": "via-cookie", "labels": ["a"]}
    assert client.post("/api/projects", json=body).status_code == 400
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert (
        client.post("/api/projects", json=body, headers={"X-CSRFToken": token}).status_code == 201
    )


def test_images_are_served_only_to_members(client, sessions, tmp_path) -> None:
    from PIL import Image

    from labelapp.models import Project

    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("RGB", (4, 4), "red").save(folder / "red.png")
    pid = make_project(sessions, "pics", labels=("red", "blue"), task_type="image")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), folder)
    member = make_user(sessions, "m", "annotator", (pid,))
    stranger = make_user(sessions, "s", "annotator")
    item = client.post(f"/api/projects/{pid}/next", headers=member.headers).json["item"]
    assert item["image_url"].startswith("/media/items/")
    login(client, "s", stranger.password)
    assert client.get(item["image_url"]).status_code == 404
    client.post(
        "/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))}
    )
    login(client, "m", member.password)
    image = client.get(item["image_url"])
    assert image.status_code == 200 and image.mimetype == "image/png"


def test_health_and_openapi_document_every_route(client, app) -> None:
    health = client.get("/api/health")
    assert health.status_code == 200 and health.json["schema_version"]
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (
                f"{method} {path} is missing from the OpenAPI document"
            )


def test_every_api_route_but_health_and_openapi_needs_auth(client, app) -> None:
    public = {"/api/health", "/api/openapi.json"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in public:
            continue
        path = re.sub(r"<int:[a-z_]+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, headers={"Authorization": "Bearer wrong"})
            assert response.status_code == 401, f"{method} {path}"


def test_every_page_sends_anonymous_visitors_to_login(client, app) -> None:
    open_pages = {"/login", "/static/<path:filename>"}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule in open_pages:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<int:{name}>", "1").replace(f"<{name}>", "1")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method)
            # POSTs without a CSRF token are refused before the login check; either way, nothing
            # runs.
            assert response.status_code in (302, 400), f"{method} {path}: {response.status_code}"
            if response.status_code == 302:
                assert "/login" in response.headers["Location"]
