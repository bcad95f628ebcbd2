"""Who belongs to a project and with which role there: list, add, change and remove members
(admins; a project's smes when the project allows it). Removing a member releases their leases
and keeps every answer they gave. Archiving freezes a project's data, not its team: members
can still be changed then (to let someone export it, say)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Membership, Project, QueueEntry, User
from labelapp.models.roles import MEMBER_ROLES, Role, highest_member_role, role_in_project
from labelapp.services.errors import Forbidden, UserError
from labelapp.services.projects import project_role
from labelapp.services.users import add_member


def can_manage_members(session: Session, user: User, project: Project) -> bool:
    """Admins always; an sme of this project when the project lets its smes manage members."""
    if user.is_admin:
        return True
    return project.sme_manages_members and project_role(session, user, project) == Role.SME.value


def require_member_manager(session: Session, user: User, project: Project) -> None:
    if not can_manage_members(session, user, project):
        raise Forbidden(
            "only admins manage this project's members"
            + ("" if user.is_admin else " (an admin can let its smes do it on the project page)")
        )


@dataclass
class Member:
    """A member of a project: the account and the role they have in this project."""

    user: User
    role: str
    added: bool = False  # add_to_project: a new member (False: an existing one's role was set)


def list_members(session: Session, project: Project) -> list[Member]:
    """The project's members with their role in it, by user name."""
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project.id)
        .order_by(User.username)
    )
    return [Member(u, role_in_project(u.role, role) or role) for u, role in rows]


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
) -> Member:
    """Make ``user`` a member with ``role`` in this project (annotator or sme; default: the
    highest their account allows), or give an existing member that role.

    The account's role is the ceiling. An admin giving sme to an annotator account raises the
    account to sme (they stay annotators in their other projects); a project's smes give roles
    up to the account's and change no account."""
    require_member_manager(session, actor, project)
    ensure_write_lock(session)
    if role is not None and role not in MEMBER_ROLES:
        raise UserError(f"a member's role is one of {', '.join(MEMBER_ROLES)}, not {role!r}")
    if user.is_admin:
        raise UserError(
            f"{user.username!r} is an admin: admins have every project without a membership"
        )
    if role == Role.SME.value and highest_member_role(user.role) != Role.SME.value:
        if not actor.is_admin:
            raise Forbidden(
                f"{user.username!r} has an annotator account; only an admin can make them an sme"
            )
        user.role = Role.SME.value  # the ceiling rises; their other memberships stay as they are
    added = session.get(Membership, (user.id, project.id)) is None
    add_member(session, user, project, role)
    member = session.get(Membership, (user.id, project.id))
    assert member is not None
    session.commit()
    return Member(user, member.role, added)


def remove_from_project(session: Session, actor: User, project: Project, user: User) -> int:
    """Remove ``user`` from the project: their leases there are released (the items go back to
    the queue) and their answers stay. Returns how many leases were released."""
    require_member_manager(session, actor, project)
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
