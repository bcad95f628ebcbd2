"""``labelapp projects``: create and list projects, add members."""

from __future__ import annotations

import click

from labelapp.cli.context import database


@click.group("projects")
def projects() -> None:
    """Create, list and share projects."""


@projects.command("list")
def list_projects() -> None:
    """Print each project's id, name, type and size."""
    from sqlalchemy import func, select

    from labelapp.models import Item, Project

    with database() as session:
        counts = dict(
            session.execute(select(Item.project_id, func.count()).group_by(Item.project_id)).all()
        )
        rows = session.scalars(select(Project).order_by(Project.id)).all()
        if not rows:
            click.echo(
                "no projects yet: create one with `labelapp projects create NAME --labels a,b`"
            )
        for p in rows:
            labels = ",".join(label.name for label in p.labels)
            click.echo(
                f"{p.id:>4}  {p.name:<30} {p.task_type:<6} {counts.get(p.id, 0):>9,} items  [{labels}]"
            )


@projects.command("create")
@click.argument("name")
@click.option("--labels", required=True, help="Comma-separated label names, in hotkey order.")
@click.option(
    "--type", "task_type", type=click.Choice(["text", "image"]), default="text", show_default=True
)
@click.option("--multi-label", is_flag=True, help="Several labels per item.")
@click.option("--ambiguous", is_flag=True, help='Add an "ambiguous" label annotators may choose.')
@click.option("--overlap", "overlap_k", type=click.IntRange(1, 50), default=1, show_default=True)
@click.option("--description", default="")
def create(name: str, labels: str, task_type: str, multi_label: bool, ambiguous: bool,
           overlap_k: int, description: str) -> None:  # fmt: skip
    """Create project NAME."""
    from labelapp.services.projects import create_project

    with database(write=True) as session:
        project = create_project(
            session, name, labels, task_type=task_type, multi_label=multi_label,
            allow_ambiguous=ambiguous, overlap_k=overlap_k, description=description,
        )  # fmt: skip
        click.echo(f"created project {project.id}: {project.name}")


@projects.command("add-member")
@click.argument("project")
@click.argument("usernames", nargs=-1, required=True)
def add_member(project: str, usernames: tuple[str, ...]) -> None:
    """Make USERNAMES members of PROJECT."""
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.users import add_member as add
    from labelapp.services.users import get_user

    with database(write=True) as session:
        target = get_project_by_name(session, project)
        for name in usernames:
            add(session, get_user(session, name), target)
    click.echo(f"{', '.join(usernames)} now member(s) of {project}")
