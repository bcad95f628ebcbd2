"""Users as JSON: a user as others see them, an account as admins manage it, and new
credentials (shown once)."""

from __future__ import annotations

from typing import Any

from labelapp.models import User
from labelapp.services import users_admin


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
    }


def account_json(user: User, projects: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "projects": projects or [],
        "created_at": user.created_at.isoformat(),
    }


def credentials_json(creds: users_admin.Credentials) -> dict[str, Any]:
    return {"user": account_json(creds.user), "password": creds.password, "token": creds.token}
