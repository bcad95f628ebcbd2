"""What pages and the API show of a stored agreement report, with what changed since read live.

An agreement report is computed in a job (:mod:`labelapp.services.agreement_job`) and kept as a
JSON *snapshot* (:func:`labelapp.services.agreement.snapshot_data`): plain lists and dicts, no
pandas, so a web process reads it without the data stack. Adjudications do not change the report,
only which of its items are still open: this module removes the adjudicated (and gold) items, adds
the items reviewers sent to adjudication, and reads the current answers of the items on a page,
every time. The CLI and the API answer through the same functions, so they show the same numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from labelapp.models import Annotation, User
from labelapp.services.adjudication import Backlog, BacklogEntry, adjudications
from labelapp.services.current_answers import is_current_label, ranked_answers
from labelapp.services.rates import wilson
from labelapp.services.review_item import open_requests

PLOTS = ("kappa", "annotators", "time", "guidelines")
MAX_ANNOTATOR_ROWS = 40  # the least reliable, on the page; the JSON API has them all
ID_CHUNK = 10_000  # PostgreSQL takes at most 65535 parameters


def current_answer_rows(project_id: int, item_ids: list[int] | None = None) -> Select:
    """Each annotator's current answer per item (their latest row that is not an adjudication,
    if it is a label): item id, username, labels, created_at, guideline version, by item and
    username; of ``item_ids`` only, if given. The one rule for "current answer" of the agreement
    report and the backlog."""
    a = Annotation
    where = [a.project_id == project_id]
    if item_ids is not None:
        where.append(a.item_id.in_(item_ids))
    ranked = ranked_answers(*where, columns=(a.created_at, a.guideline_version))
    return (
        select(
            ranked.c.item_id,
            User.username,
            ranked.c.labels,
            ranked.c.created_at,
            ranked.c.guideline_version,
        )
        .join(User, User.id == ranked.c.user_id)
        .where(is_current_label(ranked))
        .order_by(ranked.c.item_id, User.username)
    )


def answers_by_item(
    session: Session, project_id: int, item_ids: list[int]
) -> dict[int, list[tuple[str, list[str], datetime]]]:
    """The current answers of ``item_ids``: item id -> [(annotator, labels, created_at)]."""
    out: dict[int, list[tuple[str, list[str], datetime]]] = {}
    for start in range(0, len(item_ids), ID_CHUNK):
        chunk = item_ids[start : start + ID_CHUNK]
        query = current_answer_rows(project_id, chunk)
        for item_id, username, labels, created_at, _ in session.execute(query):
            out.setdefault(item_id, []).append((username, list(labels), created_at))
    return out


# --- the open backlog --------------------------------------------------------------------------


def _skipped(session: Session, data: dict[str, Any]) -> tuple[dict, set[int]]:
    """The project's adjudications now, and the items the backlog leaves out (those and gold)."""
    done = adjudications(session, data["project_id"])
    return done, set(done) | set(data["gold"])


def _open_disagreements(data: dict[str, Any], skip: set[int]) -> list[dict[str, Any]]:
    report = data["report"]
    if report is None:
        return []
    return [row for row in report["disagreements"] if row["item"] not in skip]


def open_backlog(
    session: Session,
    data: dict[str, Any],
    include_ambiguous: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> Backlog:
    """Items still to adjudicate, least confident first, then those sent by reviewers, then (if
    asked) ambiguous-only items; entries are built for the ``offset``/``limit`` page only."""
    _, skip = _skipped(session, data)
    flagged = _open_disagreements(data, skip)
    ids = [int(row["item"]) for row in flagged]
    listed = set(ids)
    requested = [i for i in open_requests(session, data["project_id"]) if i not in listed]
    ids += requested  # sent from the review page (labelapp.services.review_item)
    if include_ambiguous:
        ambiguous = {int(item) for item, _ in data["answers"]["ambiguous"]}
        ids += sorted(ambiguous - skip - set(ids))
    page = ids[offset : None if limit is None else offset + limit]
    report = data["report"]
    consensus = {int(r["item"]): r for r in report["consensus"]} if report is not None else {}
    answers = answers_by_item(session, data["project_id"], page)
    requested_set = set(requested)
    title = data["aggregation"]["title"] if data["aggregation"] else "Dawid-Skene"
    entries = []
    for position, item_id in enumerate(page, start=offset):
        reason = "sent by a reviewer" if item_id in requested_set else "ambiguous"
        row = consensus.get(item_id)
        if position < len(flagged):
            row = flagged[position]
            reason = str(row["reason"])
        entries.append(
            BacklogEntry(
                item_id,
                reason,
                answers.get(item_id, []),
                str(row["majority"]) if row is not None else None,
                _float(row["majority_share"]) if row is not None else None,
                str(row["consensus"]) if row is not None else None,
                _float(row["confidence"]) if row is not None else None,
                title,
                str(row.get("dawid_skene", row["consensus"])) if row is not None else None,
            )
        )
    return Backlog(len(ids), entries)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def adjudication_summary(data: dict[str, Any], done: dict, backlog: int) -> dict[str, Any]:
    """How many items wait, how many were decided, and how often the decision matched the
    majority vote, the suggestion (the picked aggregation method) and Dawid-Skene."""
    report = data["report"]
    consensus = {int(r["item"]): r for r in report["consensus"]} if report is not None else {}
    majority = suggestion = dawid_skene = compared = 0
    for item_id, adj in done.items():
        row = consensus.get(item_id)
        if row is None or len(adj.labels) != 1:
            continue
        label = adj.labels[0]
        compared += 1
        majority += row["majority"] == label
        suggestion += row["consensus"] == label
        dawid_skene += row.get("dawid_skene", row["consensus"]) == label
    picked = data["aggregation"]
    return {
        "backlog": backlog,
        "adjudicated": len(done),
        "compared": compared,
        "agreed_with_majority": majority,
        "agreed_with_suggestion": suggestion,
        "agreed_with_dawid_skene": dawid_skene,
        "suggested_by": picked["method"] if picked else "dawid_skene",
    }


# --- the API's answer --------------------------------------------------------------------------


def report_json(
    session: Session, data: dict[str, Any], max_disagreements: int | None = 50
) -> dict[str, Any]:
    """The numbers of the agreement page as JSON types (the API's and ``--json``'s answer): the
    snapshot with the disagreements cut to the open backlog (its first ``max_disagreements``)."""
    done, skip = _skipped(session, data)
    open_items = _open_disagreements(data, skip)
    report = data["report"]
    if report is not None:
        shown = open_items if max_disagreements is None else open_items[:max_disagreements]
        report = {
            **report,
            "consensus": None,
            "n_disagreements": len(open_items),
            "disagreements": shown,
        }
    answers = data["answers"]
    n_answers = answers["total"]
    ambiguous = answers["ambiguous"]
    return {
        "project_id": data["project_id"],
        "computed_at": data["computed_at"],
        "compute_seconds": round(data["seconds"], 3),
        "min_confidence": data["min_confidence"],
        "answers": {
            "total": n_answers,
            "single_label": answers["single_label"],
            "ambiguous": len(ambiguous),
            "multi_label": answers["multi_label"],
        },
        "ambiguous": {
            "answers": len(ambiguous),
            "items": len({item for item, _ in ambiguous}),
            "share": len(ambiguous) / n_answers if n_answers else None,
            "per_annotator": [
                {"annotator": name, "ambiguous": n, "answers": total}
                for name, n, total in answers["ambiguous_per_annotator"]
            ],
        },
        "gold_items": len(data["gold"]),
        "report": report,
        "adjudication": adjudication_summary(data, done, len(open_items)),
        "aggregation": data["aggregation"],
        "by_guideline_version": data["by_guideline_version"],
        "over_time": data["over_time"],
        "model": data["model"],
    }


# --- the page's tables -------------------------------------------------------------------------


def annotator_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The least reliable annotators (Dawid-Skene accuracy), each rate with its 95% interval."""
    report = data["report"]
    if report is None:
        return []
    table = sorted(
        report["annotators"],
        key=lambda r: (r["ds_accuracy"] is None, r["ds_accuracy"] or 0.0),
    )[:MAX_ANNOTATOR_ROWS]
    rows = []
    for record in table:
        row = {"name": record["annotator"]}
        row.update({k: v for k, v in record.items() if k != "annotator"})
        n, gold_n = int(row.get("n_overlap") or 0), int(row.get("gold_n") or 0)
        row["intervals"] = {
            key: wilson(round(value * size), size) if size else None
            for key, size in (
                ("ds_accuracy", n),
                ("agreement_with_others", n),
                ("gold_accuracy", gold_n),
            )
            if (value := row.get(key)) is not None
        }
        rows.append(row)
    return rows


def per_label_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per label: answers, share, specific agreement with its interval, human level."""
    report = data["report"]
    return list(report["per_label"]) if report is not None else []
