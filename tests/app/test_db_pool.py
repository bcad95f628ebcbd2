"""PostgreSQL connection pool: idle connections are checked before use, busy ones are not."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from labelapp import db


@pytest.fixture
def pg_engine(pg_migrated: str):
    engine = db.make_engine(pg_migrated, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_killed_while_idle_is_replaced_before_use(
    pg_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import _pg_admin_connect

    first = _backend_pid(pg_engine)
    with _pg_admin_connect() as admin:  # e.g. a database restart or an idle timeout
        admin.execute("SELECT pg_terminate_backend(%s)", (first,))
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    second = _backend_pid(pg_engine)  # no error: the ping found it dead, the pool reconnected
    assert second != first


def test_a_connection_used_a_moment_ago_is_not_pinged(
    pg_engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = []
    real_ping = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda c: pings.append(1) or real_ping(c))
    for _ in range(3):
        _backend_pid(pg_engine)
    assert pings == []  # each checkout came right after the last checkin
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    for _ in range(3):
        _backend_pid(pg_engine)
    assert len(pings) == 3
