"""Flags: an annotator marks an item for a reviewer (unclear guideline, broken item, offensive)
with an optional comment; reviewers list the open ones and resolve them.

A flag does not answer the item. Flagging again with the same ``client_id`` returns the stored
flag (a retried request stores one), and an annotator may flag only an item the queue gave them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from labelapp.db import start_write
from labelapp.models import FLAG_REASONS, REVIEWER_ROLES, Flag, Item, Project, User, utcnow
from labelapp.services.errors import Conflict, Forbidden, NotFound, UserError
from labelapp.services.labels import refresh_item_labels
from labelapp.services.projects import (
    get_project_for,
    get_project_of_item,
    is_project_reviewer,
    require_project_role,
    require_writable,
)
from labelapp.services.queue import check_client_id, has_seen

MAX_COMMENT = 2000


@dataclass(frozen=True)
class FlagView:
    """A flag as pages and the API show it."""

    id: int
    item_id: int
    external_id: str
    preview: str
    reason: str
    comment: str
    username: str | None
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None


def flag_item(
    session: Session, user: User, item_id: int, *, reason: str, comment: str, client_id: str
) -> tuple[Flag, bool]:
    """Store ``user``'s flag on an item; returns it and whether it is new (False: a retry)."""
    project = get_project_of_item(session, user, item_id)
    require_writable(project, "flags")
    if reason not in FLAG_REASONS:
        raise UserError(f"unknown flag reason {reason!r}: choose one of {', '.join(FLAG_REASONS)}")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise UserError(f"the comment has {len(comment)} characters; keep it under {MAX_COMMENT}")
    client_id = check_client_id(client_id)
    if not is_project_reviewer(session, user, project) and not has_seen(session, user, item_id):
        raise Forbidden("you can flag the items the queue gave you")
    start_write(session)
    stored = _by_client_id(session, user, client_id)
    if stored is None:
        stored = Flag(
            project_id=project.id,
            item_id=item_id,
            user_id=user.id,
            reason=reason,
            comment=comment,
            client_id=client_id,
        )
        session.add(stored)
        try:
            refresh_item_labels(session, project, [item_id])  # flushes the flag: may raise too
            session.commit()
        except IntegrityError:  # the other copy of a retried request stored it first
            session.rollback()
            stored = _by_client_id(session, user, client_id)
            if stored is None:
                raise
        else:
            return stored, True
    if stored.item_id != item_id:
        raise Conflict(f"client_id {client_id!r} was already used for a flag on another item")
    session.commit()
    return stored, False


def _by_client_id(session: Session, user: User, client_id: str) -> Flag | None:
    return session.scalar(select(Flag).where(Flag.user_id == user.id, Flag.client_id == client_id))


def list_flags(
    session: Session,
    project: Project,
    *,
    open_only: bool = True,
    offset: int = 0,
    limit: int = 100,
) -> tuple[int, list[FlagView]]:
    """The project's flags, newest first (open ones only unless ``open_only`` is False)."""
    where = [Flag.project_id == project.id]
    if open_only:
        where.append(Flag.resolved_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Flag).where(*where)) or 0
    rows = session.execute(
        select(Flag, Item.external_id, Item.text, Item.image_path, User.username)
        .join(Item, Item.id == Flag.item_id)
        .outerjoin(User, User.id == Flag.user_id)
        .where(*where)
        .order_by(Flag.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    views = [
        FlagView(
            flag.id,
            flag.item_id,
            external_id,
            (text or "")[:160] if text is not None else f"image {external_id}",
            flag.reason,
            flag.comment,
            username,
            flag.created_at,
            flag.resolved_at,
            flag.resolution,
        )
        for flag, external_id, text, _image, username in rows
    ]
    return total, views


def open_flag_count(session: Session, project_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Flag)
            .where(Flag.project_id == project_id, Flag.resolved_at.is_(None))
        )
        or 0
    )


def resolve_flag(
    session: Session, reviewer: User, flag_id: int, resolution: str, project_id: int | None = None
) -> Flag:
    """Close a flag with what was done about it (sme, admin of its project; of ``project_id``
    when given)."""
    flag = session.get(Flag, flag_id)
    if flag is None or (project_id is not None and flag.project_id != project_id):
        raise NotFound(f"no flag {flag_id}" + (f" in project {project_id}" if project_id else ""))
    project = get_project_for(session, reviewer, flag.project_id)
    require_project_role(session, reviewer, project, *REVIEWER_ROLES)
    require_writable(project, "flag resolutions")
    resolution = (resolution or "").strip()
    if not resolution:
        raise UserError("say what was done about the flag (e.g. 'guideline clarified')")
    if len(resolution) > MAX_COMMENT:
        raise UserError(
            f"the resolution has {len(resolution)} characters; keep it under {MAX_COMMENT}"
        )
    start_write(session)
    session.execute(
        update(Flag)
        .where(Flag.id == flag_id, Flag.resolved_at.is_(None))
        .values(resolved_by_id=reviewer.id, resolved_at=utcnow(), resolution=resolution)
    )
    refresh_item_labels(session, project, [flag.item_id])
    session.commit()
    session.refresh(flag)
    return flag
