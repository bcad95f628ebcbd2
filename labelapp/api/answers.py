"""Your earlier answers over HTTP: the list the labeling page reopens and changes answers from.

A change is an ordinary submit (``POST /api/items/{id}/annotations``): it appends a row."""

from __future__ import annotations

from flask import jsonify
from flask_login import login_required

from labelapp.api import api
from labelapp.api.schemas.queue import MyAnswerPage, MyAnswersQuery
from labelapp.api.serializers.items import annotation_json, item_json
from labelapp.api.validation import args, validate
from labelapp.services.answers import my_answers
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db


@api.get("/projects/<int:project_id>/my-answers")
@login_required
@validate(query=MyAnswersQuery, resp={200: MyAnswerPage})
def list_my_answers(project_id: int):
    """Your current answers (labels and skips) in the project, newest first

    ``q`` searches the item's text and external id, ``label`` keeps answers with that label;
    undone answers are left out. Change one by submitting a new answer for its item."""
    project = project_for_me(project_id)
    query: MyAnswersQuery = args()
    user = me()
    total, rows = my_answers(
        get_db(),
        project,
        user,
        query=query.q,
        label=query.label,
        offset=query.offset,
        limit=query.limit,
    )
    return jsonify(
        {
            "total": total,
            "offset": query.offset,
            "answers": [
                {
                    "item": item_json(r.item),
                    "annotation": annotation_json(r.annotation, user.username),
                }
                for r in rows
            ],
        }
    )
