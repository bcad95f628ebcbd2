"""Who is asking: the logged-in (or token-authenticated) user, and what they may open."""

from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask_login import current_user

from labelapp.extensions import login_manager
from labelapp.models import Project, User
from labelapp.services.errors import Conflict
from labelapp.services.projects import (
    get_project_for,
    is_project_reviewer,
    require_project_role,
)
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


# What still works on an archived project besides reading: exporting it, previews that store
# nothing, unarchiving, deleting, and its team (archiving freezes the data, not who may see it).
ARCHIVED_WRITES = frozenset(
    {
        "api.archive_project",
        "api.delete_project",
        "api.start_export",
        "api.preview_lf",
        "api.preview_python_lf",
        "api.add_project_member",
        "api.remove_project_member",
        "api.patch_team_policy",
        "pages.start_export",
        "admin.archive",
        "admin.delete_project",
        "admin.add_member",
        "admin.remove_member",
        "admin.team_policy",
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
    """The project if the current user may see it (404 otherwise), and has one of ``roles``
    in it (their membership's role; admins pass)."""
    session = get_db()
    project = get_project_for(session, me(), project_id)
    if roles:
        require_project_role(session, me(), project, *roles)
    refuse_writes_if_archived(project)
    return project


def reviews(project: Project | int) -> bool:
    """Whether the current user reviews ``project`` (an sme in it, or an admin)."""
    return is_project_reviewer(get_db(), me(), project)
