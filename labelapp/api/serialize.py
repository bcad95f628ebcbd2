"""Models to JSON-ready dicts, one function per model, shared by every route."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask_login import current_user

from labelapp.models import Annotation, ImportBatch, Item, Job, Project, User
from labelapp.services.queue import Claim, lease_ticket


def project_json(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "task_type": project.task_type,
        "multi_label": project.multi_label,
        "labels": [label.name for label in project.labels],
        "label_set": [
            {
                "name": label.name,
                "hotkey": label.hotkey,
                "ambiguous": label.is_ambiguous,
                "retired": label.retired,
            }
            for label in project.labels
        ],
        "overlap_k": project.overlap_k,
        "overlap_share": project.overlap_share,
        "gold_rate": project.gold_rate,
        "strategy": project.strategy,
        "featurizer": project.featurizer,
        "embedding_max_items": project.embedding_max_items,
        "batch_size": project.batch_size,
        "retrain_every": project.retrain_every,
        "lease_seconds": project.lease_seconds,
        "queue_order": project.queue_order,
        "created_at": project.created_at.isoformat(),
        "archived": project.archived_at is not None,
        "flips_keep_label": project.flips_keep_label,
    }


def item_json(item: Item) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "project_id": item.project_id,
        "external_id": item.external_id,
        "meta": visible_meta(item, item.meta),
        "group_key": item.group_key,
        "split": item.split,
    }
    if item.image_path is not None:
        data["image_url"] = url_for("pages.item_image", item_id=item.id)
    else:
        data["text"] = item.text
    return data


def visible_meta(item: Item, meta: dict[str, Any] | None) -> dict[str, Any]:
    """``meta`` as the caller may see it: annotators only the project's chosen columns (by
    default none that look like a label), reviewers all (labelapp.services.visibility)."""
    from labelapp.services.visibility import meta_for
    from labelapp.web.access import me
    from labelapp.web.db import get_db

    session = get_db()
    return meta_for(session, me(), session.get(Project, item.project_id), meta)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
    }


def import_json(batch: ImportBatch) -> dict[str, Any]:
    return {
        "id": batch.id,
        "filename": batch.filename,
        "format": batch.format,
        "label_source": batch.label_source,
        "rows": batch.rows_total,
        "items_created": batch.items_created,
        "items_existing": batch.items_existing,
        "annotations_created": batch.annotations_created,
        "created_at": batch.created_at.isoformat(),
    }


def claim_json(claim: Claim, user_id: int) -> dict[str, Any]:
    """A leased item, when its lease ends, and what put it at the head of the queue; the
    ``lease_ticket`` goes back with each heartbeat."""
    secret = current_app.config["SECRET_KEY"]
    return {
        "item": item_json(claim.item),
        "lease_expires_at": claim.lease_expires_at.isoformat(),
        "lease_ticket": lease_ticket(secret, user_id, claim.item.id),
        "queued_by": {
            "strategy": claim.strategy,
            "score": claim.score,
            "model_run_id": claim.model_run_id,
        },  # gold items are not flagged: an annotator must not know which answers are checked
    }


def annotation_json(annotation: Annotation, username: str | None = None) -> dict[str, Any]:
    return {
        "id": annotation.id,
        "item_id": annotation.item_id,
        "project_id": annotation.project_id,
        "user_id": annotation.user_id,
        "username": username,
        "source": annotation.source,
        "kind": annotation.kind,
        "labels": list(annotation.labels),
        "client_id": annotation.client_id,
        "duration_ms": annotation.duration_ms,
        "guideline_version": annotation.guideline_version,
        "strategy": annotation.strategy,
        "model_run_id": annotation.model_run_id,
        "note": annotation.note,
        "created_at": annotation.created_at.isoformat(),
    }


def job_json(job: Job) -> dict[str, Any]:
    """A job for its project's reviewers (the traceback of a crash for admins only)."""
    return {
        "id": job.id,
        "url": url_for("api.get_job", job_id=job.id),
        "project_id": job.project_id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "message": job.message,
        "error": job.error,
        # The traceback of a crash is for admins: it names server code and paths.
        **({"traceback": job.traceback} if current_user.is_admin and job.traceback else {}),
        "result": job.result,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
