"""The Alembic migrations create exactly the schema the models describe, on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from labelapp.db import make_engine
from labelapp.migrate import current_revision, head_revision, include_object, upgrade
from labelapp.models import Base


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}
            )
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def test_no_pending_autogenerate_diff(db_url: str) -> None:
    assert _diff(db_url) == []


def test_migrated_database_is_at_head(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        queue_indexes = {ix["name"] for ix in inspector.get_indexes("queue_entries")}
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert "ix_queue_entries_next" in queue_indexes  # the partial index the queue's `next` uses


@pytest.mark.slow
def test_downgrade_to_base_and_back(tmp_path) -> None:
    from alembic import command

    from labelapp.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(url)
    assert _diff(url) == []


def test_app_refuses_an_unmigrated_database(tmp_path) -> None:
    from labelapp.app import create_app
    from labelapp.migrate import SchemaOutOfDate

    with pytest.raises(SchemaOutOfDate, match="labelapp db upgrade"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "SECRET_KEY": "x"})


def test_the_queue_index_serves_highest_priority_first(db_url: str) -> None:
    """Autogenerate cannot compare this expression index, so check its definition directly:
    without "priority DESC" every claim sorts the whole queue (seen at 800 ms on 1M items)."""
    from sqlalchemy import text

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                sql = conn.scalar(
                    text("SELECT sql FROM sqlite_master WHERE name = 'ix_queue_entries_next'")
                )
            else:
                sql = conn.scalar(
                    text(
                        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_queue_entries_next'"
                    )
                )
    finally:
        engine.dispose()
    assert "priority DESC" in sql and "remaining > 0" in sql
