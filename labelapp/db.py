"""Engines and sessions: one place that knows how to talk to SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.services.errors import UserError

# A transaction that only moves leases may commit without waiting for the disk (PostgreSQL).
_LEASES_ONLY = text("SET LOCAL synchronous_commit TO OFF")


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def driver_modules(url: str) -> list[str]:
    """The SQLAlchemy dialect and DB-API driver modules of ``url``, for a fork server to import
    once (each child's engine needs them; psycopg alone takes a tenth of a second to import)."""
    dialect = make_url(normalize_url(url)).get_dialect()
    return [dialect.__module__, dialect.import_dbapi().__name__]


# SQLite's page cache lives in the process that reads. Imports and jobs keep 64 MB per connection
# (index inserts of big imports stay in memory); a web process keeps little, under a process-wide
# soft limit, so that a request scanning a large table does not leave it 64 MB bigger per
# connection (issue 16: web processes stay small; measured by benchmarks/web_rss_bench.py).
SQLITE_CACHE_MB = 64
WEB_SQLITE_CACHE_MB = 4
WEB_SQLITE_HEAP_MB = 32


def _configure_sqlite(engine: Engine, web: bool = False) -> None:
    """WAL for concurrent readers, a busy timeout instead of 'database is locked', real FKs; the
    page cache of a web process or of the others."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not sqlite3, issue BEGIN so transactions behave as on PostgreSQL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cache_mb = WEB_SQLITE_CACHE_MB if web else SQLITE_CACHE_MB
        cursor.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
        if web:  # sqlite3_soft_heap_limit64: caches shrink once the whole process is past it
            cursor.execute(f"PRAGMA soft_heap_limit={WEB_SQLITE_HEAP_MB * 1024 * 1024}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # A transaction that will write takes the lock up front (BEGIN IMMEDIATE): concurrent
        # writers then queue on busy_timeout instead of failing when both try to upgrade a read
        # lock. Read-only work stays a plain deferred BEGIN, so readers never wait.
        immediate = conn.get_execution_options().get("sqlite_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        # What ensure_write_lock needs to know later: does this transaction hold the write lock
        # (taken up front, or by a first write since: SQLite counts every changed row)?
        conn.info["sqlite_write_lock"] = immediate
        conn.info["sqlite_changes_at_begin"] = conn.connection.dbapi_connection.total_changes


def make_engine(url: str | None = None, *, web: bool = False, **kwargs) -> Engine:
    """Create an engine for ``url`` (default: :func:`labelapp.config.database_url`); ``web``: for
    a web process (a small SQLite page cache)."""
    url = normalize_url(url or config.database_url())
    if url.startswith("sqlite"):
        _create_private_file(make_url(url).database)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )
        _configure_sqlite(engine, web)
    else:
        if "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", 10)
            kwargs.setdefault("max_overflow", 20)
        engine = create_engine(url, **kwargs)
        if "poolclass" not in kwargs and not kwargs.get("pool_pre_ping"):
            _ping_idle_connections(engine)
    return engine


def _create_private_file(database: str | None) -> None:
    """Create a new SQLite file as 0600 (SQLite would use the umask, often world-readable); its
    -wal and -shm files take the database file's mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # e.g. the folder is missing: SQLite itself reports that with its own message


PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use if it sat idle for ``PING_AFTER_IDLE_SECONDS``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one extra round trip per request,
    two of the ~18 per annotation in the queue benchmark. A connection that served a request a
    moment ago is as good as checked, so only connections that sat idle get the ping (the
    documented pattern: a ``checkout`` listener raising ``DisconnectionError`` makes the pool
    replace the connection). A database restart is then noticed by the ping of an idle
    connection, or, for one busy a moment before, by its next statement failing: SQLAlchemy
    then invalidates the whole pool, so each worker answers at most one request with an error.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the dialect raises the driver's own error types
            raise exc.DisconnectionError(f"stale pooled connection: {error}") from error
        if not alive:
            raise exc.DisconnectionError("stale pooled connection")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (no surprise lazy reloads)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


# Taking SQLite's write lock: each attempt waits up to the busy timeout (30 s) inside SQLite;
# between attempts a short, growing pause. Only then does a writer give up, with DatabaseBusy.
WRITE_LOCK_ATTEMPTS = 3
WRITE_LOCK_BACKOFF_SECONDS = (0.2, 1.0)


class DatabaseBusy(UserError):
    """Another process held SQLite's write lock for longer than every retry waited."""

    status = 503
    code = "database_busy"


def is_lock_error(error: BaseException) -> bool:
    """Whether ``error`` is SQLite's "database is locked" (or "busy")."""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database is busy" in text


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (on SQLite: take the write lock now).

    Call it first in any unit of work that reads and then writes; on PostgreSQL it is a no-op.
    On SQLite a lock still held by another writer after the busy timeout is retried a few times
    (:data:`WRITE_LOCK_ATTEMPTS`); after that :class:`DatabaseBusy` says so plainly.
    """
    if session.in_transaction():
        return
    for attempt in range(WRITE_LOCK_ATTEMPTS):
        try:
            session.connection(execution_options={"sqlite_write": True})
            return
        except exc.OperationalError as error:
            if not is_lock_error(error):
                raise
            session.rollback()
            if attempt + 1 == WRITE_LOCK_ATTEMPTS:
                raise DatabaseBusy(
                    "the database is busy: another process kept it locked for writing through "
                    f"{WRITE_LOCK_ATTEMPTS} waits of 30 s; nothing was changed. Try again, or "
                    "use PostgreSQL for a team (LABELAPP_DATABASE_URL)"
                ) from None
            time.sleep(
                WRITE_LOCK_BACKOFF_SECONDS[min(attempt, len(WRITE_LOCK_BACKOFF_SECONDS) - 1)]
            )


def start_write(session: Session) -> None:
    """End any read-only transaction the request opened, then start a writing one.

    On SQLite a deferred transaction that read first cannot always upgrade to a writer under
    contention; starting fresh with ``BEGIN IMMEDIATE`` avoids that. PostgreSQL has no such
    problem, so there the transaction simply goes on (no extra round trips).
    """
    if session.in_transaction():
        if session.get_bind().dialect.name != "sqlite":
            return
        session.commit()
    begin_write(session)


def start_lease_write(session: Session) -> None:
    """Start a transaction that only moves leases, and let PostgreSQL commit it without waiting
    for the disk (``synchronous_commit`` off for this transaction alone).

    A lease is soft state: if the machine crashed right after such a commit, the lease would
    be gone and the item simply back in the queue (a submit for it is still accepted). Labels
    and every other write keep the fully durable commit. On this machine kind a durable commit
    waits ~3 ms for fsync; a claim then costs a fraction of that.
    """
    start_write(session)
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_LEASES_ONLY)


def ensure_write_lock(session: Session) -> None:
    """Make sure the session's transaction may write without upgrading a read lock (SQLite).

    A unit of work that has only read so far ends that read-only transaction (nothing to commit;
    loaded objects stay usable) and starts again with ``BEGIN IMMEDIATE``; one that already holds
    the lock, or has written (SQLite then holds it), goes on in the same transaction, so its
    earlier writes and the coming ones still commit or roll back together. No-op on PostgreSQL.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    if not session.in_transaction():
        begin_write(session)
        return
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    wrote = dbapi is not None and dbapi.total_changes != conn.info.get("sqlite_changes_at_begin")
    if (
        conn.info.get("sqlite_write_lock")
        or wrote
        or session.new
        or session.dirty
        or session.deleted
    ):
        return
    session.commit()
    begin_write(session)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def write_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """:func:`session_scope` for a unit of work that writes: on SQLite its transaction takes the
    write lock before its first read (with :func:`begin_write`'s retries), so it never fails
    upgrading a read lock while other processes write."""
    with session_scope(factory) as session:
        begin_write(session)
        yield session


def end_read(session: Session | None) -> None:
    """End ``session``'s transaction before another process writes and this one waits for it:
    an open SQLite read would hold the writer back (a rollback-journal reader keeps its shared
    lock)."""
    if session is not None:
        session.commit()
