"""The agreement page (admins) with its plots as PNGs and the overlap, gold and guideline
settings that shape agreement; the adjudication page (SMEs, admins)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from labelapp.api.agreement import flag_arg, float_arg
from labelapp.models import REVIEWER_ROLES, Item
from labelapp.services import adjudication, overlap
from labelapp.services import agreement as service
from labelapp.services.errors import UserError
from labelapp.services.projects import current_guideline
from labelapp.services.rates import wilson
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages

PLOTS = ("kappa", "annotators", "time", "guidelines")
PREVIEW = 8  # backlog items listed on the agreement page
MAX_ANNOTATOR_ROWS = 40  # the least reliable; the JSON API has them all


def _agreement(project_id: int):
    project = project_for_me(project_id, "admin")
    return project, service.project_agreement(get_db(), project)


@pages.route("/projects/<int:project_id>/agreement")
@login_required
def agreement(project_id: int) -> str:
    project, result = _agreement(project_id)
    session = get_db()
    report = adjudication.with_open_backlog(session, result)
    backlog = adjudication.open_backlog(session, result, limit=PREVIEW)
    data = service.agreement_dict(session, result, max_disagreements=0)
    shown = [e.item_id for e in backlog.entries]
    refs = dict(session.execute(select(Item.id, Item.external_id).where(Item.id.in_(shown))).all())
    return render_template(
        "agreement.html",
        project=project,
        result=result,
        report=report,
        data=data,
        backlog=backlog.entries,
        refs=refs,
        annotators=_annotator_rows(report),
        per_label=_per_label_rows(report),
        plots={name: _has_plot(result, name) for name in PLOTS},
        guideline=current_guideline(session, project),
    )


def _annotator_rows(report) -> list[dict]:
    """The least reliable annotators, each rate with its 95% interval (for the chart)."""
    if report is None:
        return []
    table = report.annotators.sort_values("ds_accuracy").head(MAX_ANNOTATOR_ROWS)
    rows = [
        {"name": name, **{k: None if v != v else v for k, v in row.items()}}  # NaN -> None (JSON)
        for name, row in table.to_dict(orient="index").items()
    ]
    for row in rows:
        n, gold_n = int(row.get("n_overlap") or 0), int(row.get("gold_n") or 0)
        row["intervals"] = {
            key: wilson(round(value * size), size) if size else None
            for key, size in (
                ("ds_accuracy", n),
                ("agreement_with_others", n),
                ("gold_accuracy", gold_n),
            )
            if (value := row.get(key)) is not None
        }
    return rows


def _per_label_rows(report) -> list[dict]:
    if report is None:
        return []
    return [
        {"label": name, **row} for name, row in report.per_label.to_dict(orient="index").items()
    ]


def _has_plot(result: service.ProjectAgreement, name: str) -> bool:
    report = result.report
    if report is None:
        return False
    if name == "kappa":
        return len(report.kappa) >= 2
    if name == "annotators":  # no reliability figure without overlapping items
        return len(report.annotators) >= 1 and report.n_overlap_items > 0
    if name == "time":
        return result.over_time is not None and len(result.over_time) >= 2
    return result.by_guideline is not None and len(result.by_guideline) >= 2


def plot_png(result: service.ProjectAgreement, name: str) -> bytes:
    """One of :data:`PLOTS` as PNG bytes (the library's plots; matplotlib loads here)."""
    from weak_supervision.agreement import plots

    report = result.report
    assert report is not None
    if name == "kappa":
        figure = plots.kappa_heatmap(report)
    elif name == "annotators":
        figure = plots.annotator_plot(report)
    elif name == "time":
        assert result.over_time is not None
        figure = plots.agreement_over_time_plot(result.over_time)
    else:
        assert result.by_guideline is not None
        versions = result.by_guideline.rename(index=lambda v: f"v{v}")
        figure = plots.agreement_over_time_plot(versions.rename_axis("guideline version"))
    return plots.figure_png(figure)


@pages.route("/projects/<int:project_id>/agreement/<name>.png")
@login_required
def agreement_plot(project_id: int, name: str) -> Response:
    _, result = _agreement(project_id)
    if name not in PLOTS or not _has_plot(result, name):
        abort(404, f"no plot {name!r} for this project (yet)")
    response = Response(plot_png(result, name), mimetype="image/png")
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
    project = project_for_me(project_id, "admin")
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
