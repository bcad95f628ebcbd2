"""Sessions, login limits, leases, headers and file modes: the holes of the security probe."""

from __future__ import annotations

import http.client
import os
import stat
import threading
import uuid

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from labelapp.db import session_scope
from labelapp.models import Project, QueueEntry, User
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.users import set_password
from tests.app.factories import add_items, make_project, make_user
from tests.conftest import csrf_token_from, login


def _logged_in(app, who, remember: bool = False):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    data = {"username": who.username, "password": who.password, "csrf_token": csrf_token_from(page)}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def _cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_logout_ends_every_session_and_remember_cookie_of_the_user(app, sessions) -> None:
    sam = make_user(sessions, "sam", "sme")
    laptop, phone = _logged_in(app, sam), _logged_in(app, sam, remember=True)
    remember = phone.get_cookie("remember_token")
    assert remember is not None
    assert laptop.get("/api/me").status_code == 200 and phone.get("/api/me").status_code == 200
    token = csrf_token_from(laptop.get("/").get_data(as_text=True))
    assert laptop.post("/logout", data={"csrf_token": token}).status_code == 302
    assert phone.get("/api/me").status_code == 401  # the other device is logged out too
    # A copy of the old remember-cookie alone does not log anyone back in.
    thief = app.test_client()
    thief.set_cookie("remember_token", remember.value)
    assert thief.get("/api/me").status_code == 401
    assert _logged_in(app, sam).get("/api/me").status_code == 200  # a new login works


@pytest.mark.slow
def test_a_password_change_ends_every_session(app, sessions) -> None:
    sam = make_user(sessions, "sam", "sme")
    browser = _logged_in(app, sam, remember=True)
    with session_scope(sessions) as session:
        set_password(session.get(User, sam.id), "a-new-password-1")
    assert browser.get("/api/me").status_code == 401
    assert browser.get("/").status_code == 302  # pages send it to the login form


def test_cookies_are_httponly_samesite_and_secure_when_configured(db_url) -> None:
    from labelapp.app import create_app

    for secure in (False, True):
        app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "k", "SECURE_COOKIES": secure})
        with session_scope(app.extensions["labelapp.sessions"]) as session:
            from labelapp.services.users import create_user

            create_user(session, f"u{int(secure)}", "sme", password="password-123")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        res = client.post(
            "/login",
            data={
                "username": f"u{int(secure)}",
                "remember": "y",
                "password": "password-123",
                "csrf_token": csrf_token_from(page),
            },
        )
        for name in ("session", "remember_token"):
            cookie = _cookie(res, name)
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
            assert ("Secure" in cookie) is secure, cookie
        app.extensions["labelapp.engine"].dispose()


def test_failed_logins_are_limited_per_user_name(app, sessions) -> None:
    sam = make_user(sessions, "sam", "sme")
    client = app.test_client()
    for _ in range(10):
        assert login(client, "sam", "wrong password").status_code == 401
    refused = login(client, "sam", sam.password)  # even the right password, for a while
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.get_data(as_text=True)
    # Another user name is not blocked by sam's failures.
    ann = make_user(sessions, "ann", "annotator")
    assert login(client, "ann", ann.password).status_code == 302


def test_an_unknown_user_name_costs_a_password_check(sessions, monkeypatch) -> None:
    """Timing must not tell which user names exist: both answers hash the password once."""
    from labelapp.services import users

    make_user(sessions, "sam", "sme")
    checks: list[str] = []
    real = users.check_password_hash
    monkeypatch.setattr(users, "check_password_hash", lambda h, p: checks.append(h) or real(h, p))
    with session_scope(sessions) as session:
        assert users.authenticate(session, "nobody", "guess-1234") is None
        assert users.authenticate(session, "sam", "guess-1234") is None
    assert len(checks) == 2
    assert checks[0].split("$")[0] == checks[1].split("$")[0]  # same method and cost


@pytest.mark.slow
def test_passwords_are_stored_with_scrypt() -> None:
    """Outside the tests (which hash with cheap PBKDF2: tests/conftest.py), a password is stored
    as werkzeug's scrypt hash."""
    import subprocess
    import sys

    code = (
        "from labelapp.services.users import generate_password_hash as g, _decoy_hash as d;"
        "print(g('a password'), d())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    stored, decoy = out.stdout.split()
    assert stored.startswith("scrypt:32768:8:1$") and decoy.startswith("scrypt:")


def test_heartbeat_renews_only_a_lease_you_hold(app, client, sessions, tmp_path) -> None:
    pid = make_project(sessions, "p", ("ham", "spam"))
    items = add_items(sessions, pid, ["one", "two", "three"], tmp_path)
    alice = make_user(sessions, "alice", "annotator", (pid,))
    bob = make_user(sessions, "bob", "annotator", (pid,))
    free = items[2]
    jump = client.post(f"/api/items/{free}/heartbeat", headers=alice.headers)
    assert jump.status_code == 409 and jump.get_json()["error"]["code"] == "lease_lost"
    with session_scope(sessions) as session:
        assert session.get(QueueEntry, free).leased_by_id is None  # nothing was leased
    claim = client.post(f"/api/projects/{pid}/next", headers=alice.headers).get_json()
    held = claim["item"]["id"]
    beat = client.post(f"/api/items/{held}/heartbeat", json={}, headers=alice.headers)
    assert beat.status_code == 200
    assert client.post(f"/api/items/{held}/heartbeat", headers=bob.headers).status_code == 409
    # Queue order is untouched: bob gets the next item, not the one alice holds.
    assert client.post(f"/api/projects/{pid}/next", headers=bob.headers).get_json()["item"][
        "id"
    ] not in (held,)


def test_a_gold_heartbeat_needs_the_ticket_of_the_claim(app, client, sessions, tmp_path) -> None:
    """Gold items have no lease; without the claim's ticket their heartbeat answers like any
    item you do not hold, so nobody can find out which items are gold."""
    pid = make_project(sessions, "g", ("ham", "spam"))
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,answer\ng1,known spam,spam\n")
    with session_scope(sessions) as session:
        project = session.get(Project, pid)
        project.gold_rate = 1.0
        import_path(session, project, gold, ImportOptions(label_col="answer", gold=True))
        gold_id = session.scalar(select(QueueEntry.item_id).where(QueueEntry.is_gold.is_(True)))
    alice = make_user(sessions, "alice", "annotator", (pid,))
    eve = make_user(sessions, "eve", "annotator", (pid,))
    assert client.post(f"/api/items/{gold_id}/heartbeat", headers=eve.headers).status_code == 409
    claim = client.post(f"/api/projects/{pid}/next", headers=alice.headers).get_json()
    assert claim["item"]["id"] == gold_id
    ticket = {"lease_ticket": claim["lease_ticket"]}
    assert (
        client.post(
            f"/api/items/{gold_id}/heartbeat", json=ticket, headers=alice.headers
        ).status_code
        == 200
    )
    assert (
        client.post(f"/api/items/{gold_id}/heartbeat", json=ticket, headers=eve.headers).status_code
        == 409
    )  # alice's ticket is not eve's
    body = {"labels": ["spam"], "client_id": str(uuid.uuid4())}
    assert (
        client.post(
            f"/api/items/{gold_id}/annotations", json=body, headers=alice.headers
        ).status_code
        == 201
    )


def test_every_answer_carries_the_security_headers(app, client, sessions) -> None:
    sam = make_user(sessions, "sam", "sme")
    browser = _logged_in(app, sam)
    for res in (
        client.get("/login"),
        browser.get("/"),
        client.get("/api/health"),
        client.get("/static/app.css"),
    ):
        csp = res.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "style-src 'self'" in csp
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert res.headers["X-Frame-Options"] == "DENY"
        assert res.headers["Referrer-Policy"] == "same-origin"
    assert client.head("/login").status_code == 200  # a probe's HEAD is not a failed login


def test_the_server_header_names_no_versions(app) -> None:
    from labelapp.cli.serve import quiet_request_handler

    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=quiet_request_handler()
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        conn.request("GET", "/api/health")
        res = conn.getresponse()
        assert res.status == 200 and res.getheader("Server") == "labelapp"
    finally:
        server.shutdown()


def test_the_data_directory_and_database_are_private(tmp_path, monkeypatch) -> None:
    from labelapp import config
    from labelapp.app import _persistent_secret
    from labelapp.migrate import upgrade

    monkeypatch.setenv("LABELAPP_DATA_DIR", str(tmp_path / "fresh" / "data"))
    monkeypatch.delenv("LABELAPP_DATABASE_URL", raising=False)
    old = os.umask(0o022)
    try:
        folder = config.data_dir()
        upgrade(config.database_url())
        _persistent_secret()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / config.DATABASE_FILENAME).stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "secret_key").stat().st_mode) == 0o600
    assert stat.S_IMODE(config.private_dir(tmp_path / "demo" / "dir").stat().st_mode) == 0o700
