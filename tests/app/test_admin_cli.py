"""The team commands (issue 17): users deactivate|reactivate|role, projects archive|unarchive|
delete|members, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from labelapp.cli import main
from tests.app.factories import add_items, make_project, make_user


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.mark.slow
def test_users_deactivate_reactivate_and_last_admin(app, sessions) -> None:
    make_user(sessions, "root", "admin")
    ann = make_user(sessions, "ann", "annotator")
    api = app.test_client()
    done = run("users", "deactivate", "ann")
    assert done.exit_code == 0 and "deactivated" in done.output
    assert api.get("/api/me", headers=ann.headers).status_code == 401
    listed = run("users", "list").output
    assert "ann" in listed and "inactive" in listed
    assert run("users", "reactivate", "ann").exit_code == 0
    assert api.get("/api/me", headers=ann.headers).status_code == 200
    last = run("users", "deactivate", "root")
    assert last.exit_code == 1 and "last active admin" in last.output
    assert run("users", "role", "root", "sme").exit_code == 1
    assert run("users", "role", "ann", "sme").exit_code == 0
    assert api.get("/api/me", headers=ann.headers).get_json()["role"] == "sme"
    missing = run("users", "deactivate", "nobody")
    assert missing.exit_code == 1 and "no user named 'nobody'" in missing.output


@pytest.mark.slow
def test_projects_members_archive_and_delete(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "scratch", ("ham", "spam"))
    add_items(sessions, pid, ["a", "b"], tmp_path)
    ann = make_user(sessions, "ann", "annotator")
    api = app.test_client()
    added = run("projects", "members", "scratch", "--add", "ann", "--role", "annotator")
    assert added.exit_code == 0 and "ann (annotator) is a member of scratch" in added.output
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 200
    assert "ann" in run("projects", "members", "scratch").output
    archived = run("projects", "archive", "scratch")
    assert archived.exit_code == 0
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 404
    assert run("projects", "unarchive", "scratch").exit_code == 0
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 200
    removed = run("projects", "members", "scratch", "--remove", "ann")
    assert removed.exit_code == 0 and "answers kept" in removed.output
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 404
    refused = run("projects", "delete", "scratch", stdin="scrach\n")
    assert refused.exit_code == 1 and "nothing was deleted" in refused.output
    deleted = run("projects", "delete", "scratch", stdin="scratch\n")
    assert deleted.exit_code == 0 and "2 items" in deleted.output
    assert "scratch" not in run("projects", "list").output
    gone = run("projects", "delete", "scratch", "--yes")
    assert gone.exit_code == 1 and "does not exist" in gone.output and "--create" not in gone.output


def test_export_of_an_unknown_project_says_it_does_not_exist(db_url) -> None:
    result = run("export", "--project", "nope", "--format", "csv", "--out", "/tmp/never")
    assert result.exit_code != 0
    assert "does not exist" in result.output and "--create" not in result.output
