"""Weak supervision over HTTP (sme, admin): labeling functions, preview, analysis, the
apply / label model / propagation / end model jobs, and the probabilistic labels they store.
Python LFs (api/lf_versions.py, or files through ``labelapp lf load``) run only in the sandbox."""

from __future__ import annotations

from flask import current_app, jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.learning import start_project_job
from labelapp.api.projects import json_body
from labelapp.api.schemas.learning import JobOut
from labelapp.api.schemas.lf_versions import ReplaceQuery
from labelapp.api.schemas.weak import (
    AnalysisOut,
    AnalysisQuery,
    LFActive,
    LFList,
    LFOut,
    LFSpecBody,
    LFVersions,
    PreviewOut,
    ProbLabelPage,
    ProbLabelQuery,
    RunsOut,
)
from labelapp.api.serializers.jobs import job_json, run_json
from labelapp.api.validation import PATH_PARAMETERS, args, body, validate
from labelapp.models.roles import Role
from labelapp.services import lf_versions as versions_service
from labelapp.services.errors import UserError
from labelapp.services.rates import rate
from labelapp.services.weak import analysis_report
from labelapp.services.weak.common import class_names
from labelapp.services.weak.lfs import get_lf, latest_lfs, lf_json, set_active, versions
from labelapp.services.weak.runs import (
    JOB_STEPS,
    latest_runs,
    list_prob_labels,
    prob_label_counts,
)
from labelapp.services.weak.votes import preview
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.highlight import spans

# step name in the URL -> its job kind: apply, fit, propagate, train, pipeline
STEPS = {kind.removeprefix("ws_"): kind for kind in JOB_STEPS}
PATH_PARAMETERS["step"] = {"type": "string", "enum": list(STEPS)}


@api.get("/projects/<int:project_id>/lfs")
@login_required
@validate(resp={200: LFList})
def list_lfs(project_id: int):
    """The latest version of each labeling function, and the classes they vote (sme, admin)"""
    project = project_for_me(project_id, Role.SME)
    rows = latest_lfs(get_db(), project.id)
    return jsonify({"classes": class_names(project), "lfs": [lf_json(r) for r in rows]})


@api.post("/projects/<int:project_id>/lfs")
@login_required
@validate(json=LFSpecBody, query=ReplaceQuery, resp={201: LFOut, 200: LFOut}, errors=(409,))
def save_lf(project_id: int):
    """Save a declarative LF (keyword, regex, metadata) (sme, admin)

    A new name is version 1. An existing name answers 409 unless ?replace=1: then a changed LF
    is its next version and an unchanged one is returned with 200. Python LFs: POST
    /lfs/python."""
    project = project_for_me(project_id, Role.SME)
    body = json_body()
    description = body.pop("description", "")
    row, created = versions_service.save_declarative(
        get_db(), project, body, me(), str(description or ""), bool(args().replace)
    )
    return jsonify(lf_json(row)), 201 if created else 200


@api.post("/projects/<int:project_id>/lfs/preview")
@login_required
@validate(json=LFSpecBody, resp={200: PreviewOut})
def preview_lf(project_id: int):
    """What an unsaved LF would do on the first 5,000 items (sme, admin)

    Its first 20 hits (with where it matched, as marks), coverage and empirical accuracy against
    human labels (also as rates with their count and 95% interval)."""
    project = project_for_me(project_id, Role.SME)
    spec = json_body()
    spec.pop("description", None)
    out = preview(get_db(), project, spec)
    out["coverage_rate"] = rate(out["n_hits"], out["n_items"])
    out["accuracy_rate"] = rate(out["correct"], out["n_labeled_hits"])
    for hit in out["hits"]:
        hit["marks"] = spans(hit["text"], out["spec"])
    return jsonify(out)


@api.get("/projects/<int:project_id>/lfs/<int:lf_id>/versions")
@login_required
@validate(resp={200: LFVersions})
def lf_versions(project_id: int, lf_id: int):
    """Every version of this LF's name, oldest first (sme, admin)"""
    project = project_for_me(project_id, Role.SME)
    session = get_db()
    row = get_lf(session, project.id, lf_id)
    return jsonify({"versions": [lf_json(r) for r in versions(session, project.id, row.name)]})


@api.patch("/projects/<int:project_id>/lfs/<int:lf_id>")
@login_required
@validate(json=LFActive, resp={200: LFOut})
def patch_lf(project_id: int, lf_id: int):
    """Switch an LF on or off: {"active": bool} (its latest version; sme, admin)"""
    project = project_for_me(project_id, Role.SME)
    session = get_db()
    row = set_active(session, project.id, lf_id, body().active)
    return jsonify(lf_json(row))


@api.get("/projects/<int:project_id>/lfs/analysis")
@login_required
@validate(query=AnalysisQuery, resp={200: AnalysisOut, 202: JobOut})
def lf_analysis(project_id: int):
    """Per active LF from its stored votes (sme, admin)

    Polarity, coverage, overlaps, conflicts, correct/incorrect/emp_accuracy against human labels,
    example hits and disagreements. A job computes it in a worker when votes, LFs, items or human
    labels changed; the request waits for it up to ``wait`` seconds, then answers the last one
    (``current`` false, ``job`` computing the next) or, without one, 202 with the job."""
    project = project_for_me(project_id, Role.SME)
    class_names(project)  # a multi-label project fails here, not in the job
    session = get_db()
    found, job = analysis_report.current(
        session, current_app.extensions["labelapp.sessions"], project, me(), args().wait
    )
    if found is None:
        return jsonify(job_json(job)), 202
    return jsonify(
        {
            **found.job.result["analysis"],
            "computed_at": found.job.finished_at.isoformat(),
            "current": found.current,
            "job": job_json(job) if job else None,
        }
    )


@api.post("/projects/<int:project_id>/ws/<step>")
@login_required
@validate(resp={202: JobOut, 200: JobOut})
def start_step(project_id: int, step: str):
    """Start a weak-supervision job (sme, admin); poll /api/jobs/{id}

    apply (votes of the active LFs; on Dask when configured or the project is large), fit (label
    model), propagate (label spreading), train (end model on the label-model labels, scored on
    the held-out human-labeled items), or pipeline (all four in order: "Run all"). 200 if that job
    is already queued or running."""
    project = project_for_me(project_id, Role.SME)
    if step not in STEPS:
        raise UserError(f"unknown step {step!r}: use one of {', '.join(STEPS)}")
    class_names(project)  # a multi-label project fails here, not in the job
    return start_project_job(project, STEPS[step])


@api.get("/projects/<int:project_id>/ws/runs")
@login_required
@validate(resp={200: RunsOut})
def ws_runs(project_id: int):
    """The latest run of each kind with its metrics, and the items per label source (sme, admin)

    Kinds: apply, label_model, propagation, end_model; sources of probabilistic labels."""
    project = project_for_me(project_id, Role.SME)
    session = get_db()
    runs = latest_runs(session, project.id)
    return jsonify(
        {
            "latest": {kind: run_json(run) for kind, run in runs.items()},
            "prob_labels": prob_label_counts(session, project.id),
        }
    )


@api.get("/projects/<int:project_id>/prob-labels")
@login_required
@validate(query=ProbLabelQuery, resp={200: ProbLabelPage})
def prob_labels(project_id: int):
    """Probabilistic labels in id order; page with ?after=<next_after> (sme, admin)

    Each with its item, source (label_model, propagation, model), run id and run kind, label,
    confidence and class probabilities (in the order of `classes`)."""
    project = project_for_me(project_id, Role.SME)
    query: ProbLabelQuery = args()
    source, limit, after = query.source or None, query.limit, query.after
    rows = list_prob_labels(get_db(), project.id, source, limit, after)
    return jsonify(
        {
            "classes": class_names(project),
            "prob_labels": rows,
            "next_after": rows[-1]["id"] if len(rows) == limit else None,
        }
    )
