"""Users, passwords, API tokens and memberships."""

from __future__ import annotations

import functools
import hashlib
import secrets

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from labelapp.db import ensure_write_lock
from labelapp.models import ROLES, Membership, Project, User
from labelapp.models.roles import MEMBER_ROLES, Role, highest_member_role
from labelapp.services.errors import Conflict, NotFound, UserError


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: a leaked database does not leak working tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str | None = None,
    display_name: str = "",
) -> tuple[User, str]:
    """Create a user; return it and a fresh API token (shown once, stored hashed)."""
    username = username.strip()
    if not username or len(username) > 80 or any(c.isspace() for c in username):
        raise UserError(f"invalid username {username!r}: use 1-80 characters without spaces")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    ensure_write_lock(session)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists; pick another name")
    token = secrets.token_urlsafe(32)
    user = User(
        username=username,
        role=role,
        display_name=display_name or username,
        password_hash=generate_password_hash(password) if password else None,
        api_token_hash=hash_token(token),
    )
    session.add(user)
    session.flush()
    return user, token


def rotate_token(session: Session, user: User) -> str:
    """Replace a user's API token; the old one stops working."""
    ensure_write_lock(session)
    token = secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    return token


def set_password(user: User, password: str) -> None:
    """Set a new password; every session and remember-cookie of the user ends."""
    if len(password) < 8:
        raise UserError("password too short: use at least 8 characters")
    user.password_hash = generate_password_hash(password)
    user.end_sessions()


@functools.cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None.

    An unknown user name costs one password check too (against a decoy hash), so the answer's
    timing does not tell which user names exist.
    """
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_decoy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


_BY_TOKEN = select(User).where(
    User.api_token_hash == bindparam("token_hash")
)  # built once: every API call


def user_for_token(session: Session, token: str) -> User | None:
    user = session.scalar(_BY_TOKEN, {"token_hash": hash_token(token)})
    return user if user is not None and user.active else None


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}; list users with `labelapp users list`")
    return user


def add_member(session: Session, user: User, project: Project, role: str | None = None) -> None:
    """Make ``user`` a member of ``project`` with ``role`` there (default: the highest their
    account allows); an existing member keeps their role unless ``role`` is given."""
    ensure_write_lock(session)
    wanted = role or highest_member_role(user.role)
    if wanted not in MEMBER_ROLES:
        raise UserError(f"a member's role is one of {', '.join(MEMBER_ROLES)}, not {wanted!r}")
    if wanted == Role.SME.value and highest_member_role(user.role) == Role.ANNOTATOR.value:
        raise UserError(
            f"{user.username!r} has an annotator account: they annotate in every project "
            "(an admin can make the account sme first)"
        )
    member = session.get(Membership, (user.id, project.id))
    if member is None:
        session.add(Membership(user_id=user.id, project_id=project.id, role=wanted))
    elif role is not None:
        member.role = wanted
    session.flush()


def end_sessions(session: Session, user: User) -> None:
    """Log ``user`` out everywhere: every session and remember-cookie stops working."""
    session.execute(
        update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
    )
    session.commit()
