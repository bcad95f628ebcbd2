"""The project page's team sections: members, lifecycle (archive, delete), the label set and
the metadata columns annotators see; and the full "new project" form."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from labelapp.models import REVIEWER_ROLES, Project
from labelapp.models.projects import TASK_TYPES
from labelapp.models.roles import MEMBER_ROLES
from labelapp.services import label_sets, membership, project_lifecycle, visibility
from labelapp.services.errors import UserError
from labelapp.services.projects import is_project_reviewer
from labelapp.services.users import get_user
from labelapp.web.access import me, project_for_me
from labelapp.web.admin import admin, back_on_error, users_admin
from labelapp.web.db import get_db


@admin.app_context_processor
def _team_helpers() -> dict[str, Any]:
    return {"team_admin": team_context, "member_roles": MEMBER_ROLES}


def team_context(project: Project) -> dict[str, Any]:
    """What the project page's team sections show to the current user."""
    session = get_db()
    user = me()
    manage = membership.can_manage_members(session, user, project)
    reviewer = is_project_reviewer(session, user, project)
    return {
        "reviewer": reviewer,
        # Roles the current user may give here: admins both; a managing sme up to the account's.
        "can_make_sme": user.is_admin,
        "manage_members": manage,
        "members": membership.list_members(session, project) if reviewer else [],
        "candidates": membership.non_members(session, project) if manage else [],
        "label_counts": label_sets.answers_per_label(session, project) if reviewer else {},
        "label_history": label_sets.history(session, project, 20) if reviewer else [],
        "columns": visibility.project_columns(session, project) if reviewer else [],
        "running_jobs": project_lifecycle.running_jobs(session, project) if user.is_admin else 0,
    }


def _to(project: Project, anchor: str) -> Response:
    return redirect(url_for("pages.project", project_id=project.id, _anchor=anchor))


@admin.route("/projects/<int:project_id>/members", methods=["POST"])
@login_required
@back_on_error
def add_member(project_id: int) -> Response:
    project = project_for_me(project_id)
    session = get_db()
    membership.require_member_manager(session, me(), project)  # before looking the user up
    username = request.form.get("username", "").strip()
    if not username:
        raise UserError("choose a user to add (every active user is already a member)")
    user = get_user(session, username)
    role = request.form.get("role") or None
    member = membership.add_to_project(session, me(), project, user, role)
    flash(
        f"{user.username} is now a member of {project.name}, as {member.role}."
        if member.added
        else f"{user.username} is now {member.role} in {project.name}.",
        "info",
    )
    return _to(project, "members")


@admin.route("/projects/<int:project_id>/members/<int:user_id>/remove", methods=["POST"])
@login_required
@back_on_error
def remove_member(project_id: int, user_id: int) -> Response:
    project = project_for_me(project_id)
    session = get_db()
    membership.require_member_manager(session, me(), project)
    user = users_admin.user_by_id(session, user_id)
    released = membership.remove_from_project(session, me(), project, user)
    flash(
        f"{user.username} was removed from {project.name}; their answers stay"
        + (f", {released} open item(s) went back to the queue." if released else "."),
        "info",
    )
    return _to(project, "members")


@admin.route("/projects/<int:project_id>/team", methods=["POST"])
@login_required
@back_on_error
def team_policy(project_id: int) -> Response:
    project = project_for_me(project_id)
    if not me().is_admin:
        abort(403, "Only admins decide who manages members.")
    allowed = request.form.get("sme_manages_members") == "1"
    membership.set_sme_manages_members(get_db(), project, allowed)
    flash(
        "Smes of this project "
        + ("may now" if allowed else "may no longer")
        + " add and remove members.",
        "info",
    )
    return _to(project, "members")


@admin.route("/projects/<int:project_id>/archive", methods=["POST"])
@login_required
@back_on_error
def archive(project_id: int) -> Response:
    project = project_for_me(project_id)
    if not me().is_admin:
        abort(403, "Only admins archive projects.")
    archived = request.form.get("archived") == "1"
    project_lifecycle.set_archived(get_db(), project, archived)
    flash(
        f"{project.name} is archived: annotators no longer see it, and it is read-only "
        "(exports still work)."
        if archived
        else f"{project.name} is active again.",
        "info",
    )
    return _to(project, "lifecycle")


@admin.route("/projects/<int:project_id>/delete", methods=["POST"])
@login_required
@back_on_error
def delete_project(project_id: int) -> Response:
    project = project_for_me(project_id)
    if not me().is_admin:
        abort(403, "Only admins delete projects.")
    done = project_lifecycle.delete_project(get_db(), project, request.form.get("confirm", ""))
    flash(
        f"Deleted {done.name}: {done.rows.get('items', 0):,} items, "
        f"{done.rows.get('annotations', 0):,} answers, {done.rows.get('jobs', 0):,} jobs "
        f"and {done.files:,} stored files.",
        "info",
    )
    return redirect(url_for("pages.projects"))


LABEL_ACTIONS = ("add", "rename", "retire", "restore", "merge_preview", "merge", "order")


@admin.route("/projects/<int:project_id>/labels", methods=["POST"])
@login_required
@back_on_error
def labels(project_id: int) -> Any:
    """One change to the label set (sme, admin)."""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    session, form, actor = get_db(), request.form, me()
    action = form.get("action", "")
    if action not in LABEL_ACTIONS:
        raise UserError(f"unknown action {action!r}: choose one of {', '.join(LABEL_ACTIONS)}")
    if action == "add":
        label = label_sets.add_label(
            session, actor, project, form.get("name", ""), form.get("hotkey") or None
        )
        flash(f"Added {label.name!r} (hotkey {label.hotkey}).", "info")
    elif action == "rename":
        old, new = form.get("old", ""), form.get("new", "").strip()
        changed = label_sets.rename_label(session, actor, project, old, new)
        flash(f"Renamed {old!r} to {new!r}; {changed:,} answers follow.", "info")
    elif action in ("retire", "restore"):
        label_sets.set_retired(session, actor, project, form.get("name", ""), action == "retire")
        flash(
            f"{form.get('name')!r} is "
            + (
                "retired: no longer offered, its answers stay."
                if action == "retire"
                else "offered again."
            ),
            "info",
        )
    elif action in ("merge_preview", "merge"):
        return _merge(project, action == "merge")
    else:
        order = [(name, form.get(f"hotkey-{name}", "")) for name in form.getlist("order")]
        reordered = label_sets.set_hotkeys_and_order(session, actor, project, order)
        flash(
            "Saved hotkeys and order."
            + (
                " The order changed: apply the labeling functions again to refresh their votes."
                if reordered
                else ""
            ),
            "info",
        )
    return _to(project, "label-set")


def _merge(project: Project, run: bool) -> Any:
    session, form = get_db(), request.form
    source, target = form.get("source", ""), form.get("target", "")
    if not run:
        count = label_sets.merge_preview(session, project, source, target)
        return render_template(
            "admin/merge_preview.html", project=project, source=source, target=target, count=count
        )
    changed = label_sets.merge_labels(session, me(), project, source, target)
    flash(
        f"Merged {source!r} into {target!r}: {changed:,} answers changed; {source!r} is retired.",
        "info",
    )
    return _to(project, "label-set")


@admin.route("/projects/<int:project_id>/columns", methods=["POST"])
@login_required
@back_on_error
def columns(project_id: int) -> Response:
    """Which metadata columns annotators see (sme, admin)."""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    chosen = None if request.form.get("mode") == "default" else request.form.getlist("columns")
    shown = visibility.set_annotator_columns(get_db(), project, chosen).annotator_columns
    flash(
        "Annotators now see "
        + (
            "every column that does not look like a label."
            if shown is None
            else (", ".join(shown) or "no metadata columns") + "."
        ),
        "info",
    )
    return _to(project, "columns")


@admin.route("/projects/new", methods=["GET", "POST"])
@login_required
def new_project() -> Any:
    """Create a project with its labels and hotkeys, options and guidelines (admins)."""
    if not me().is_admin:
        abort(403, "Only admins create projects.")
    form = request.form
    if request.method == "POST":
        try:
            project = _create_from_form(form)
        except UserError as exc:
            get_db().rollback()
            flash(exc.message, "error")
            return render_template("admin/new_project.html", form=form, task_types=TASK_TYPES), 400
        flash(f"Project {project.name!r} created. Add members and import items to start.", "info")
        return redirect(url_for("pages.project", project_id=project.id))
    return render_template("admin/new_project.html", form=form, task_types=TASK_TYPES)


def parse_label_lines(text: str) -> tuple[list[str], list[str] | None]:
    """Lines ``name`` or ``name = hotkey`` -> names and hotkeys (None: default hotkeys)."""
    names, keys = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, key = line.partition("=")
        names.append(name.strip())
        keys.append(key.strip())
    if any(keys) and not all(keys):
        raise UserError("give a hotkey for every label ('name = key' on each line), or for none")
    return names, (keys if any(keys) else None)


def _create_from_form(form: Any) -> Project:
    names, hotkeys = parse_label_lines(form.get("labels", ""))
    overlap = form.get("overlap_k", "1")
    if not overlap.isdigit() or not 1 <= int(overlap) <= 50:
        raise UserError("annotators per item (overlap) must be a whole number from 1 to 50")
    ambiguous = form.get("allow_ambiguous") == "1"
    if ambiguous and hotkeys is not None:
        hotkeys = [*hotkeys, form.get("ambiguous_hotkey", "").strip() or "0"]
    return project_lifecycle.new_project(
        get_db(),
        form.get("name", ""),
        names,
        task_type=form.get("task_type", "text"),
        multi_label=form.get("multi_label") == "1",
        allow_ambiguous=ambiguous,
        hotkeys=hotkeys,
        description=form.get("description", "")[:5000],
        guidelines=form.get("guidelines", ""),
        overlap_k=int(overlap),
        author=me(),
    )
