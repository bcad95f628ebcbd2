"""Running a team through the API: users (admins), one's own token and password, project
members, archive and delete, label sets and the metadata columns annotators see."""

from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.schemas.admin import (
    AccountCreate,
    AccountList,
    AccountPatch,
    ArchiveBody,
    ColumnsBody,
    ColumnsOut,
    CredentialsOut,
    DeleteBody,
    LabelAdd,
    LabelMerge,
    LabelOrder,
    LabelRename,
    LabelRetire,
    LabelSetOut,
    MemberAddRole,
    MemberList,
    OwnPassword,
    ProjectDeletedOut,
    RemovedOut,
    TeamPolicy,
)
from labelapp.api.schemas.projects import ProjectOut
from labelapp.api.serializers.projects import (
    columns_json,
    label_set_json,
    members_json,
    project_json,
)
from labelapp.api.serializers.users import account_json, credentials_json
from labelapp.api.validation import body, validate
from labelapp.models import REVIEWER_ROLES, Project, User
from labelapp.services import label_sets, membership, project_lifecycle, users_admin, visibility
from labelapp.services.errors import Forbidden
from labelapp.services.projects import get_project_for
from labelapp.services.users import get_user
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


def _admin() -> User:
    if not me().is_admin:
        raise Forbidden("only admins manage users")
    return me()


# --- users -----------------------------------------------------------------------------------


@api.get("/users")
@login_required
@validate(resp={200: AccountList})
def list_users():
    """Every user with their role, state and projects (admin)"""
    _admin()
    rows = users_admin.list_users(get_db())
    return jsonify({"users": [account_json(r.user, r.projects) for r in rows]})


@api.post("/users")
@login_required
@validate(json=AccountCreate, resp={201: CredentialsOut}, errors=(409,))
def create_user():
    """Create a user; the answer holds their password and API token, shown only now (admin)"""
    _admin()
    new: AccountCreate = body()
    session = get_db()
    projects = [get_project_for(session, me(), pid) for pid in new.projects]
    creds = users_admin.create_account(session, new.username, new.role, projects, new.display_name)
    return jsonify(credentials_json(creds)), 201


@api.patch("/users/<int:user_id>")
@login_required
@validate(json=AccountPatch, resp={200: CredentialsOut}, errors=(409,))
def patch_user(user_id: int):
    """Deactivate, reactivate or change the role of a user (admin). A deactivated user's
    sessions and API token stop working at once; the last active admin stays."""
    _admin()
    change: AccountPatch = body()
    session = get_db()
    user = users_admin.user_by_id(session, user_id)
    if change.role is not None:
        users_admin.set_role(session, user, change.role)
    if change.active is not None:
        users_admin.set_active(session, user, change.active)
    return jsonify(credentials_json(users_admin.Credentials(user)))


@api.post("/users/<int:user_id>/password")
@login_required
@validate(resp={200: CredentialsOut})
def reset_user_password(user_id: int):
    """Give a user a new random password, shown once; their sessions end (admin)"""
    _admin()
    session = get_db()
    creds = users_admin.reset_password(session, users_admin.user_by_id(session, user_id))
    return jsonify(credentials_json(creds))


@api.post("/users/<int:user_id>/token")
@login_required
@validate(resp={200: CredentialsOut})
def rotate_user_token(user_id: int):
    """Give a user a new API token, shown once; the old one stops working (admin)"""
    _admin()
    session = get_db()
    creds = users_admin.change_token(session, users_admin.user_by_id(session, user_id))
    return jsonify(credentials_json(creds))


@api.post("/me/password")
@login_required
@validate(json=OwnPassword, resp={200: CredentialsOut})
def change_my_password():
    """Change your password (give the current one); your other sessions end"""
    change: OwnPassword = body()
    users_admin.change_own_password(get_db(), me(), change.current, change.new, change.repeat)
    return jsonify(credentials_json(users_admin.Credentials(me())))


# --- members -----------------------------------------------------------------------------------


@api.get("/projects/<int:project_id>/members")
@login_required
@validate(resp={200: MemberList})
def list_project_members(project_id: int):
    """The project's members with their roles (sme, admin)"""
    return jsonify(members_json(project_for_me(project_id, *REVIEWER_ROLES)))


@api.delete("/projects/<int:project_id>/members/<int:user_id>")
@login_required
@validate(resp={200: RemovedOut})
def remove_project_member(project_id: int, user_id: int):
    """Remove a member: their leases are released, their answers stay (admin; smes if the
    project lets them)"""
    project = project_for_me(project_id)
    session = get_db()
    user = users_admin.user_by_id(session, user_id)
    released = membership.remove_from_project(session, me(), project, user)
    return jsonify(
        {"project_id": project.id, "username": user.username, "leases_released": released}
    )


@api.patch("/projects/<int:project_id>/team")
@login_required
@validate(json=TeamPolicy, resp={200: MemberList})
def patch_team_policy(project_id: int):
    """Whether the project's smes may add and remove members (admin)"""
    project = project_for_me(project_id)
    _admin()
    membership.set_sme_manages_members(get_db(), project, body().sme_manages_members)
    return jsonify(members_json(project))


def add_member_with_role(project_id: int):
    """The body of ``POST /api/projects/ID/members`` (api/projects.py routes it)."""
    project = project_for_me(project_id)
    session = get_db()
    membership.require_member_manager(session, me(), project)  # before looking the user up
    new: MemberAddRole = body()
    member = membership.add_to_project(
        session, me(), project, get_user(session, new.username), new.role
    )
    return member, project


# --- lifecycle ---------------------------------------------------------------------------------


@api.post("/projects/<int:project_id>/archive")
@login_required
@validate(json=ArchiveBody, resp={200: ProjectOut})
def archive_project(project_id: int):
    """Archive (hidden from annotators, read-only, still exportable) or unarchive (admin)"""
    project = project_for_me(project_id)
    _admin()
    project_lifecycle.set_archived(get_db(), project, body().archived)
    return jsonify(project_json(project))


@api.post("/projects/<int:project_id>/delete")
@login_required
@validate(json=DeleteBody, resp={200: ProjectDeletedOut}, errors=(409,))
def delete_project(project_id: int):
    """Delete a project and everything in it; ``confirm`` must be its name. Refused while one
    of its jobs is queued or running (admin)"""
    project = project_for_me(project_id)
    _admin()
    done = project_lifecycle.delete_project(get_db(), project, body().confirm)
    return jsonify({"name": done.name, "rows": done.rows, "files": done.files})


# --- label sets --------------------------------------------------------------------------------


def _label_project(project_id: int) -> Project:
    return project_for_me(project_id, *REVIEWER_ROLES)


@api.get("/projects/<int:project_id>/labels")
@login_required
@validate(resp={200: LabelSetOut})
def get_label_set(project_id: int):
    """The label set with retired labels, answers per label and change history (sme, admin)"""
    return jsonify(label_set_json(_label_project(project_id)))


@api.post("/projects/<int:project_id>/labels")
@login_required
@validate(json=LabelAdd, resp={201: LabelSetOut}, errors=(409,))
def add_label(project_id: int):
    """Add a label (a free hotkey unless given) (sme, admin)"""
    project = _label_project(project_id)
    new: LabelAdd = body()
    label_sets.add_label(get_db(), me(), project, new.name, new.hotkey)
    return jsonify(label_set_json(project)), 201


@api.post("/projects/<int:project_id>/labels/rename")
@login_required
@validate(json=LabelRename, resp={200: LabelSetOut}, errors=(409,))
def rename_label(project_id: int):
    """Rename a label; stored answers follow, and the history records how many (sme, admin)"""
    project = _label_project(project_id)
    change: LabelRename = body()
    changed = label_sets.rename_label(get_db(), me(), project, change.old, change.new)
    return jsonify(label_set_json(project, changed))


@api.post("/projects/<int:project_id>/labels/retire")
@login_required
@validate(json=LabelRetire, resp={200: LabelSetOut})
def retire_label(project_id: int):
    """Retire a label (not offered; answers kept) or restore it (``retired: false``) (sme, admin)"""
    project = _label_project(project_id)
    change: LabelRetire = body()
    label_sets.set_retired(get_db(), me(), project, change.name, change.retired)
    return jsonify(label_set_json(project))


@api.post("/projects/<int:project_id>/labels/merge")
@login_required
@validate(json=LabelMerge, resp={200: LabelSetOut})
def merge_labels(project_id: int):
    """Merge ``source`` into ``target``. ``preview: true`` (the default) only counts the answers
    that would change, in ``answers_changed`` (sme, admin)"""
    project = _label_project(project_id)
    merge: LabelMerge = body()
    session = get_db()
    if merge.preview:
        count = label_sets.merge_preview(session, project, merge.source, merge.target)
    else:
        count = label_sets.merge_labels(session, me(), project, merge.source, merge.target)
    return jsonify(label_set_json(project, count))


@api.put("/projects/<int:project_id>/labels/order")
@login_required
@validate(json=LabelOrder, resp={200: LabelSetOut})
def order_labels(project_id: int):
    """Every label's hotkey, in the new display order (sme, admin). A new order clears the
    project's weak votes: apply the labeling functions again"""
    project = _label_project(project_id)
    order = [(p.name, p.hotkey) for p in body().labels]
    label_sets.set_hotkeys_and_order(get_db(), me(), project, order)
    return jsonify(label_set_json(project))


# --- columns annotators see --------------------------------------------------------------------


@api.get("/projects/<int:project_id>/columns")
@login_required
@validate(resp={200: ColumnsOut})
def get_columns(project_id: int):
    """The items' metadata columns and which ones annotators see (sme, admin)"""
    return jsonify(columns_json(project_for_me(project_id, *REVIEWER_ROLES)))


@api.put("/projects/<int:project_id>/columns")
@login_required
@validate(json=ColumnsBody, resp={200: ColumnsOut})
def put_columns(project_id: int):
    """Choose the metadata columns annotators see (null: hide label-like ones) (sme, admin)"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    visibility.set_annotator_columns(get_db(), project, body().columns)
    return jsonify(columns_json(project))
