"""The labeling page: one item at a time, keyboard-first, driven by the queue API."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_login import login_required

from labelapp.models import FLAG_REASONS
from labelapp.services.projects import current_guideline
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.markdown import render_markdown

labeling = Blueprint("labeling", __name__)

# Keys the page keeps for itself; a label whose hotkey is one of these loses that key's action.
RESERVED_KEYS = {
    "s": "skip",
    "z": "undo",
    "g": "guidelines",
    "f": "flag",
    "?": "help",
    "h": "earlier answers",
    "+": "zoom in",
    "=": "zoom in",
    "-": "zoom out",
    "x": "fit image",
    "a": "image 1:1",
    "c": "contrast",
}
FLAG_TEXTS = {
    "unclear_guideline": "The guidelines do not say",
    "broken_item": "Broken or unreadable item",
    "offensive": "Offensive content",
    "other": "Something else",
}
FLAG_CHOICES = [(reason, FLAG_TEXTS[reason]) for reason in FLAG_REASONS]


@labeling.route("/projects/<int:project_id>/label")
@login_required
def label_page(project_id: int) -> str:
    session = get_db()
    project = project_for_me(project_id)
    guideline = current_guideline(session, project)
    config = {
        "projectId": project.id,
        "multiLabel": project.multi_label,
        "leaseSeconds": project.lease_seconds,
        "guidelineVersion": guideline.version if guideline else None,
        "user": me().username,
        "labels": [
            {"name": lab.name, "hotkey": lab.hotkey, "ambiguous": lab.is_ambiguous}
            for lab in project.labels
            if not lab.retired  # retired labels are no longer offered
        ],
        "urls": {
            "next": url_for("api.next_item", project_id=project.id),
            "undo": url_for("api.undo", project_id=project.id),
            "progress": url_for("api.progress", project_id=project.id),
            "answers": url_for("api.list_my_answers", project_id=project.id),
            "item": "/api/items/",
        },
    }
    return render_template(
        "label.html",
        project=project,
        config=config,
        guideline=guideline,
        guideline_html=render_markdown(guideline.body if guideline else ""),
        flag_reasons=FLAG_CHOICES,
    )
