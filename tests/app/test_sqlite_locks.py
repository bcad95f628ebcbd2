"""SQLite under load: CLI commands and a demo restart never fail with "database is locked" while
8 annotators label through a real HTTP server on the same database file.

SQLite only: the lock it guards against (a deferred transaction that read first, then cannot
upgrade to a writer) does not exist on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from labelapp.db import make_engine, make_session_factory, session_scope
from labelapp.models import Project
from labelapp.services.users import add_member, create_user

ANNOTATORS = 8
EXE = Path(sys.executable).with_name("labelapp")


def _env(home: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELAPP_")}
    env["HOME"] = str(home)
    env["LABELAPP_DATA_DIR"] = str(data_dir)
    return env


def _labelapp(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=180)


def _annotate(
    base: str,
    project_id: int,
    token: str,
    stop: threading.Event,
    counts: list[int],
    errors: list[str],
) -> None:
    """Label as fast as the server allows until ``stop`` (once the queue is empty, change earlier
    answers: each change is a new annotation row, a write like any other); record failures."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    mine: list[int] = []
    while not stop.is_set():
        res = http.post(f"{base}/api/projects/{project_id}/next", timeout=60)
        if res.status_code == 204 and not mine:
            return
        if res.status_code == 204:
            item_id = mine[len(counts) % len(mine)]
        elif res.status_code != 200:
            errors.append(f"next: {res.status_code} {res.text[:200]}")
            return
        else:
            item_id = res.json()["item"]["id"]
            mine.append(item_id)
        label = "spam" if len(counts) % 2 else "ham"
        body = {"labels": [label], "client_id": str(uuid.uuid4())}
        sent = http.post(f"{base}/api/items/{item_id}/annotations", json=body, timeout=60)
        if sent.status_code not in (200, 201):
            errors.append(f"submit: {sent.status_code} {sent.text[:200]}")
            return
        counts.append(1)


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    data_dir = tmp_path / "demo"
    env = _env(tmp_path / "home", data_dir)
    first = _labelapp(env, "demo", "--data-dir", str(data_dir), "--no-serve")
    assert first.returncode == 0, first.stderr
    return data_dir


@pytest.mark.slow
def test_cli_writes_and_demo_restart_succeed_while_8_annotators_label(
    demo_dir: Path, tmp_path: Path
) -> None:
    from labelapp.app import create_app

    url = f"sqlite:///{demo_dir / 'labelapp.sqlite3'}"
    engine = make_engine(url)
    factory = make_session_factory(engine)
    tokens = []
    with session_scope(factory) as session:
        from sqlalchemy import select

        project = session.scalar(select(Project).where(Project.name == "youtube-spam"))
        project_id = project.id
        for i in range(ANNOTATORS):
            user, token = create_user(session, f"load{i}", "annotator", password="pw-load-123")
            add_member(session, user, project)
            tokens.append(token)
    engine.dispose()

    app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "test-secret"})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    serving = threading.Thread(target=srv.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{srv.server_port}"
    stop = threading.Event()
    counts: list[int] = []
    errors: list[str] = []
    team = [
        threading.Thread(target=_annotate, args=(base, project_id, t, stop, counts, errors))
        for t in tokens
    ]
    for thread in team:
        thread.start()

    csv_path = tmp_path / "more.csv"
    env = _env(tmp_path / "home", demo_dir)
    csv_path.write_text("id,text\n" + "".join(f"x-{i},extra text {i}\n" for i in range(50)))
    # Each kind of write once, the demo's restart, then a write after the restart.
    commands = [
        ("users", "token", "alice"),
        ("projects", "create", "side", "--labels", "a,b"),
        ("users", "create", "extra", "--role", "annotator"),
        ("projects", "add-member", "side", "extra"),
        ("import", str(csv_path), "--project", "side"),
        ("demo", "--data-dir", str(demo_dir), "--no-serve"),
        ("users", "token", "bob"),
    ]
    failures: list[str] = []
    under_load: list[bool] = []
    try:
        for args in commands:
            labeled_before = len(counts)
            result = _labelapp(env, *args)
            if result.returncode != 0:
                failures.append(f"labelapp {' '.join(args)}: {result.stderr.strip()[-600:]}")
            assert "Traceback" not in result.stderr, result.stderr
            under_load.append(len(counts) > labeled_before)
    finally:
        stop.set()
        for thread in team:
            thread.join(120)
        srv.shutdown()
        serving.join(5)
        app.extensions["labelapp.engine"].dispose()
    assert not failures, "\n".join(failures)
    assert not errors, errors[:5]
    assert all(under_load), under_load  # labels were stored while each command ran


def _other_writer_blocked(db_url: str) -> bool:
    """Whether a second connection is refused SQLite's write lock right now."""
    import sqlite3

    other = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return True
    finally:
        other.close()


def test_ensure_write_lock_after_a_read_holds_the_lock(db_url: str, sessions) -> None:
    from sqlalchemy import select

    from labelapp.db import ensure_write_lock
    from labelapp.models import User

    with session_scope(sessions) as session:
        session.scalar(select(User.id).limit(1))  # a deferred transaction that has read
        ensure_write_lock(session)
        if db_url.startswith("sqlite"):
            assert _other_writer_blocked(db_url)
        user, _ = create_user(session, "writer", "annotator")
    with session_scope(sessions) as session:
        assert session.scalar(select(User.username).where(User.id == user.id)) == "writer"


def test_ensure_write_lock_keeps_earlier_writes_in_the_same_transaction(sessions) -> None:
    """A unit of work that wrote already (SQLite then holds the lock) is not split in two."""
    from sqlalchemy import func, select

    from labelapp.db import ensure_write_lock
    from labelapp.models import User
    from labelapp.services.projects import create_project

    with pytest.raises(RuntimeError), session_scope(sessions) as session:
        create_project(session, "half", ["a", "b"])
        ensure_write_lock(session)
        create_user(session, "second", "annotator")
        raise RuntimeError("the unit of work fails after both writes")
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Project)) == 0
        assert session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("released", [True, False])
def test_begin_write_retries_then_says_the_database_is_busy(
    tmp_path: Path, monkeypatch, released: bool
) -> None:
    """A lock held past the busy timeout is retried; held past every retry, a clear 503 error."""
    import sqlite3

    from sqlalchemy import event

    from labelapp import db
    from labelapp.db import DatabaseBusy, begin_write

    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    monkeypatch.setattr(db, "WRITE_LOCK_BACKOFF_SECONDS", (0.3,))
    holder = sqlite3.connect(
        tmp_path / "busy.sqlite3", isolation_level=None, check_same_thread=False
    )
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    if released:
        threading.Timer(0.15, lambda: holder.execute("ROLLBACK")).start()
    session = make_session_factory(engine)()
    try:
        if released:
            begin_write(session)
            session.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
            session.commit()
        else:
            with pytest.raises(DatabaseBusy) as err:
                begin_write(session)
            assert err.value.status == 503
            assert "the database is busy" in str(err.value) and "nothing was changed" in str(
                err.value
            )
    finally:
        session.close()
        engine.dispose()
        holder.close()
