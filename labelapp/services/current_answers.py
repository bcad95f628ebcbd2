"""The one rule for an annotator's *current answer* to an item: their latest annotation row that is
not an adjudication (a reviewer's adjudication never replaces their own answer), and only when that
row is a label (a later skip or undo takes the answer back).

The overview, the review page and the agreement report all read answers through these two helpers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from labelapp.models import Annotation


def ranked_answers(*where: Any, columns: tuple[Any, ...] = ()) -> Any:
    """A subquery of the human annotations matching ``where`` (adjudications left out): columns
    ``item_id, user_id, kind, labels``, then ``columns``, then ``rank`` (1 for each annotator's
    latest row on an item)."""
    a = Annotation
    return (
        select(
            a.item_id,
            a.user_id,
            a.kind,
            a.labels,
            *columns,
            func.row_number()
            .over(partition_by=(a.item_id, a.user_id), order_by=a.id.desc())
            .label("rank"),
        )
        .where(a.user_id.is_not(None), a.kind != "adjudicate", *where)
        .subquery()
    )


def is_current_label(ranked: Any) -> Any:
    """The condition on a :func:`ranked_answers` subquery that keeps the current answers."""
    return (ranked.c.rank == 1) & (ranked.c.kind == "label")
