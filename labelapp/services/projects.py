"""Projects: creation, label sets, guidelines, and who may see them."""

from __future__ import annotations

from sqlalchemy import Select, bindparam, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from labelapp.db import ensure_write_lock
from labelapp.models import REVIEWER_ROLES, Guideline, Item, Label, Membership, Project, User
from labelapp.models.projects import QUEUE_ORDERS, TASK_TYPES
from labelapp.models.roles import Role, highest_member_role, role_in_project
from labelapp.services.errors import Conflict, Forbidden, NotFound, UserError
from labelapp.services.featurizer_settings import check_featurizer_settings

AMBIGUOUS_LABEL = "ambiguous"
_DEFAULT_HOTKEYS = [str(i) for i in range(1, 10)] + list("qwertyuiop")


def parse_label_list(raw: str | list[str]) -> list[str]:
    """``"spam,ham"`` or ``["spam", "ham"]`` -> a clean, duplicate-free list of label names."""
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names:
        raise UserError("no labels given: pass them comma-separated, e.g. --labels spam,ham")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"label(s) given twice: {', '.join(dupes)}")
    unprintable = [n for n in names if any(ord(c) < 32 or ord(c) == 127 for c in n)]
    if unprintable:  # e.g. the unit separator that joins a multi-label item's labels
        raise UserError(f"label name with a control character: {unprintable[0]!r}")
    too_long = [n for n in names if len(n) > 80]
    if too_long:
        raise UserError(f"label name longer than 80 characters: {too_long[0][:40]}...")
    return names


def create_project(
    session: Session,
    name: str,
    labels: list[str],
    *,
    task_type: str = "text",
    multi_label: bool = False,
    allow_ambiguous: bool = False,
    hotkeys: list[str] | None = None,
    description: str = "",
    guidelines: str = "",
    overlap_k: int = 1,
    queue_order: str = "import",
    lease_seconds: int = 600,
    author: User | None = None,
) -> Project:
    """Create a project with its ordered label set (hotkeys 1-9, then q-p, unless given)."""
    name = name.strip()
    if not name or len(name) > 120:
        raise UserError("project name must be 1-120 characters")
    ensure_write_lock(session)  # the name check and the insert in one writing transaction
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"project {name!r} already exists; choose another name or import into it")
    if task_type not in TASK_TYPES:
        raise UserError(f"unknown task type {task_type!r}: choose one of {', '.join(TASK_TYPES)}")
    if queue_order not in QUEUE_ORDERS:
        raise UserError(f"unknown queue order {queue_order!r}: choose {', '.join(QUEUE_ORDERS)}")
    if overlap_k < 1:
        raise UserError("overlap k must be at least 1")
    if lease_seconds < 10:
        raise UserError("lease time must be at least 10 seconds")
    labels = parse_label_list(labels)
    if allow_ambiguous and AMBIGUOUS_LABEL not in labels:
        labels = [*labels, AMBIGUOUS_LABEL]
    keys = hotkeys or _DEFAULT_HOTKEYS
    if len(keys) < len(labels):
        raise UserError(f"{len(labels)} labels but only {len(keys)} hotkeys; give one per label")
    if len(set(keys[: len(labels)])) != len(labels):
        raise UserError("hotkeys must be distinct")
    project = Project(
        name=name,
        description=description,
        task_type=task_type,
        multi_label=multi_label,
        overlap_k=overlap_k,
        queue_order=queue_order,
        lease_seconds=lease_seconds,
    )
    project.labels = [
        Label(
            name=label,
            position=i,
            hotkey=keys[i],
            is_ambiguous=allow_ambiguous and label == AMBIGUOUS_LABEL,
        )
        for i, label in enumerate(labels)
    ]
    session.add(project)
    session.flush()
    session.add(
        Guideline(
            project_id=project.id,
            version=1,
            body=guidelines,
            author_id=author.id if author else None,
        )
    )
    if author is not None and not author.is_admin:
        session.add(
            Membership(
                user_id=author.id, project_id=project.id, role=highest_member_role(author.role)
            )
        )
    session.flush()
    return project


def visible_projects(session: Session, user: User) -> list[Project]:
    """Projects ``user`` may see: all for admins, otherwise the ones they are a member of;
    archived ones only where they review (sme in it, or admin)."""
    stmt = select(Project).options(selectinload(Project.labels)).order_by(Project.id)
    if user.is_admin:
        return list(session.scalars(stmt))
    stmt = stmt.join(
        Membership, (Membership.project_id == Project.id) & (Membership.user_id == user.id)
    )
    reviews = Membership.role.in_(REVIEWER_ROLES) if user.role != Role.ANNOTATOR.value else false()
    stmt = stmt.where(or_(Project.archived_at.is_(None), reviews))
    return list(session.scalars(stmt))


def project_role(session: Session, user: User, project: Project | int) -> str | None:
    """``user``'s role in the project (admin, sme or annotator; None for a non-member).

    The membership is usually in the session already (get_project_for loads it): no query."""
    if user.is_admin:
        return Role.ADMIN.value
    project_id = project if isinstance(project, int) else project.id
    member = session.get(Membership, (user.id, project_id))
    return role_in_project(user.role, member.role if member is not None else None)


def project_roles(session: Session, user: User) -> dict[int, str]:
    """``user``'s role in every project they see, by project id (one query)."""
    if user.is_admin:
        return {pid: Role.ADMIN.value for pid in session.scalars(select(Project.id))}
    rows = session.execute(
        select(Membership.project_id, Membership.role, Project.archived_at)
        .join(Project, Project.id == Membership.project_id)
        .where(Membership.user_id == user.id)
    )
    roles: dict[int, str] = {}
    for pid, member_role, archived_at in rows:
        role = role_in_project(user.role, member_role)
        if role is not None and (archived_at is None or role in REVIEWER_ROLES):
            roles[pid] = role
    return roles


def is_project_reviewer(session: Session, user: User, project: Project | int) -> bool:
    """Sees every answer, import, model run and job of the project (its smes, and admins)."""
    return project_role(session, user, project) in REVIEWER_ROLES


def require_project_role(session: Session, user: User, project: Project, *roles: str) -> str:
    """``user``'s role in ``project`` if it is one of ``roles`` (admins pass); else Forbidden."""
    role = project_role(session, user, project)
    if role != Role.ADMIN.value and role not in roles:
        raise Forbidden(
            f"this needs the role {' or '.join(roles)} in project {project.name!r}; "
            f"you are {role or 'not a member'} there"
        )
    return role or ""


def require_writable(project: Project, what: str = "changes") -> None:
    """An archived project is read-only: Conflict (409) naming how to make it active again."""
    if project.archived_at is not None:
        raise Conflict(
            f"project {project.name!r} is archived and read-only ({what} are refused; reading "
            "and exporting still work); an admin can unarchive it on the project page"
        )


# Prebuilt, with the membership in the same statement: these run on every API call. The
# membership row comes back too, so project_role finds it in the session without a query.
_MEMBER_OF = (Membership.user_id == bindparam("user")) & (Membership.project_id == Project.id)
_PROJECT = select(Project).where(Project.id == bindparam("project"))
_MEMBERS_PROJECT = (
    select(Project, Membership)
    .join(Membership, _MEMBER_OF)
    .where(Project.id == bindparam("project"))
)


def _hidden(session: Session, user: User, project: Project) -> bool:
    """Archived projects are hidden from those who only annotate them."""
    return project.archived_at is not None and not is_project_reviewer(session, user, project)


def get_project_for(session: Session, user: User, project_id: int) -> Project:
    """The project if ``user`` may see it. Non-members get 404, not 403: no existence leak."""
    params = {"project": project_id, "user": user.id}
    project = _visible(session, user, _PROJECT, _MEMBERS_PROJECT, params)
    if project is None:
        raise NotFound(f"no project {project_id} that you are a member of")
    return project


def _visible(
    session: Session, user: User, admin_query: Select, members_query: Select, params: dict[str, int]
) -> Project | None:
    """The project that ``admin_query`` (for an admin) or ``members_query`` (a project and the
    user's membership, for anyone else) finds with ``params``, or None if there is none or
    ``user`` may not see it."""
    if user.is_admin:
        project = session.scalar(admin_query, params)
    else:
        row = session.execute(members_query, params).first()
        project = row[0] if row is not None else None
        if row is not None:
            # The identity map holds objects weakly: without a reference the membership is
            # collected with ``row`` and every later role check (project_role) reads it again,
            # one more round trip on each claim. Kept for the session's life.
            held = session.info.setdefault("labelapp.memberships", {})
            held[(user.id, project.id)] = row[1]
    if project is None or _hidden(session, user, project):
        return None
    return project


_ITEM_PROJECT = (
    select(Project).join(Item, Item.project_id == Project.id).where(Item.id == bindparam("item"))
)
_MEMBERS_ITEM_PROJECT = (
    select(Project, Membership)
    .join(Item, Item.project_id == Project.id)
    .join(Membership, _MEMBER_OF)
    .where(Item.id == bindparam("item"))
)


def get_project_of_item(session: Session, user: User, item_id: int) -> Project:
    """The project of item ``item_id`` if ``user`` may see it, in one statement (every submit)."""
    params = {"item": item_id, "user": user.id}
    project = _visible(session, user, _ITEM_PROJECT, _MEMBERS_ITEM_PROJECT, params)
    if project is not None:
        return project
    project_id = session.scalar(select(Item.project_id).where(Item.id == item_id))
    if project_id is None:
        raise NotFound(f"no item {item_id}")
    raise NotFound(f"no project {project_id} that you are a member of")


CREATE_HINT = "Create one with `labelapp projects create NAME --labels a,b`"


def get_project_by_name(session: Session, name: str, how_to_create: str = CREATE_HINT) -> Project:
    """The project called ``name``; else NotFound naming the known ones and ``how_to_create``."""
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        known = session.scalars(select(Project.name).order_by(Project.name)).all()
        hint = f" Known projects: {', '.join(known)}." if known else " There are no projects yet."
        raise NotFound(f"no project named {name!r}: it does not exist.{hint} {how_to_create}")
    return project


def current_guideline(session: Session, project: Project) -> Guideline | None:
    return session.scalar(
        select(Guideline)
        .where(Guideline.project_id == project.id)
        .order_by(Guideline.version.desc())
        .limit(1)
    )


def save_guideline(session: Session, project: Project, body: str, author: User | None) -> Guideline:
    """Store a new guideline version (older versions stay for before/after comparisons)."""
    latest = session.scalar(
        select(func.max(Guideline.version)).where(Guideline.project_id == project.id)
    )
    guideline = Guideline(
        project_id=project.id,
        version=(latest or 0) + 1,
        body=body,
        author_id=author.id if author else None,
    )
    session.add(guideline)
    session.flush()
    return guideline


_INT_SETTINGS = {
    "batch_size": (1, 10_000),
    "retrain_every": (0, 1_000_000),
    "lease_seconds": (10, 86_400),
    "overlap_k": (1, 50),
}
_FLOAT_SETTINGS = {"overlap_share": (0.0, 1.0), "gold_rate": (0.0, 1.0)}


def change_settings(session: Session, project: Project, changes: dict) -> None:
    """The "change settings" use case: check and apply ``changes`` (see :func:`update_settings`)
    and commit; a bad value raises UserError and changes nothing."""
    ensure_write_lock(session)  # SQLite: a read-only transaction may not upgrade to a writer
    update_settings(project, changes)
    session.commit()


def update_settings(project: Project, changes: dict) -> None:
    """Apply checked setting changes; a bad value raises UserError and changes nothing.

    ``overlap_k`` and ``overlap_share`` apply to items imported afterwards.
    """
    known = {
        *_INT_SETTINGS,
        *_FLOAT_SETTINGS,
        "strategy",
        "queue_order",
        "description",
        "featurizer",
        "embedding_max_items",
        "flips_keep_label",
    }
    unknown = sorted(set(changes) - known)
    if unknown:
        raise UserError(
            f"unknown setting(s): {', '.join(unknown)}", [f"settable: {', '.join(sorted(known))}"]
        )
    checked: dict = {}
    for name, (low, high) in _INT_SETTINGS.items():
        if name in changes:
            value = changes[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UserError(f"{name} must be a whole number from {low} to {high}")
            checked[name] = value
    for name, (low, high) in _FLOAT_SETTINGS.items():
        if name in changes:
            value = changes[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not low <= value <= high
            ):
                raise UserError(f"{name} must be a number from {low} to {high}")
            checked[name] = float(value)
    if "strategy" in changes:
        from active_learning.names import STRATEGY_NAMES

        if changes["strategy"] not in STRATEGY_NAMES:
            raise UserError(
                f"unknown strategy {changes['strategy']!r}; choose one of "
                f"{', '.join(STRATEGY_NAMES)}"
            )
        checked["strategy"] = changes["strategy"]
    if "queue_order" in changes:
        if changes["queue_order"] not in QUEUE_ORDERS:
            raise UserError(f"queue_order must be one of {', '.join(QUEUE_ORDERS)}")
        checked["queue_order"] = changes["queue_order"]
    if "description" in changes:
        checked["description"] = str(changes["description"])[:5000]
    checked.update(check_featurizer_settings(changes))
    if "flips_keep_label" in changes:
        if not isinstance(changes["flips_keep_label"], bool):
            raise UserError("flips_keep_label must be true or false")
        checked["flips_keep_label"] = changes["flips_keep_label"]
    for name, value in checked.items():
        setattr(project, name, value)
