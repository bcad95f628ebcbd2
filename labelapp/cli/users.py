"""``labelapp users``: accounts, roles and API tokens."""

from __future__ import annotations

import secrets

import click

from labelapp.cli.context import database
from labelapp.models import ROLES


@click.group("users")
def users() -> None:
    """Create, list, deactivate and reactivate users; roles, passwords and API tokens."""


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--project", "projects", multiple=True, help="Make the user a member (repeatable).")
@click.option("--password", help="Login password (default: a random one, printed once).")
def create(name: str, role: str, projects: tuple[str, ...], password: str | None) -> None:
    """Create user NAME; print a login password and an API token (both shown only now)."""
    from labelapp.services.projects import get_project_by_name
    from labelapp.services.users import add_member, create_user

    generated = password is None
    password = password or secrets.token_urlsafe(9)
    with database(write=True) as session:
        targets = [get_project_by_name(session, p) for p in projects]
        user, token = create_user(session, name, role, password=password)
        for project in targets:
            add_member(session, user, project)
    click.echo(
        f"created {role} {name!r}" + (f", member of {', '.join(projects)}" if projects else "")
    )
    if generated:
        click.echo(f"password: {password}")
    click.echo(f"API token: {token}")
    click.echo("(use it as 'Authorization: Bearer TOKEN'; it is stored hashed and not shown again)")


@users.command("token")
@click.argument("name")
def token(name: str) -> None:
    """Issue a new API token for NAME (the old one stops working)."""
    from labelapp.services.users import get_user, rotate_token

    with database(write=True) as session:
        new = rotate_token(session, get_user(session, name))
    click.echo(f"API token: {new}")


@users.command("password")
@click.argument("name")
@click.password_option()
def password(name: str, password: str) -> None:
    """Set NAME's login password."""
    from labelapp.services.users import get_user, set_password

    with database(write=True) as session:
        set_password(get_user(session, name), password)
    click.echo(f"password of {name!r} changed")


@users.command("list")
def list_users() -> None:
    """List users with their roles and projects."""
    from sqlalchemy import select

    from labelapp.models import Membership, Project, User

    with database() as session:
        rows = session.execute(select(User).order_by(User.id)).scalars().all()
        member_of: dict[int, list[str]] = {}
        for user_id, project_name in session.execute(
            select(Membership.user_id, Project.name).join(
                Project, Project.id == Membership.project_id
            )
        ):
            member_of.setdefault(user_id, []).append(project_name)
    for user in rows:
        projects = ", ".join(member_of.get(user.id, [])) or ("(all)" if user.is_admin else "-")
        state = "active" if user.active else "inactive"
        click.echo(f"{user.id:>4}  {user.username:<20} {user.role:<10} {state:<9} {projects}")


def _set_active(name: str, active: bool) -> None:
    from labelapp.services.users import get_user
    from labelapp.services.users_admin import set_active

    with database(write=True) as session:
        set_active(session, get_user(session, name), active)


@users.command("deactivate")
@click.argument("name")
def deactivate(name: str) -> None:
    """Deactivate NAME: their sessions and API token stop working at once; answers stay."""
    _set_active(name, False)
    click.echo(f"{name!r} deactivated: logged out everywhere, API token refused")


@users.command("reactivate")
@click.argument("name")
def reactivate(name: str) -> None:
    """Let NAME log in again (with their password; make a new token with `users token`)."""
    _set_active(name, True)
    click.echo(f"{name!r} is active again")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def role(name: str, role: str) -> None:
    """Change NAME's role (it applies in every project); the last admin keeps theirs."""
    from labelapp.services.users import get_user
    from labelapp.services.users_admin import set_role

    with database(write=True) as session:
        set_role(session, get_user(session, name), role)
    click.echo(f"{name!r} is now {role}")
