"""Users, passwords, API tokens and memberships."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from labelapp.models import ROLES, Membership, Project, User
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
    token = secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    return token


def set_password(user: User, password: str) -> None:
    if len(password) < 8:
        raise UserError("password too short: use at least 8 characters")
    user.password_hash = generate_password_hash(password)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None."""
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not user.password_hash:
        return None
    return user if check_password_hash(user.password_hash, password) else None


_BY_TOKEN = select(User).where(User.api_token_hash == bindparam("token_hash"))  # built once: every API call


def user_for_token(session: Session, token: str) -> User | None:
    user = session.scalar(_BY_TOKEN, {"token_hash": hash_token(token)})
    return user if user is not None and user.active else None


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}; list users with `labelapp users list`")
    return user


def add_member(session: Session, user: User, project: Project) -> None:
    """Make ``user`` a member of ``project`` (no-op if already)."""
    if session.get(Membership, (user.id, project.id)) is None:
        session.add(Membership(user_id=user.id, project_id=project.id))
        session.flush()
