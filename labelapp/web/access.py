"""Who is asking: the logged-in (or token-authenticated) user, and what they may open."""

from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask_login import current_user

from labelapp.extensions import login_manager
from labelapp.models import Project, User
from labelapp.services.errors import Conflict
from labelapp.services.projects import get_project_for, require_role
from labelapp.web.db import get_db


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        body = {
            "error": {
                "code": "unauthorized",
                "message": "log in, or send 'Authorization: Bearer TOKEN' "
                "(create one with `labelapp users create` or `labelapp users token`)",
                "details": [],
            }
        }
        return jsonify(body), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# What still works on an archived project besides reading: exporting it, unarchiving, deleting.
ARCHIVED_WRITES = frozenset(
    {
        "api.archive_project",
        "api.delete_project",
        "api.start_export",
        "pages.start_export",
        "admin.archive",
        "admin.delete_project",
    }
)


def refuse_writes_if_archived(project: Project) -> None:
    """An archived project is read-only: a change answers 409 and says how to unarchive."""
    if project.archived_at is None or request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.endpoint in ARCHIVED_WRITES:
        return
    raise Conflict(
        f"project {project.name!r} is archived and read-only; an admin can "
        "unarchive it on the project page"
    )


def me() -> User:
    """The authenticated user (routes are @login_required)."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def project_for_me(project_id: int, *roles: str) -> Project:
    """The project if the current user may see it (404 otherwise), and has one of ``roles``."""
    project = get_project_for(get_db(), me(), project_id)
    if roles:
        require_role(me(), *roles)
    refuse_writes_if_archived(project)
    return project
