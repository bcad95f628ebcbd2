"""Projects as JSON: the project, its members, its label set, the metadata columns
annotators see, its guideline versions."""

from __future__ import annotations

from typing import Any

from labelapp.models import Project
from labelapp.services import label_sets, membership, visibility
from labelapp.web.db import get_db


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


def members_json(project: Project) -> dict[str, Any]:
    people = membership.list_members(get_db(), project)
    return {
        "project_id": project.id,
        "sme_manages_members": project.sme_manages_members,
        "members": [
            {
                "id": m.user.id,
                "username": m.user.username,
                "display_name": m.user.display_name,
                "role": m.role,
                "account_role": m.user.role,
                "active": m.user.active,
            }
            for m in people
        ],
    }


def label_set_json(project: Project, changed: int = 0) -> dict[str, Any]:
    session = get_db()
    counts = label_sets.answers_per_label(session, project)
    return {
        "labels": [
            {
                "name": lab.name,
                "hotkey": lab.hotkey,
                "ambiguous": lab.is_ambiguous,
                "retired": lab.retired,
                "answers": counts.get(lab.name, 0),
            }
            for lab in project.labels
        ],
        "answers_changed": changed,
        "history": [
            {
                "kind": c.kind,
                "old": c.old_name,
                "new": c.new_name,
                "answers_changed": c.answers_changed,
                "rewritten": c.rewritten or {},
                "by": who,
                "at": c.created_at.isoformat(),
            }
            for c, who in label_sets.history(session, project)
        ],
    }


def columns_json(project: Project) -> dict[str, Any]:
    columns = visibility.project_columns(get_db(), project)
    return {
        "default": project.annotator_columns is None,
        "columns": [
            {"name": c.name, "example": c.example, "label_like": c.label_like, "shown": c.shown}
            for c in columns
        ],
    }


def guideline_json(guideline) -> dict:
    return {
        "version": guideline.version,
        "body": guideline.body,
        "author_id": guideline.author_id,
        "created_at": guideline.created_at.isoformat(),
    }
