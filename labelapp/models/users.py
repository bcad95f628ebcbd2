"""Who may do what: users with a role, and their project memberships."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow
from labelapp.models.roles import Role

ROLES = tuple(role.value for role in Role)
# Roles in a project that review its work: they see every answer, import, model and job in it.
REVIEWER_ROLES = (Role.SME.value, Role.ADMIN.value)


class User(UserMixin, Base):
    """A person. ``admin`` manages everything; ``sme`` writes labeling functions; ``annotator``
    labels."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Part of every session and remember-cookie id (see get_id): bumping it ends them all.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot log in
        return self.active

    def get_id(self) -> str:
        """Flask-Login's id for sessions and remember-cookies: ``"<id>:<epoch>"``."""
        return f"{self.id}:{self.session_epoch}"

    def end_sessions(self) -> None:
        """Invalidate every session and remember-cookie of this user (logout, password change)."""
        self.session_epoch += 1

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    # No ``is_reviewer`` here on purpose: whether someone reviews a project depends on their
    # role in it (labelapp.services.projects.project_role / is_project_reviewer).


class Membership(Base):
    """A user belongs to a project with a role there: the only way a non-admin sees it."""

    __tablename__ = "memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # annotator or sme in this project (MEMBER_ROLES), never above the account's role
    # (labelapp.models.roles.role_in_project); reviewers (sme) see everyone's answers there.
    role: Mapped[str] = mapped_column(
        String(16), default=Role.ANNOTATOR.value, server_default=Role.ANNOTATOR.value
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
