"""Alembic, configured in code: the migrations ship inside the package, in
``labelapp/migrations/``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from labelapp.db import make_engine, normalize_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


# Alembic cannot reflect expression indexes (``priority DESC``) on SQLite, so autogenerate would
# drop and re-add this one on every run; it is created by the initial migration and left alone.
EXPRESSION_INDEXES = frozenset({"ix_queue_entries_next"})


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Autogenerate filter: skip the expression indexes named above."""
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``; at head, fill the resolved-label table
    for projects that have items without a row (:func:`backfill_item_labels`)."""
    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        backfill_item_labels(url)


def backfill_item_labels(url: str, project_ids: list[int] | None = None) -> dict[str, int]:
    """Fill ``item_labels`` (revision 0018) for every project with an item that has no row, or
    rebuild it for ``project_ids``: the one label rule is Python, so the migration that creates
    the table cannot fill it in SQL. Returns rows written per project name."""
    from sqlalchemy import exists, select

    from labelapp.db import make_session_factory, write_scope
    from labelapp.models import Item, ItemLabel, Project
    from labelapp.services.labels import refresh_item_labels

    engine = make_engine(url)
    written: dict[str, int] = {}
    try:
        sessions = make_session_factory(engine)
        if project_ids is None:
            with sessions() as session:
                missing = ~exists().where(ItemLabel.item_id == Item.id)
                project_ids = list(
                    session.scalars(select(Item.project_id).where(missing).distinct())
                )
        for project_id in sorted(project_ids):
            with write_scope(sessions) as session:
                project = session.get(Project, project_id)
                if project is not None:
                    written[project.name] = refresh_item_labels(session, project)
    finally:
        engine.dispose()
    return written


def head_revision() -> str:
    """The newest migration in ``migrations/``."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ensure_current(engine: Engine) -> None:
    """Raise a clear error if the schema is missing or behind the code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaOutOfDate(
            f"the database {engine.url.render_as_string(hide_password=True)} is {state}, "
            f"but this labelapp needs revision {head}. Run `labelapp db upgrade` first."
        )


class SchemaOutOfDate(RuntimeError):
    """The database schema does not match the code's migrations."""


def upgrade_engine_url(url: str | None = None) -> str:
    """Upgrade the configured database (or ``url``) to head; return the URL used."""
    engine = make_engine(url)
    try:
        resolved = engine.url.render_as_string(hide_password=False)
    finally:
        engine.dispose()
    upgrade(resolved)
    return resolved
