"""Managing accounts (admins) and one's own account: create, deactivate, reactivate, roles,
password resets and token rotation. Each function is one unit of work and commits it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from labelapp.db import ensure_write_lock
from labelapp.models import Membership, Project, User
from labelapp.models.roles import Role
from labelapp.services.errors import Conflict, NotFound, UserError
from labelapp.services.users import add_member, create_user, rotate_token, set_password


@dataclass
class UserRow:
    """A user with the names of their projects, for lists."""

    user: User
    projects: list[str]


@dataclass
class Credentials:
    """What a new account or a reset shows once: a password and/or an API token."""

    user: User
    password: str | None = None
    token: str | None = None


def list_users(session: Session) -> list[UserRow]:
    """Every user, in creation order, with their projects (one query each, no per-user loop)."""
    users = list(session.scalars(select(User).order_by(User.id)))
    member_of: dict[int, list[str]] = {}
    rows = session.execute(
        select(Membership.user_id, Project.name)
        .join(Project, Project.id == Membership.project_id)
        .order_by(Project.name)
    )
    for user_id, name in rows:
        member_of.setdefault(user_id, []).append(name)
    return [UserRow(u, member_of.get(u.id, [])) for u in users]


def user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


def new_password() -> str:
    """A random password to show once (12 characters, URL-safe)."""
    return secrets.token_urlsafe(9)


def create_account(
    session: Session, username: str, role: str, projects: list[Project], display_name: str = ""
) -> Credentials:
    """Create a user with a random password and an API token (both shown once) and memberships."""
    password = new_password()
    user, token = create_user(session, username, role, password=password, display_name=display_name)
    for project in projects:
        add_member(session, user, project)
    session.commit()
    return Credentials(user, password, token)


def cli_admin() -> User:
    """Who acts for the command line: whoever runs it on the server's shell is an admin."""
    return User(username="(command line)", role=Role.ADMIN.value, active=True)


def _other_active_admins(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                User.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id
            )
        )
        or 0
    )


def _keep_an_admin(session: Session, user: User, what: str) -> None:
    if user.role == Role.ADMIN.value and user.active and _other_active_admins(session, user) == 0:
        raise Conflict(
            f"{user.username!r} is the last active admin: {what} would leave no one to manage "
            "users; make another user admin first"
        )


def set_active(session: Session, user: User, active: bool) -> User:
    """Deactivate (every session and API token stops working at once) or reactivate a user.

    The last active admin cannot be deactivated."""
    ensure_write_lock(session)
    if not active:
        _keep_an_admin(session, user, "deactivating them")
        user.end_sessions()  # their cookies name the old epoch; tokens check ``active``
    user.active = active
    session.commit()
    return user


def set_role(session: Session, user: User, role: str) -> User:
    """Change a user's account role; the last admin keeps theirs.

    The account role is the highest role they can have in a project: lowering it to annotator
    makes them an annotator in every project; raising it leaves their project roles as they are
    (give sme per project on the project page)."""
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(r.value for r in Role)}")
    ensure_write_lock(session)
    if role != Role.ADMIN.value:
        _keep_an_admin(session, user, "changing their role")
    if user.role != role:
        user.role = role
        user.end_sessions()  # pages open with the old role's menus must log in again
        if role == Role.ANNOTATOR.value:
            session.execute(
                update(Membership)
                .where(Membership.user_id == user.id)
                .values(role=Role.ANNOTATOR.value)
            )
    session.commit()
    return user


def reset_password(session: Session, user: User) -> Credentials:
    """Give ``user`` a new random password (shown once); their sessions end."""
    ensure_write_lock(session)
    password = new_password()
    set_password(user, password)
    session.commit()
    return Credentials(user, password=password)


def change_token(session: Session, user: User) -> Credentials:
    """A new API token for ``user`` (shown once); the old one stops working."""
    token = rotate_token(session, user)
    session.commit()
    return Credentials(user, token=token)


def change_own_password(session: Session, user: User, current: str, new: str, repeat: str) -> None:
    """A user changes their own password: the current one must be right. Other sessions end."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise UserError("the current password is not right; nothing was changed")
    if new != repeat:
        raise UserError("the two new passwords differ; type the same one twice")
    ensure_write_lock(session)
    set_password(user, new)
    session.commit()
