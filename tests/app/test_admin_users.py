"""Users through the API and the pages (issue 17): create, deactivate (sessions and tokens stop at
once), reactivate, roles, password resets, token rotation, the last admin, one's own profile."""

from __future__ import annotations

from tests.app.factories import make_project, make_user
from tests.conftest import csrf_token_from, login


def test_admin_creates_deactivates_and_reactivates_a_user(app, sessions) -> None:
    pid = make_project(sessions, "tickets", ("bug", "feature"))
    root = make_user(sessions, "root", "admin")
    api = app.test_client()
    made = api.post(
        "/api/users",
        headers=root.headers,
        json={"username": "dana", "role": "annotator", "projects": [pid]},
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    token, password = body["token"], body["password"]
    dana = {"Authorization": f"Bearer {token}"}
    assert [p["name"] for p in api.get("/api/projects", headers=dana).get_json()["projects"]] == [
        "tickets"
    ]
    browser = app.test_client()
    assert login(browser, "dana", password).status_code == 302
    assert browser.get("/").status_code == 200
    listed = {
        u["username"]: u for u in api.get("/api/users", headers=root.headers).get_json()["users"]
    }
    assert listed["dana"]["projects"] == ["tickets"] and listed["dana"]["active"]

    off = api.patch(
        f"/api/users/{body['user']['id']}", headers=root.headers, json={"active": False}
    )
    assert off.status_code == 200 and off.get_json()["user"]["active"] is False
    # At once: the open session and the token no longer work.
    assert browser.get("/").status_code == 302
    assert api.get("/api/me", headers=dana).status_code == 401
    assert login(app.test_client(), "dana", password).status_code == 401

    on = api.patch(f"/api/users/{body['user']['id']}", headers=root.headers, json={"active": True})
    assert on.get_json()["user"]["active"] is True
    assert api.get("/api/me", headers=dana).get_json()["username"] == "dana"
    assert login(app.test_client(), "dana", password).status_code == 302


def test_reset_password_and_rotate_token_show_new_secrets_once(app, sessions) -> None:
    root = make_user(sessions, "root", "admin")
    sam = make_user(sessions, "sam", "sme")
    api = app.test_client()
    reset = api.post(f"/api/users/{sam.id}/password", headers=root.headers).get_json()
    assert reset["password"] and reset["token"] is None
    assert login(app.test_client(), "sam", sam.password).status_code == 401
    assert login(app.test_client(), "sam", reset["password"]).status_code == 302
    rotated = api.post(f"/api/users/{sam.id}/token", headers=root.headers).get_json()
    assert api.get("/api/me", headers=sam.headers).status_code == 401
    new = {"Authorization": f"Bearer {rotated['token']}"}
    assert api.get("/api/me", headers=new).get_json()["username"] == "sam"
    # Only admins manage users.
    assert api.get("/api/users", headers=new).status_code == 403
    assert api.post(f"/api/users/{root.id}/password", headers=new).status_code == 403


def test_the_last_admin_cannot_be_deactivated_or_demoted(app, sessions) -> None:
    root = make_user(sessions, "root", "admin")
    api = app.test_client()
    refused = api.patch(f"/api/users/{root.id}", headers=root.headers, json={"active": False})
    assert (
        refused.status_code == 409 and "last active admin" in refused.get_json()["error"]["message"]
    )
    demoted = api.patch(f"/api/users/{root.id}", headers=root.headers, json={"role": "sme"})
    assert demoted.status_code == 409
    assert api.get("/api/me", headers=root.headers).get_json()["role"] == "admin"
    second = make_user(sessions, "second", "admin")
    assert (
        api.patch(
            f"/api/users/{root.id}", headers=second.headers, json={"active": False}
        ).status_code
        == 200
    )
    assert (
        api.patch(
            f"/api/users/{second.id}", headers=second.headers, json={"active": False}
        ).status_code
        == 409
    )


def test_users_page_creates_a_user_and_shows_the_secrets_once(app, sessions) -> None:
    make_user(sessions, "root", "admin")
    pid = make_project(sessions, "tickets", ("bug", "feature"))
    browser = app.test_client()
    login(browser, "root", "pw-root-123")
    page = browser.get("/admin/users").get_data(as_text=True)
    created = browser.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token_from(page),
            "username": "erin",
            "role": "annotator",
            "projects": [str(pid)],
        },
    )
    html = created.get_data(as_text=True)
    assert (
        created.status_code == 200 and 'id="shown-password"' in html and 'id="shown-token"' in html
    )
    assert 'id="shown-password"' not in browser.get("/admin/users").get_data(as_text=True)
    duplicate = browser.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token_from(page),
            "username": "erin",
            "role": "annotator",
            "next": "/admin/users",
        },
        follow_redirects=True,
    )
    assert "already exists" in duplicate.get_data(as_text=True)


def test_profile_changes_own_password_and_token(app, sessions) -> None:
    ann = make_user(sessions, "ann", "annotator")
    browser, other = app.test_client(), app.test_client()
    login(browser, "ann", ann.password)
    login(other, "ann", ann.password)
    page = browser.get("/profile").get_data(as_text=True)
    token = csrf_token_from(page)
    wrong = browser.post(
        "/profile/password",
        data={
            "csrf_token": token,
            "current": "nope",
            "new": "a-new-password",
            "repeat": "a-new-password",
            "next": "/profile",
        },
        follow_redirects=True,
    )
    assert "current password is not right" in wrong.get_data(as_text=True)
    done = browser.post(
        "/profile/password",
        data={
            "csrf_token": token,
            "current": ann.password,
            "new": "a-new-password",
            "repeat": "a-new-password",
        },
    )
    assert done.status_code == 302
    assert browser.get("/profile").status_code == 200  # this browser stays logged in
    assert other.get("/profile").status_code == 302  # the other session ended
    assert login(app.test_client(), "ann", "a-new-password").status_code == 302
    page = browser.get("/profile").get_data(as_text=True)
    unconfirmed = browser.post(
        "/profile/token",
        data={"csrf_token": csrf_token_from(page), "next": "/profile"},
        follow_redirects=True,
    )
    assert "tick" in unconfirmed.get_data(as_text=True)
    assert app.test_client().get("/api/me", headers=ann.headers).status_code == 200
    rotated = browser.post(
        "/profile/token", data={"csrf_token": csrf_token_from(page), "confirm": "yes"}
    ).get_data(as_text=True)
    assert 'id="shown-token"' in rotated
    assert app.test_client().get("/api/me", headers=ann.headers).status_code == 401
    # Annotators never reach the admin pages.
    assert browser.get("/admin/users").status_code == 403
    assert browser.get("/admin").status_code == 403
