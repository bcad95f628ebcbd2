"""Review as JSON: flags, rows of the review list, label corrections and the
adjudication backlog's entries."""

from __future__ import annotations

from typing import Any

from labelapp.models import Flag, LabelCorrection
from labelapp.services import flags as service
from labelapp.services import review
from labelapp.services.adjudication import BacklogEntry


def flag_json(flag: Flag | service.FlagView) -> dict:
    return {
        "id": flag.id,
        "item_id": flag.item_id,
        "reason": flag.reason,
        "comment": flag.comment,
        "created_at": flag.created_at.isoformat(),
        "resolved_at": flag.resolved_at.isoformat() if flag.resolved_at else None,
        **({"resolution": flag.resolution} if flag.resolution else {}),
    }


def _guess(value: tuple[list[str], str, float] | None) -> dict[str, Any] | None:
    return (
        None if value is None else {"labels": value[0], "source": value[1], "confidence": value[2]}
    )


def row_json(row: review.ReviewRow) -> dict[str, Any]:
    return {
        "item_id": row.item_id,
        "external_id": row.external_id,
        "text": row.text,
        "has_image": bool(row.image_path),
        "meta": row.meta,
        "labels": row.labels,
        "source": row.source,
        "confidence": row.confidence,
        "answers": [{"user": u, "labels": labs} for u, labs in row.answers],
        "weak": _guess(row.weak),
        "prediction": _guess(row.prediction),
        "issue": row.issue,
        "flags": row.flags,
        "corrections": row.corrections,
    }


def correction_json(c: LabelCorrection) -> dict[str, Any]:
    return {
        "id": c.id,
        "item_id": c.item_id,
        "labels": c.labels,
        "previous_labels": c.previous_labels,
        "previous_source": c.previous_source,
        "reason": c.reason,
        "created_at": c.created_at.isoformat(),
    }


def entry_dict(entry: BacklogEntry) -> dict[str, Any]:
    return {
        "item_id": entry.item_id,
        "reason": entry.reason,
        "answers": [
            {"annotator": name, "labels": labels, "created_at": at.isoformat()}
            for name, labels, at in entry.answers
        ],
        "majority": entry.majority,
        "majority_share": entry.majority_share,
        "suggestion": entry.suggestion,
        "confidence": entry.confidence,
        "suggested_by": entry.suggested_by,
        "dawid_skene": entry.dawid_skene,
    }
