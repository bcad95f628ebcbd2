"""Reviewers correct labels: each correction is appended with its reason (never overwritten) and
becomes the item's label above every other source (:mod:`labelapp.services.labels`, rule 0)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from labelapp.db import start_write
from labelapp.models import REVIEWER_ROLES, LabelCorrection, Project, User
from labelapp.services.errors import UserError
from labelapp.services.labels import refresh_item_labels, resolve_labels
from labelapp.services.projects import (
    get_project_of_item,
    require_project_role,
    require_writable,
)

MAX_REASON = 2000


def checked_labels(project: Project, labels: Sequence[str]) -> list[str]:
    """``labels`` as a sorted list of the project's current labels; a UserError saying which are
    unknown, retired or ambiguous, or why the count is wrong."""
    offered = {lab.name for lab in project.labels if not lab.retired and not lab.is_ambiguous}
    chosen = sorted({str(x).strip() for x in labels if str(x).strip()})
    unknown = [x for x in chosen if x not in offered]
    if unknown:
        raise UserError(
            f"unknown label(s) {', '.join(map(repr, unknown))}: choose from "
            f"{', '.join(sorted(offered))}"
        )
    if not chosen:
        raise UserError("give the corrected label")
    if len(chosen) > 1 and not project.multi_label:
        raise UserError(f"{len(chosen)} labels, but {project.name!r} is single-label: give one")
    return chosen


def correct_label(
    session: Session, user: User, item_id: int, labels: Sequence[str], reason: str
) -> LabelCorrection:
    """Append ``user``'s correction of item ``item_id`` (sme, admin) and commit it. The label it
    replaces (and that label's source) is recorded beside it."""
    project = get_project_of_item(session, user, item_id)
    require_project_role(session, user, project, *REVIEWER_ROLES)
    require_writable(project, "corrections")
    chosen = checked_labels(project, labels)
    reason = (reason or "").strip()
    if not reason:
        raise UserError("say why the label is wrong (the reason is kept with the correction)")
    if len(reason) > MAX_REASON:
        raise UserError(f"the reason has {len(reason)} characters; keep it under {MAX_REASON}")
    start_write(session)
    before = resolve_labels(session, project, item_ids=[item_id]).labels.get(item_id)
    correction = LabelCorrection(
        project_id=project.id,
        item_id=item_id,
        user_id=user.id,
        labels=chosen,
        reason=reason,
        previous_labels=list(before[0]) if before else None,
        previous_source=before[1] if before else None,
    )
    session.add(correction)
    refresh_item_labels(session, project, [item_id])
    session.commit()
    return correction
