"""Items as JSON, with what surrounds them: the metadata the caller may see, a queue
claim, an answer (annotation) and the import that created them."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from labelapp.models import Annotation, ImportBatch, Item, Project
from labelapp.services.queue import Claim, lease_ticket


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
