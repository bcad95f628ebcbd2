"""``labelapp projects``: create and list projects, add members."""

from __future__ import annotations

import click

from labelapp.cli.context import database
from labelapp.models.roles import MEMBER_ROLES


@click.group("projects")
def projects() -> None:
    """Create, list, share, archive and delete projects."""


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
                f"{p.id:>4}  {p.name:<30} {p.task_type:<6} "
                f"{counts.get(p.id, 0):>9,} items  [{labels}]"
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
def create(
    name: str,
    labels: str,
    task_type: str,
    multi_label: bool,
    ambiguous: bool,
    overlap_k: int,
    description: str,
) -> None:
    """Create project NAME."""
    from labelapp.services.projects import create_project

    with database(write=True) as session:
        project = create_project(
            session,
            name,
            labels,
            task_type=task_type,
            multi_label=multi_label,
            allow_ambiguous=ambiguous,
            overlap_k=overlap_k,
            description=description,
        )
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


def _archive(name: str, archived: bool) -> None:
    from labelapp.services.project_lifecycle import set_archived
    from labelapp.services.projects import get_project_by_name

    with database(write=True) as session:
        set_archived(session, get_project_by_name(session, name), archived)


@projects.command("archive")
@click.argument("name")
def archive(name: str) -> None:
    """Archive project NAME: hidden from annotators, read-only, still exportable."""
    _archive(name, True)
    click.echo(f"archived {name!r}: hidden from annotators and read-only; exports still work")


@projects.command("unarchive")
@click.argument("name")
def unarchive(name: str) -> None:
    """Make archived project NAME active again."""
    _archive(name, False)
    click.echo(f"{name!r} is active again")


@projects.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for the name again.")
def delete(name: str, yes: bool) -> None:
    """Delete project NAME with its items, answers, media, jobs and exports (refused while one
    of its jobs runs). Without --yes, asks you to type the name."""
    from labelapp.services.project_lifecycle import delete_project
    from labelapp.services.projects import get_project_by_name

    typed = name if yes else click.prompt(f"This deletes {name!r} and all its data. Type its name")
    with database(write=True) as session:
        done = delete_project(session, get_project_by_name(session, name), typed)
    rows = ", ".join(f"{n:,} {table}" for table, n in sorted(done.rows.items()))
    click.echo(f"deleted {done.name!r}: {rows or 'no rows'}; {done.files:,} files or folders")


@projects.command("members")
@click.argument("name")
@click.option("--add", "add_user", metavar="USER", help="Make USER a member.")
@click.option(
    "--role",
    type=click.Choice(MEMBER_ROLES),
    help="With --add: USER's role in this project (default: the highest their account "
    "allows; sme for an annotator account makes the account sme). Also changes a member's role.",
)
@click.option(
    "--remove",
    "remove_user",
    metavar="USER",
    help="Remove USER (their leases are released; their answers stay).",
)
def members(name: str, add_user: str | None, role: str | None, remove_user: str | None) -> None:
    """List the members of project NAME with their role in it; add one, set a member's role,
    or remove one."""
    from labelapp.services.membership import add_to_project, list_members, remove_from_project
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.users import get_user
    from labelapp.services.users_admin import cli_admin

    if role and not add_user:
        raise click.UsageError("--role goes with --add USER")
    with database(write=True) as session:
        project = get_project_by_name(session, name)
        actor = cli_admin()
        if add_user:
            member = add_to_project(session, actor, project, get_user(session, add_user), role)
            click.echo(f"{member.user.username} ({member.role}) is a member of {project.name}")
        if remove_user:
            released = remove_from_project(session, actor, project, get_user(session, remove_user))
            click.echo(
                f"removed {remove_user} from {project.name}; {released} lease(s) released, "
                "answers kept"
            )
        people = list_members(session, project)
    for m in people:
        state = "" if m.user.active else "  (deactivated)"
        account = "" if m.role == m.user.role else f"  (account: {m.user.role})"
        click.echo(f"{m.user.username:<20} {m.role:<10}{account}{state}")
    if not people:
        click.echo(
            f"{name} has no members yet: add one with `labelapp projects members {name} --add USER`"
        )
