"""Roles per project (issue 17): a member is an annotator or an sme in each project, capped by
the account's role; an sme who only annotates a project sees it as an annotator, by page and
by API; members and their roles are managed by API, page and CLI. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from labelapp.cli import main
from tests.app.factories import add_items, make_project, make_user
from tests.conftest import BACKENDS, PG_URL, _pg_admin_connect, csrf_token_from, login


def _csv(tmp_path, name: str, rows: list[tuple[str, str, str]]):
    path = tmp_path / name
    path.write_text("id,text,sentiment\n" + "".join(f"{i},{t},{s}\n" for i, t, s in rows))
    return path


def _import(sessions, project_id: int, path, **options) -> None:
    from labelapp.db import session_scope
    from labelapp.models import Project
    from labelapp.services.imports import ImportOptions, import_path

    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path, ImportOptions(**options))


@pytest.mark.slow
def test_an_sme_who_annotates_a_project_sees_it_as_an_annotator(app, sessions, tmp_path) -> None:
    reviewed = make_project(sessions, "reviewed", ("pos", "neg"))
    annotated = make_project(sessions, "annotated", ("pos", "neg"))
    rows = [("a1", "great film", "pos"), ("a2", "dull plot", "neg"), ("a3", "fine cast", "pos")]
    for pid in (reviewed, annotated):
        _import(sessions, pid, _csv(tmp_path, f"rows{pid}.csv", rows))
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,sentiment,answer\ng1,a known good one,pos,pos\n")
    _import(sessions, annotated, gold, label_col="answer", gold=True)
    sam = make_user(sessions, "sam", "sme", (reviewed,))
    make_user(sessions, "other-ann", "annotator", (annotated,))
    root = make_user(sessions, "root", "admin")
    api = app.test_client()
    # The admin makes sam an annotator in the second project.
    added = api.post(
        f"/api/projects/{annotated}/members",
        headers=root.headers,
        json={"username": "sam", "role": "annotator"},
    )
    assert added.status_code == 201 and added.get_json()["role"] == "annotator"
    assert added.get_json()["user"]["role"] == "sme"  # the account keeps its role
    me = api.get("/api/me", headers=sam.headers).get_json()
    assert me["project_roles"] == {str(reviewed): "sme", str(annotated): "annotator"}

    # Where sam is an sme: imports, items, every column.
    assert api.get(f"/api/projects/{reviewed}/imports", headers=sam.headers).status_code == 200
    items = api.get(f"/api/projects/{reviewed}/items", headers=sam.headers).get_json()
    assert "sentiment" in items["items"][0]["meta"]

    # Where sam annotates: no imports, items, gold, answers of others, review or export.
    for path in (
        "imports",
        "items",
        "review",
        "adjudication",
        "exports",
        "flags",
        "lfs",
        "model-runs",
        "members",
        "labels",
        "columns",
    ):
        got = api.get(f"/api/projects/{annotated}/{path}", headers=sam.headers)
        assert got.status_code == 403, (path, got.status_code)
    others = api.get(f"/api/projects/{annotated}/annotations?user=other-ann", headers=sam.headers)
    assert others.status_code == 403
    refused = api.post(
        f"/api/projects/{annotated}/guidelines", headers=sam.headers, json={"body": "mine"}
    )
    assert refused.status_code == 403
    assert "annotator there" in refused.get_json()["error"]["message"]

    # ... and labels like an annotator: the label-like column stays hidden; the answer counts.
    claim = api.post(f"/api/projects/{annotated}/next", headers=sam.headers).get_json()
    assert "sentiment" not in claim["item"]["meta"] and "gold" not in str(claim).lower()
    sent = api.post(
        f"/api/items/{claim['item']['id']}/annotations",
        headers=sam.headers,
        json={"labels": ["pos"], "client_id": str(uuid.uuid4())},
    )
    assert sent.status_code == 201
    correction = api.post(
        f"/api/items/{claim['item']['id']}/corrections",
        headers=sam.headers,
        json={"labels": ["neg"], "reason": "I review here, surely"},
    )
    assert correction.status_code == 403
    mine = api.get(f"/api/projects/{annotated}/annotations", headers=sam.headers).get_json()
    assert mine["total"] == 1

    # By page: the project page offers no review pages; the review page itself is refused.
    browser = app.test_client()
    login(browser, "sam", sam.password)
    page = browser.get(f"/projects/{annotated}").get_data(as_text=True)
    assert "You are an annotator in this project" in page
    for link in ("review-link", "adjudicate-link", "export-link", "lfs-link", 'id="members"'):
        assert link not in page, link
    assert browser.get(f"/projects/{annotated}/review").status_code == 403
    own = browser.get(f"/projects/{reviewed}").get_data(as_text=True)
    assert "review-link" in own and "You are an sme" in own


def test_roles_set_by_admins_and_by_smes_who_manage_members(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "team", ("bug", "feature"))
    add_items(sessions, pid, ["crash", "wish"], tmp_path)
    root = make_user(sessions, "root", "admin")
    lead = make_user(sessions, "lead", "sme", (pid,))
    make_user(sessions, "kim", "sme")
    ann = make_user(sessions, "ann", "annotator")
    api = app.test_client()

    def put(headers, username, role=None):
        body = {"username": username} | ({"role": role} if role else {})
        return api.post(f"/api/projects/{pid}/members", headers=headers, json=body)

    def roles():
        members = api.get(f"/api/projects/{pid}/members", headers=root.headers).get_json()
        return {m["username"]: m["role"] for m in members["members"]}

    assert put(lead.headers, "kim").status_code == 403  # the project does not allow it yet
    api.patch(f"/api/projects/{pid}/team", headers=root.headers, json={"sme_manages_members": True})
    assert put(lead.headers, "kim", "annotator").status_code == 201
    assert put(lead.headers, "ann").status_code == 201  # default: what the account allows
    assert roles() == {"lead": "sme", "kim": "annotator", "ann": "annotator"}
    # A managing sme gives sme up to the account's role: kim yes, ann (annotator account) no.
    raised = put(lead.headers, "kim", "sme")
    assert raised.status_code == 200 and raised.get_json()["role"] == "sme"
    refused = put(lead.headers, "ann", "sme")
    assert refused.status_code == 403 and "only an admin" in refused.get_json()["error"]["message"]
    # An admin may: the account becomes sme, its other projects unchanged.
    other = make_project(sessions, "other", ("bug", "feature"))
    put_other = api.post(
        f"/api/projects/{other}/members", headers=root.headers, json={"username": "ann"}
    )
    assert put_other.get_json()["role"] == "annotator"
    promoted = put(root.headers, "ann", "sme")
    assert promoted.get_json()["role"] == "sme" and promoted.get_json()["user"]["role"] == "sme"
    me = api.get("/api/me", headers=ann.headers).get_json()["project_roles"]
    assert me == {str(pid): "sme", str(other): "annotator"}
    # Lowering the account to annotator makes them annotators everywhere.
    api.patch(f"/api/users/{ann.id}", headers=root.headers, json={"role": "annotator"})
    assert roles()["ann"] == "annotator"
    assert api.get(f"/api/projects/{pid}/imports", headers=ann.headers).status_code in (401, 403)
    # An sme who only annotates a project does not manage its members, whatever the policy.
    assert put(root.headers, "lead", "annotator").status_code == 200
    assert put(lead.headers, "kim", "annotator").status_code == 403
    # Admins are admins everywhere: no membership role to give.
    admin_member = put(root.headers, "root", "sme")
    assert (
        admin_member.status_code == 400 and "admin" in admin_member.get_json()["error"]["message"]
    )


@pytest.mark.slow
def test_members_page_and_cli_set_the_role(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "pagecli", ("ham", "spam"))
    root = make_user(sessions, "root", "admin")
    make_user(sessions, "kim", "sme", (pid,))
    web = app.test_client()
    login(web, "root", root.password)
    page = web.get(f"/projects/{pid}").get_data(as_text=True)
    assert 'aria-label="Role of kim in this project"' in page
    done = web.post(
        f"/projects/{pid}/members",
        data={"username": "kim", "role": "annotator", "csrf_token": csrf_token_from(page)},
        follow_redirects=True,
    )
    assert "kim is now annotator in pagecli" in done.get_data(as_text=True)
    runner = CliRunner()
    listed = runner.invoke(main, ["projects", "members", "pagecli"], catch_exceptions=False)
    assert (
        "kim" in listed.output and "annotator" in listed.output and "account: sme" in listed.output
    )
    changed = runner.invoke(
        main, ["projects", "members", "pagecli", "--add", "kim", "--role", "sme"]
    )
    assert changed.exit_code == 0 and "kim (sme) is a member of pagecli" in changed.output
    wrong = runner.invoke(
        main, ["projects", "members", "pagecli", "--add", "kim", "--role", "boss"]
    )
    assert wrong.exit_code != 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_gives_existing_members_their_account_role(backend, tmp_path) -> None:
    """Revision 0016 on a database at 0015: nobody's access changes; and it downgrades."""
    from alembic import command
    from sqlalchemy import inspect, text

    from labelapp.db import make_engine
    from labelapp.migrate import alembic_config, upgrade

    if backend == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'roles.sqlite3'}", None
    else:
        name = f"labelapp_roles_{uuid.uuid4().hex[:8]}"
        with _pg_admin_connect() as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
        url, drop = url.render_as_string(hide_password=False), name
    try:
        upgrade(url, "0015")
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO projects (id, name, description, task_type, "
                              "multi_label, overlap_k, overlap_share, gold_rate, strategy, "
                              "featurizer, embedding_max_items, batch_size, retrain_every, "
                              "lease_seconds, queue_order, queue_seed, created_at) VALUES (1, 'p', "
                              "'', 'text', false, 1, 1.0, 0.0, 'margin', 'tfidf', 1000, 50, 50, "
                              "600, 'import', 0, CURRENT_TIMESTAMP)"))  # fmt: skip
            for uid, role in ((1, "admin"), (2, "sme"), (3, "annotator")):
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, role, active, "
                        "session_epoch, created_at) VALUES (:id, :name, '', :role, true, 0, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    {"id": uid, "name": f"u{uid}", "role": role},
                )
                conn.execute(
                    text(
                        "INSERT INTO memberships (user_id, project_id, created_at) "
                        "VALUES (:id, 1, CURRENT_TIMESTAMP)"
                    ),
                    {"id": uid},
                )
        engine.dispose()
        upgrade(url, "0016")
        engine = make_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, role FROM memberships ORDER BY user_id"))
            assert [tuple(r) for r in rows] == [(1, "sme"), (2, "sme"), (3, "annotator")]
        engine.dispose()
        command.downgrade(alembic_config(url), "0015")
        engine = make_engine(url)
        columns = {c["name"] for c in inspect(engine).get_columns("memberships")}
        engine.dispose()
        assert "role" not in columns
    finally:
        if drop:
            with _pg_admin_connect() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
