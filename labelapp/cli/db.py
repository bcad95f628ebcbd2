"""``labelapp db``: create and upgrade the schema."""

from __future__ import annotations

import click


@click.group("db")
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Create or upgrade the schema of the configured database."""
    from labelapp.db import make_engine
    from labelapp.migrate import current_revision
    from labelapp.migrate import upgrade as run_upgrade

    engine = make_engine()
    url = engine.url.render_as_string(hide_password=False)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        before = current_revision(engine)
    finally:
        engine.dispose()
    run_upgrade(url, revision)
    engine = make_engine(url)
    try:
        after = current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"{shown}: schema {before or '(empty)'} -> {after}")


@db.command("refresh-labels")
@click.option("--project", "names", multiple=True, help="Only this project (repeatable).")
def refresh_labels(names: tuple[str, ...]) -> None:
    """Rebuild the resolved-label table (what the review page reads) from the one label rule.

    `db upgrade` fills it for projects that lack rows; every change of labels keeps it current.
    Run this after writing answers or scores into the database by hand."""
    from sqlalchemy import select

    from labelapp.cli.context import database
    from labelapp.config import database_url
    from labelapp.migrate import backfill_item_labels
    from labelapp.models import Project
    from labelapp.services.projects import get_project_by_name

    with database() as session:
        if names:
            ids = [get_project_by_name(session, n).id for n in names]
        else:
            ids = list(session.scalars(select(Project.id)))
    url = database_url()
    for name, rows in backfill_item_labels(url, ids).items():
        click.echo(f"{name}: {rows:,} items")


@db.command("current")
def current() -> None:
    """Print the schema revision of the configured database."""
    from labelapp.db import make_engine
    from labelapp.migrate import current_revision, head_revision

    engine = make_engine()
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    state = "up to date" if revision == head_revision() else f"behind (head is {head_revision()})"
    click.echo(f"{revision or '(empty)'}: {state}")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What changed.")
def revision(message: str) -> None:
    """Generate a migration from the difference between models and the database."""
    from alembic import command

    from labelapp.config import database_url
    from labelapp.migrate import alembic_config

    command.revision(alembic_config(database_url()), message=message, autogenerate=True)
