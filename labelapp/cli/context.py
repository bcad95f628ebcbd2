"""What every command shares: the database found the same way as the server finds it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from labelapp.services.errors import UserError


@contextmanager
def database(check_schema: bool = True, write: bool = False) -> Iterator[Session]:
    """A session on ``LABELAPP_DATABASE_URL`` (or the SQLite file in the data directory).

    ``write``: the command writes, so its transaction takes SQLite's write lock before its first
    read (a read lock cannot always be upgraded while the server writes: "database is locked").
    """
    from sqlalchemy.exc import OperationalError

    from labelapp.db import (
        begin_write,
        is_lock_error,
        make_engine,
        make_session_factory,
        session_scope,
    )
    from labelapp.migrate import SchemaOutOfDate, ensure_current

    engine = make_engine()
    try:
        if check_schema:
            try:
                ensure_current(engine)
            except SchemaOutOfDate as exc:
                raise click.ClickException(str(exc)) from None
        with session_scope(make_session_factory(engine)) as session:
            if write:
                begin_write(session)
            yield session
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    except OperationalError as exc:
        if not is_lock_error(exc):
            raise
        raise click.ClickException(
            "the database is busy (locked by another writer); nothing was changed: try again"
        ) from None
    finally:
        engine.dispose()


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def is_tty() -> bool:
    return sys.stderr.isatty()
