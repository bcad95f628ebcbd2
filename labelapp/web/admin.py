"""Admin pages: users (create, deactivate, reactivate, roles, password resets, tokens), the
team overview with every project's counts, and each user's own profile."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user
from werkzeug.wrappers import Response

from labelapp.models.roles import Role
from labelapp.services import users_admin
from labelapp.services.counts import project_counts
from labelapp.services.errors import UserError
from labelapp.services.overview import open_flags
from labelapp.services.projects import get_project_for
from labelapp.web.access import me
from labelapp.web.db import get_db

admin = Blueprint("admin", __name__)

ROLE_CHOICES = [r.value for r in Role]


def back_on_error(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A form post refused for what it asks (400, 409) shows the message on the page it came
    from (nothing was stored), instead of an error page; 403 and 404 answer as usual."""

    @wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        except UserError as exc:
            if exc.status in (403, 404):
                raise  # who may do what, and what exists, answer as everywhere
            get_db().rollback()
            flash(exc.message, "error")
            for detail in exc.details:
                flash(detail, "error-detail")
            return redirect(_back())

    return run


def _back() -> str:
    """Where the form came from (a local path only), else the projects list."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.projects")


def _require_admin() -> None:
    if not me().is_admin:
        abort(403, "Only admins manage users.")


@admin.route("/admin")
@login_required
def overview() -> str:
    """Every project (archived ones too) with the same counts as everywhere, and the users."""
    _require_admin()
    from sqlalchemy import select

    from labelapp.models import Project

    session = get_db()
    projects = list(session.scalars(select(Project).order_by(Project.id)))
    rows = users_admin.list_users(session)
    return render_template(
        "admin/overview.html",
        projects=projects,
        counts=project_counts(session, [p.id for p in projects]),
        open_flags=open_flags(session, [p.id for p in projects]),
        users_total=len(rows),
        users_active=sum(1 for r in rows if r.user.active),
    )


@admin.route("/admin/users")
@login_required
def users() -> str:
    _require_admin()
    return _users_page()


def _users_page(credentials: users_admin.Credentials | None = None, status: int = 200) -> Any:
    from labelapp.services.projects import visible_projects

    session = get_db()
    return render_template(
        "admin/users.html",
        rows=users_admin.list_users(session),
        projects=visible_projects(session, me()),
        roles=ROLE_CHOICES,
        credentials=credentials,
    ), status


@admin.route("/admin/users", methods=["POST"])
@login_required
@back_on_error
def create_user() -> Any:
    """Create a user; the page shows their password and token once (never stored in clear)."""
    _require_admin()
    session = get_db()
    form = request.form
    project_ids = [int(v) for v in form.getlist("projects") if v.isdigit()]
    projects = [get_project_for(session, me(), pid) for pid in project_ids]
    creds = users_admin.create_account(
        session,
        form.get("username", ""),
        form.get("role", ""),
        projects,
        form.get("display_name", "").strip()[:120],
    )
    flash(f"Created {creds.user.role} {creds.user.username!r}.", "info")
    return _users_page(creds)


USER_ACTIONS = ("deactivate", "reactivate", "reset_password", "rotate_token", "role")


# What an account role means in the projects (labelapp.models.roles.highest_member_role).
ROLE_NOTES = {
    Role.ADMIN: "Admins manage users and every project.",
    Role.SME: "They can be sme in a project: choose it per project on its page (Members).",
    Role.ANNOTATOR: "They annotate in every project they belong to.",
}


@admin.route("/admin/users/<int:user_id>", methods=["POST"])
@login_required
@back_on_error
def update_user(user_id: int) -> Any:
    """One action on a user: deactivate, reactivate, reset_password, rotate_token, role."""
    _require_admin()
    session = get_db()
    user = users_admin.user_by_id(session, user_id)
    action = request.form.get("action", "")
    if action not in USER_ACTIONS:
        raise UserError(f"unknown action {action!r}: choose one of {', '.join(USER_ACTIONS)}")
    if action in ("deactivate", "reactivate"):
        users_admin.set_active(session, user, action == "reactivate")
        flash(
            f"{user.username} is "
            + (
                "active again."
                if user.active
                else "deactivated: their sessions and token no longer work."
            ),
            "info",
        )
    elif action == "role":
        users_admin.set_role(session, user, request.form.get("role", ""))
        flash(f"{user.username}'s account is now {user.role}. {ROLE_NOTES[user.role]}", "info")
    elif action == "reset_password":
        return _users_page(users_admin.reset_password(session, user))
    else:
        return _users_page(users_admin.change_token(session, user))
    return redirect(url_for("admin.users"))


@admin.route("/profile")
@login_required
def profile() -> str:
    return _profile_page()


def _profile_page(token: str | None = None) -> str:
    session = get_db()
    from labelapp.services.projects import visible_projects

    return render_template("profile.html", token=token, projects=visible_projects(session, me()))


@admin.route("/profile/password", methods=["POST"])
@login_required
@back_on_error
def profile_password() -> Response:
    """Change one's own password; other sessions end, this one goes on."""
    form = request.form
    user = me()
    users_admin.change_own_password(
        get_db(), user, form.get("current", ""), form.get("new", ""), form.get("repeat", "")
    )
    login_user(user)  # the new session epoch: this browser stays logged in
    flash("Password changed. Your other sessions were logged out.", "info")
    return redirect(url_for("admin.profile"))


@admin.route("/profile/token", methods=["POST"])
@login_required
@back_on_error
def profile_token() -> Any:
    """A new API token for oneself, shown once; the old one stops working."""
    if request.form.get("confirm") != "yes":
        raise UserError("tick 'my old token stops working' to get a new token")
    return _profile_page(users_admin.change_token(get_db(), me()).token)
