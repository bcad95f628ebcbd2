"""The export page (start an export job, dataset versions, compare two, download one) and the
augmentation preview (a grid of augmented samples from the project), for SMEs and admins."""

from __future__ import annotations

import base64
import random
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from labelapp import config
from labelapp.models import Item, Project
from labelapp.services import export as service
from labelapp.services.errors import UserError
from labelapp.services.export.snapshots import get_version, list_versions
from labelapp.services.jobs import active_job, start_job
from labelapp.web.access import me, project_for_me
from labelapp.web.augment_settings import augment_notes
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages

PREVIEW_ITEMS = 6
MAX_COPIES = 8


def _formats(project: Project) -> list[str]:
    return [f for f in service.FORMATS if f != "imagefolder" or project.task_type == "image"]


def _augment_choices(project: Project) -> list[tuple[str, str]]:
    from augment.images import ready_pipelines

    if project.task_type == "image":
        from augment.images import load_pipeline_spec

        # Each shipped pipeline's own description, first sentence ("light: for photos ...").
        def title(name: str) -> str:
            said = str(load_pipeline_spec(name).get("description", "")).split(".")[0]
            return (
                f"{name}: {said.split(':', 1)[-1].strip()}"
                if said
                else f"{name} (shipped pipeline)"
            )

        return [(name, title(name)) for name in ready_pipelines()]
    return [("text", "text: random swap and deletion")]


@pages.route("/projects/<int:project_id>/export")
@login_required
def export_page(project_id: int) -> str:
    project = project_for_me(project_id, "sme")
    session = get_db()
    versions = list_versions(session, project.id)
    summaries = [service.version_summary(v) for v in versions]
    comparison = None
    old, new = request.args.get("old", type=int), request.args.get("new", type=int)
    if old is not None and new is not None:
        try:
            comparison = service.diff(session, project.id, old, new)
        except UserError as exc:
            flash(exc.message, "error")
    job_id = request.args.get("job", type=int)
    job = active_job(session, project.id, "export")
    if job is None and job_id is not None:
        from labelapp.models import Job

        finished = session.get(Job, job_id)
        if finished is not None and finished.project_id == project.id:
            job = finished
    return render_template(
        "export.html",
        project=project,
        versions=list(reversed(summaries)),
        comparison=comparison,
        old=old,
        new=new,
        job=job,
        formats=_formats(project),
        augment_choices=_augment_choices(project),
        defaults=request.args,
    )


@pages.route("/projects/<int:project_id>/export", methods=["POST"])
@login_required
def start_export(project_id: int) -> Response:
    project = project_for_me(project_id, "sme")
    form = request.form
    try:
        choice = form.get("augment", "")
        plan_source = form.get("augment_json", "") if choice == "custom" else choice
        plan = service.plan_from_user(
            plan_source or None, form.get("copies") if plan_source else None
        )
        params = service.request_from(form, augment=plan).checked(project).to_params()
    except UserError as exc:
        flash(exc.message, "error")
        return redirect(url_for("pages.export_page", project_id=project.id))
    job, future = start_job(
        get_db(),
        current_app.extensions["labelapp.sessions"],
        project.id,
        "export",
        params,
        user=me(),
    )
    if future is None:
        flash(f"An export is already {job.status} (job #{job.id}).", "info")
    return redirect(url_for("pages.export_page", project_id=project.id, job=job.id))


@pages.route("/projects/<int:project_id>/export/v<int:version>.zip")
@login_required
def download_version(project_id: int, version: int) -> Response:
    project = project_for_me(project_id, "sme")
    row = get_version(get_db(), project.id, version)
    folder = Path(row.out_dir)
    if not folder.is_dir():
        abort(404, f"the files of version {version} are no longer at {folder}")
    # On disk, not in memory: an export can be gigabytes. Deleted when the response closes it.
    archive = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 - send_file closes it
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zipped:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zipped.write(path, path.relative_to(folder).as_posix())
    archive.seek(0)
    return send_file(
        archive,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{project.name}-v{version}.zip",
    )


# --- augmentation preview --------------------------------------------------------------------


def _sample(project: Project, seed: int, n: int) -> list[tuple[int, str, str | None, str | None]]:
    """``n`` items of the project, drawn with ``seed``: (id, external id, text, image path).

    The copies are seeded by the item id, as in an export, so they are the ones it would write.
    """
    rows = (
        get_db()
        .execute(
            select(Item.id, Item.external_id, Item.text, Item.image_path)
            .where(Item.project_id == project.id)
            .order_by(Item.position)
            .limit(5000)
        )
        .all()
    )
    chosen = random.Random(seed).sample(rows, min(n, len(rows)))
    return [(r[0], r[1], r[2], r[3]) for r in chosen]


def _image_grid(project: Project, plan: dict[str, Any], copies: int, seed: int) -> list[dict]:
    """Per sampled image: the original and its copies, or why the pipeline cannot take it (e.g.
    colour transforms refuse 4-channel RGBA images: the export would fail on them too)."""
    from augment.preview import preview_tiles

    media = config.media_dir()
    rows = []
    for item_id, ext, _, path in _sample(project, seed, PREVIEW_ITEMS):
        if not path:
            continue
        row: dict[str, Any] = {"id": ext, "tiles": [], "error": None}
        try:
            tiles = preview_tiles(
                plan["spec"],
                [(str(item_id), media / path)],
                copies=copies,
                random_state=seed,
                max_side=180,
            )
        except (ValueError, KeyError, TypeError, FileNotFoundError) as exc:
            row["error"] = str(exc)
            rows.append(row)
            continue
        for tile in tiles:
            applied = [t["transform"] for t in tile.lineage.get("transforms", [])]
            row["tiles"].append(
                {
                    "n": tile.copy,
                    "src": "data:image/png;base64," + base64.b64encode(tile.png).decode("ascii"),
                    "caption": "original" if tile.copy < 0 else (", ".join(applied) or "unchanged"),
                }
            )
        rows.append(row)
    return rows


def _text_grid(project: Project, plan: dict[str, Any], copies: int, seed: int) -> list[dict]:
    from augment.text import TextAugmentConfig, augment_text

    config_ = TextAugmentConfig(**plan["spec"])
    out = []
    for item_id, ext, text, _ in _sample(project, seed, PREVIEW_ITEMS):
        samples = [
            augment_text(text or "", config_, source_id=str(item_id), random_state=seed, copy=c)
            for c in range(copies)
        ]
        out.append(
            {
                "id": ext,
                "text": text or "",
                "copies": [
                    {
                        "text": s.text,
                        "ops": ", ".join(sorted({o["op"] for o in s.operations})) or "unchanged",
                    }
                    for s in samples
                ],
            }
        )
    return out


@pages.route("/projects/<int:project_id>/augment")
@login_required
def augment_page(project_id: int) -> str:
    project = project_for_me(project_id, "sme")
    args = request.args
    choices = _augment_choices(project)
    choice = args.get("pipeline", choices[0][0])
    spec_text = args.get("spec", "")
    seed = args.get("seed", 0, type=int)
    copies = max(1, min(MAX_COPIES, args.get("copies", 4, type=int)))
    grid, error, plan, notes = [], None, None, {}
    try:
        if project.task_type == "text" and choice == "text":
            swap = args.get("swap_prob", 0.1, type=float)
            delete = args.get("delete_prob", 0.1, type=float)
            plan = service.plan_from_user({"text": {"swap_prob": swap, "delete_prob": delete}})
        else:
            plan = service.plan_from_user(spec_text if choice == "custom" else choice)
        if plan is not None and plan["kind"] != project.task_type:
            raise UserError(f"a {plan['kind']} plan cannot augment {project.task_type} items")
        plan, notes = augment_notes(project, plan)  # as the export would use it
        if plan is not None:
            maker = _image_grid if project.task_type == "image" else _text_grid
            grid = maker(project, plan, copies, seed)
    except UserError as exc:
        error = exc.message
    return render_template(
        "augment.html",
        project=project,
        choices=choices,
        choice=choice,
        spec_text=spec_text,
        seed=seed,
        copies=copies,
        grid=grid,
        error=error,
        plan=plan,
        notes=notes,
        args=args,
    )
