"""The review page (sme, admin): every item with its label, where it came from and the signals that
it may be wrong; filters, sorts by a score, keyset pages; an item's page with its whole history and
a correction form. Actions go through the JSON API (labelapp.api.review_items)."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask_login import login_required

from labelapp.api.review_items import review_filter, review_page_for
from labelapp.api.schemas.review_items import ReviewQuery
from labelapp.api.serializers.review import row_json
from labelapp.models import REVIEWER_ROLES
from labelapp.services import review, review_item
from labelapp.services.errors import UserError
from labelapp.services.review_names import MAX_REQUEUE_K, REVIEW_SORTS
from labelapp.web.access import me, project_for_me
from labelapp.web.db import get_db
from labelapp.web.page_blueprint import pages

SOURCES = (
    "corrected",
    "adjudicated",
    "gold",
    "human",
    "majority",
    "import",
    "label_model",
    "propagation",
)


def _query() -> tuple[ReviewQuery, str | None]:
    """The filter form's values; a bad value is reported and left out, not a 400 page."""
    values = {k: v for k, v in request.args.items() if v not in ("", None)}
    try:
        return ReviewQuery.model_validate(values), None
    except ValueError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())  # type: ignore[attr-defined]
        return ReviewQuery(), f"filters ignored: {problems}"


@pages.route("/projects/<int:project_id>/review")
@login_required
def review_page(project_id: int) -> str:
    project = project_for_me(project_id, *REVIEWER_ROLES)
    query, problem = _query()
    try:
        page = review_page_for(project, query)
    except UserError as exc:
        query, problem = ReviewQuery(), exc.message
        page = review.review_page(get_db(), project, review_filter(query))
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "after" and v}
    return render_template(
        "review.html",
        project=project,
        page=page,
        rows=[row_json(r) for r in page.rows],
        query=query,
        args=args,
        problem=problem,
        sorts=REVIEW_SORTS,
        sources=SOURCES,
        labels=[lab.name for lab in project.labels],
        max_k=MAX_REQUEUE_K,
    )


@pages.route("/projects/<int:project_id>/review/items/<int:item_id>")
@login_required
def review_item_page(project_id: int, item_id: int) -> str:
    session = get_db()
    project, item = review_item.review_item(session, me(), project_id, item_id)
    row = row_json(review.item_row(session, project, item.id))
    events = review_item.history(session, project, item.id)
    offered = [lab for lab in project.labels if not lab.retired and not lab.is_ambiguous]
    listing = url_for("pages.review_page", project_id=project.id)
    back = request.args.get("back", "")
    back = back if back.startswith(listing) and "//" not in back else listing  # no open redirect
    return render_template(
        "review_item.html",
        project=project,
        item=item,
        row=row,
        events=events,
        offered=offered,
        back=back,
    )
