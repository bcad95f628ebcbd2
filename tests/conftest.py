"""Shared fixtures: real databases (SQLite file and PostgreSQL), the app, logged-in clients.

PostgreSQL: ``LABELAPP_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
is the server; each test session gets its own database there. In CI (``CI`` set) an unreachable
PostgreSQL fails the run; elsewhere its tests are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("LABELAPP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
# `make test-fast` sets LABELAPP_TEST_BACKENDS=sqlite; CI always runs both.
BACKENDS = (
    ["sqlite", "postgresql"]
    if IN_CI
    else os.environ.get("LABELAPP_TEST_BACKENDS", "sqlite,postgresql").split(",")
)

# Sentence embeddings depend on the text and the model only: one on-disk cache for every test's
# data directory, so the demo comments are embedded once per machine, not once per test.
os.environ.setdefault(
    "LABELAPP_EMBEDDING_DIR",
    str(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "labelapp-tests"
        / "embeddings"
    ),
)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Passwords created by the tests are hashed with 1,000 rounds of PBKDF2 instead of
    werkzeug's scrypt: each scrypt hash or check costs about 0.1 s of CPU, and the suite logs in
    thousands of times. Checks read the method from the stored hash, so servers started as
    subprocesses verify these at once too. The production method is asserted in
    tests/app/test_security.py (``test_passwords_are_stored_with_scrypt``)."""
    from functools import partial
    from unittest import mock

    from werkzeug.security import generate_password_hash

    from labelapp.services import users

    users._decoy_hash.cache_clear()
    cheap = partial(generate_password_hash, method="pbkdf2:sha256:1000")
    with mock.patch.object(users, "generate_password_hash", cheap):
        yield
    users._decoy_hash.cache_clear()


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under ``tests/browser/`` is marked ``browser`` (``-m 'not browser'`` leaves
    Chromium out). Browser tests and tests marked ``one_backend`` run on one of the two
    databases each, the same one every run (by a hash of the test's name without its database),
    so both databases are tried across each file while CI stays within its time. ``one_backend``
    marks tests whose subject is not storage (the LF sandbox, access rules, model training,
    fuzzing, memory): the storage under every route, job and import is tested on both by the
    unmarked tests. Set ``LABELAPP_SPLIT_BACKENDS=0`` to run every test on both."""
    for item in items:
        if "/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
    if os.environ.get("LABELAPP_SPLIT_BACKENDS") == "0" or len(BACKENDS) < 2:
        return
    keep, drop = [], []
    for item in items:
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("db_url")
        browser = item.get_closest_marker("browser") is not None  # marked just above
        if backend is None or not (browser or item.get_closest_marker("one_backend")):
            keep.append(item)
            continue
        # browser tests by function (as before); marked ones by their other parameters too
        key = item.originalname if browser else re.sub(r"sqlite|postgresql", "", item.name)
        chosen = BACKENDS[zlib.crc32(key.encode()) % len(BACKENDS)]
        (keep if backend == chosen else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_admin_connect():
    import psycopg

    url = make_url(PG_URL)
    return psycopg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.database or "postgres",
        autocommit=True,
        connect_timeout=5,
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Create a fresh PostgreSQL database for this test session; yield its URL; drop it after."""
    try:
        admin = _pg_admin_connect()
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    name = f"labelapp_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with _pg_admin_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_migrated(pg_server: str) -> str:
    from labelapp.migrate import upgrade

    upgrade(pg_server)
    return pg_server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once; each test gets a copy."""
    from labelapp.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "labelapp.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    from labelapp.db import make_engine
    from labelapp.models import Base

    engine = make_engine(url)
    try:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def _stop_local_workers() -> None:
    """Stop the workers this process started beside it (``local_worker.ensure``): each served one
    test's data directory, and left running (30 s until idle) it would reap, and run, the next
    test's jobs in the shared PostgreSQL database, whose job ids start again at 1."""
    from labelapp.services import local_worker

    with local_worker._lock:
        started = [proc for proc, _ in local_worker._started.values()]
        local_worker._started.clear()
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
    for proc in started:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A migrated, empty database on each backend; the data directory is the test's tmp_path."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("LABELAPP_DATA_DIR", str(data_dir))
    if request.param == "sqlite":
        target = data_dir / "labelapp.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("pg_migrated")
        _truncate_all(url)
    monkeypatch.setenv("LABELAPP_DATABASE_URL", url)
    yield url
    _stop_local_workers()


@pytest.fixture
def sessions(db_url: str):
    """A session factory on the test database."""
    from labelapp.db import make_engine, make_session_factory

    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def app(db_url: str):
    from labelapp.app import create_app

    application = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "test-secret"})
    yield application
    application.extensions["labelapp.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, username: str, password: str):
    """Log in through the real form, CSRF token included."""
    page = client.get("/login")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
