"""Who belongs to a project: list, add and remove members (admins; a project's smes when the
project allows it). Removing a member releases their leases and keeps every answer they gave."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Membership, Project, QueueEntry, User
from labelapp.models.roles import MEMBER_ROLES, Role
from labelapp.services.errors import Forbidden, UserError
from labelapp.services.users import add_member


def can_manage_members(user: User, project: Project) -> bool:
    """Admins always; an sme member when the project lets its smes manage members."""
    return user.is_admin or (user.role == Role.SME.value and project.sme_manages_members)


def require_member_manager(user: User, project: Project) -> None:
    if not can_manage_members(user, project):
        raise Forbidden(
            "only admins manage this project's members"
            + ("" if user.is_admin else " (an admin can let smes do it in the project's settings)")
        )


def list_members(session: Session, project: Project) -> list[User]:
    """The project's members, by user name."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project.id)
            .order_by(User.username)
        )
    )


def non_members(session: Session, project: Project) -> list[User]:
    """Active non-admin users who could be added (admins see every project anyway)."""
    members = select(Membership.user_id).where(Membership.project_id == project.id)
    return list(
        session.scalars(
            select(User)
            .where(User.active.is_(True), User.role != Role.ADMIN.value, User.id.not_in(members))
            .order_by(User.username)
        )
    )


def add_to_project(
    session: Session, actor: User, project: Project, user: User, role: str | None = None
) -> User:
    """Make ``user`` a member. ``role`` (annotator or sme) sets their role first: admins only,
    and it applies in every project, since roles belong to the account."""
    require_member_manager(actor, project)
    ensure_write_lock(session)
    if role is not None and role != user.role:
        if role not in MEMBER_ROLES:
            raise UserError(f"a member's role is one of {', '.join(MEMBER_ROLES)}, not {role!r}")
        if not actor.is_admin:
            raise Forbidden(f"{user.username!r} is {user.role}; only admins change roles")
        if user.is_admin:
            raise UserError(f"{user.username!r} is an admin; change their role on the users page")
        user.role = role
        user.end_sessions()
    add_member(session, user, project)
    session.commit()
    return user


def remove_from_project(session: Session, actor: User, project: Project, user: User) -> int:
    """Remove ``user`` from the project: their leases there are released (the items go back to
    the queue) and their answers stay. Returns how many leases were released."""
    require_member_manager(actor, project)
    ensure_write_lock(session)
    gone = session.execute(
        delete(Membership).where(Membership.project_id == project.id, Membership.user_id == user.id)
    ).rowcount
    if not gone:
        raise UserError(f"{user.username!r} is not a member of {project.name!r}")
    released = session.execute(
        update(QueueEntry)
        .where(QueueEntry.project_id == project.id, QueueEntry.leased_by_id == user.id)
        .values(leased_by_id=None, lease_expires_at=None)
    ).rowcount
    session.commit()
    return released or 0


def set_sme_manages_members(session: Session, project: Project, allowed: bool) -> Project:
    """Let the project's smes add and remove members, or not (an admin decides)."""
    ensure_write_lock(session)
    project.sme_manages_members = allowed
    session.commit()
    return project
