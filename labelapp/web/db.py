"""One database session per request, closed when the request ends."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def get_db() -> Session:
    """The request's session (opened on first use)."""
    if "db" not in g:
        g.db = current_app.extensions["labelapp.sessions"]()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        if _exc is not None:
            session.rollback()
        session.close()
