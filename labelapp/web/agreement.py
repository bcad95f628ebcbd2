"""The agreement page (admins) with its plots as PNGs and the overlap, gold and guideline
settings that shape agreement; the adjudication page (SMEs, admins)."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from labelapp.api.agreement import flag_arg, float_arg
from labelapp.models import REVIEWER_ROLES, Item
from labelapp.models.roles import Role
from labelapp.services import agreement as service
from labelapp.services import agreement_store, agreement_view, overlap
from labelapp.services.errors import UserError
from labelapp.services.projects import current_guideline
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.jobs import report_on_page
from labelapp.web.page_blueprint import pages

PREVIEW = 8  # backlog items listed on the agreement page


@pages.route("/projects/<int:project_id>/agreement")
@login_required
def agreement(project_id: int) -> str:
    project = project_for_me(project_id, Role.ADMIN)
    session = get_db()
    found, job = report_on_page(agreement_store.REPORTS, project)
    snapshot = agreement_store.snapshot(found) if found is not None else None
    data = backlog = refs = None
    if snapshot is not None:
        data = agreement_view.report_json(session, snapshot, max_disagreements=0)
        backlog = agreement_view.open_backlog(session, snapshot, limit=PREVIEW).entries
        shown = [e.item_id for e in backlog]
        refs = dict(
            session.execute(select(Item.id, Item.external_id).where(Item.id.in_(shown))).all()
        )
    return render_template(
        "agreement.html",
        project=project,
        found=found,
        job=job,
        computed_at=datetime.fromisoformat(snapshot["computed_at"]) if snapshot else None,
        seconds=snapshot["seconds"] if snapshot else None,
        data=data,
        backlog=backlog,
        refs=refs,
        annotators=agreement_view.annotator_rows(snapshot) if snapshot else [],
        per_label=agreement_view.per_label_rows(snapshot) if snapshot else [],
        retired=set(project.retired_labels),
        plots=snapshot["plots"] if snapshot else {},
        guideline=current_guideline(session, project),
        gold_items=data["gold_items"] if data else len(service.gold_answers(session, project)),
    )


@pages.route("/projects/<int:project_id>/agreement/<name>.png")
@login_required
def agreement_plot(project_id: int, name: str) -> Response:
    """A plot of the latest report, drawn by the job that computed it."""
    project = project_for_me(project_id, Role.ADMIN)
    found = agreement_store.latest(get_db(), project, agreement_store.PAGE_PARAMS)
    path = (
        agreement_store.plot_path(found, name)
        if found is not None and name in agreement_view.PLOTS
        else None
    )
    if path is None:
        abort(404, f"no plot {name!r} for this project (yet)")
    response = send_file(path, mimetype="image/png", max_age=60)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


@pages.route("/projects/<int:project_id>/adjudicate")
@login_required
def adjudicate(project_id: int) -> str:
    project = project_for_me(project_id, *REVIEWER_ROLES)
    min_confidence = float_arg("min_confidence")
    include_ambiguous = flag_arg("include_ambiguous")
    query = {
        k: v
        for k, v in (
            ("min_confidence", min_confidence),
            ("include_ambiguous", "1" if include_ambiguous else None),
        )
        if v is not None
    }
    config = {
        "projectId": project.id,
        "multiLabel": project.multi_label,
        "labels": [
            {"name": lab.name, "hotkey": lab.hotkey}
            for lab in project.labels
            if not lab.is_ambiguous
        ],
        "urls": {
            "backlog": url_for("api.adjudication_backlog", project_id=project.id, **query),
            "item": "/api/items/",
        },
    }
    return render_template(
        "adjudicate.html",
        project=project,
        config=config,
        min_confidence=min_confidence,
        include_ambiguous=include_ambiguous,
        has_ambiguous=any(lab.is_ambiguous for lab in project.labels),
    )


def _form_number(name: str, kind: type) -> int | float | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise UserError(f"{name.replace('_', ' ')} must be a number; got {raw!r}") from None


@pages.route("/projects/<int:project_id>/agreement/settings", methods=["POST"])
@login_required
def save_overlap(project_id: int) -> WerkzeugResponse:
    """Overlap k, the share of items it applies to, and the gold rate (admins)."""
    project = project_for_me(project_id, Role.ADMIN)
    session = get_db()
    try:
        changes = {
            name: value
            for name, kind in (("overlap_k", int), ("overlap_share", float), ("gold_rate", float))
            if (value := _form_number(name, kind)) is not None
        }
        done = overlap.save_settings(
            session, project, changes, bool(request.form.get("apply_existing"))
        )
        if done is not None:
            flash(
                f"Overlap and gold settings saved; {done.n_queued:,} items already imported were "
                f"queued for {done.n_answers:,} more answers"
                + (f", {done.n_released:,} need fewer" if done.n_released else "")
                + ".",
                "info",
            )
        else:
            flash(
                "Overlap and gold settings saved; overlap applies to items imported from now on.",
                "info",
            )
    except UserError as exc:
        session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("pages.agreement", project_id=project.id) + "#settings")


@pages.route("/projects/<int:project_id>/guidelines", methods=["POST"])
@login_required
def save_guidelines(project_id: int) -> WerkzeugResponse:
    """A new guideline version (SMEs, admins); answers from now on carry its number."""
    project = project_for_me(project_id, *REVIEWER_ROLES)
    session = get_db()
    try:
        guideline, created = service.new_guideline_version(
            session, project, request.form.get("body", ""), me()
        )
        flash(
            f"Guidelines saved as version {guideline.version}; agreement under it appears "
            "next to the earlier versions as answers come in."
            if created
            else f"The guidelines are unchanged; still version {guideline.version}.",
            "info",
        )
    except UserError as exc:
        session.rollback()
        flash(exc.message, "error")
    target = "pages.agreement" if me().is_admin else "pages.project"
    return redirect(url_for(target, project_id=project.id) + "#guidelines")
