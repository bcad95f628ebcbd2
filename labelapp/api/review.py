"""Review over HTTP: annotators flag items, reviewers resolve the flags; reviewers scan a project
for labels that are likely wrong and read the scan."""

from __future__ import annotations

from flask import jsonify
from flask_login import login_required
from sqlalchemy import func, select

from labelapp.api import api
from labelapp.api.learning import start_project_job
from labelapp.api.schemas.learning import JobOut
from labelapp.api.schemas.review import (
    FlagOut,
    FlagPage,
    FlagQuery,
    IssuePage,
    IssueQuery,
    NewFlag,
    Resolution,
)
from labelapp.api.serializers.review import flag_json
from labelapp.api.validation import args, body, validate
from labelapp.models import REVIEWER_ROLES, Item, LabelIssue
from labelapp.services import flags as service
from labelapp.services.errors import UserError
from labelapp.services.label_issues import latest_run
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.post("/items/<int:item_id>/flags")
@login_required
@validate(json=NewFlag, resp={201: FlagOut, 200: FlagOut}, errors=(409,))
def flag_item(item_id: int):
    """Flag an item for a reviewer (unclear guideline, broken item, offensive, other)

    201; the same client_id again returns the stored flag (200). Annotators flag the items the
    queue gave them; the flag does not answer the item."""
    request: NewFlag = body()
    flag, created = service.flag_item(
        get_db(),
        me(),
        item_id,
        reason=request.reason,
        comment=request.comment,
        client_id=request.client_id,
    )
    return jsonify(flag_json(flag)), 201 if created else 200


@api.get("/projects/<int:project_id>/flags")
@login_required
@validate(query=FlagQuery, resp={200: FlagPage})
def list_flags(project_id: int):
    """Flags of the project, newest first (sme, admin); ?state=all includes resolved ones"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query: FlagQuery = args()
    total, views = service.list_flags(
        get_db(), project, open_only=query.state == "open", offset=query.offset, limit=query.limit
    )
    rows = [
        {**flag_json(v), "external_id": v.external_id, "preview": v.preview, "username": v.username}
        for v in views
    ]
    return jsonify({"total": total, "offset": query.offset, "flags": rows})


@api.post("/flags/<int:flag_id>/resolve")
@login_required
@validate(json=Resolution, resp={200: FlagOut})
def resolve_flag(flag_id: int):
    """Close a flag with what was done about it (sme, admin)"""
    request: Resolution = body()
    flag = service.resolve_flag(get_db(), me(), flag_id, request.resolution)
    return jsonify(flag_json(flag))


@api.post("/projects/<int:project_id>/label-issues")
@login_required
@validate(resp={202: JobOut, 200: JobOut})
def start_label_issue_scan(project_id: int):
    """Scan the project's human labels for likely wrong ones (sme, admin); poll /api/jobs/{id}

    200 with the running scan if one is already queued or running."""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    if project.multi_label:
        raise UserError("label-issue scans need a single-label project")
    return start_project_job(project, "label_issues")


@api.get("/projects/<int:project_id>/label-issues")
@login_required
@validate(query=IssueQuery, resp={200: IssuePage})
def label_issues(project_id: int):
    """The latest scan's labels, most likely wrong first (sme, admin); ?flagged=false for all"""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query: IssueQuery = args()
    session = get_db()
    run = latest_run(session, project.id)
    if run is None:
        return jsonify({"run": None, "total": 0, "offset": query.offset, "issues": []})
    where = [LabelIssue.run_id == run.id]
    if query.flagged:
        where.append(LabelIssue.flagged.is_(True))
    total = session.scalar(select(func.count()).select_from(LabelIssue).where(*where))
    rows = session.execute(
        select(LabelIssue, Item.external_id)
        .join(Item, Item.id == LabelIssue.item_id)
        .where(*where)
        .order_by(LabelIssue.score.desc(), LabelIssue.item_id)
        .offset(query.offset)
        .limit(query.limit)
    ).all()
    issues = [
        {
            "item_id": issue.item_id,
            "external_id": external_id,
            "label": issue.label,
            "suggested": issue.suggested,
            "score": issue.score,
            "flagged": issue.flagged,
            "reasons": issue.reasons,
        }
        for issue, external_id in rows
    ]
    summary = {
        "id": run.id,
        "created_at": run.created_at.isoformat(),
        "scored": run.n_scored,
        "flagged": run.n_flagged,
        "job_id": run.job_id,
    }
    return jsonify({"run": summary, "total": total, "offset": query.offset, "issues": issues})
