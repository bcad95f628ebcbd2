"""One truth about each item's label: every feature (retrain, agreement, export, the overview,
weak supervision) asks this module which label an item has, where it came from and how sure it is.

The first rule that applies gives an item its label:

0. its latest reviewer correction (:class:`~labelapp.models.LabelCorrection`, made on the
   review page with a reason): source ``corrected``;
1. its latest adjudication (``kind="adjudicate"``): source ``adjudicated``;
2. its known answer, if it is a gold item: source ``gold``;
3. its annotators' current labels (:func:`~labelapp.services.overview.live_labels`): all agree
   and nobody said "ambiguous": ``human``; otherwise a strict majority, where an "ambiguous"
   answer is a vote that cannot win: ``majority``; a tie (one "spam" and one "ambiguous" too):
   no label, the item waits for adjudication;
4. its imported human label (an annotation with no user: ``--label-kind human`` stores source
   ``human``; Label Studio annotations keep ``human``/``adjudicated`` and win over predictions
   imported beside them; imports made before label kinds keep their source name, e.g. ``uci``,
   and are train only); otherwise the latest import counts;
5. its latest probabilistic label (an imported weak label, ``import`` from ``--label-kind
   weak``, then ``label_model``, then ``propagation``) with its confidence.

"Ambiguous" is never a class of its own: an item whose only answer is ambiguous has no label.
Labels people gave (:data:`HUMAN_SOURCES`) are what the queue's model trains on and LF accuracy
and the agreement page are measured against; of those, the export puts only unanimous and
adjudicated ones in dev/test (:mod:`augment.splits`), and the others are weak: train only, and
probabilistic ones above a confidence threshold.

The rule's output is also materialized per item in :class:`~labelapp.models.ItemLabel` (with
the annotators' count and disagreement, the latest scan's score and open flags), so the review
page filters and sorts a million items in SQL. Every unit of work that changes what the rule
reads calls :func:`refresh_item_labels` for the items it touched before it commits.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, false, func, insert, literal, select
from sqlalchemy.orm import Session

from labelapp.models import Item, ItemLabel, Project, utcnow
from labelapp.models.base import UTCDateTime
from labelapp.models.item_labels import LABEL_SEPARATOR, NO_SCORE
from labelapp.services.label_facts import (
    ALL,
    WEAK_SOURCES,
    Facts,
    Scope,
    bound,
    latest_weak_query,
    load_facts,
)
from labelapp.services.table_stats import analyze_after_bulk_write

__all__ = [
    "HUMAN_SOURCES",
    "PREDICTION_SOURCES",
    "WEAK_SOURCES",
    "ResolvedLabels",
    "human_labels",
    "human_vote",
    "predictions",
    "refresh_item_labels",
    "resolve_in_ranges",
    "resolve_labels",
]

# What an unlabeled item is predicted to be: its weak label, else the end model's prediction.
PREDICTION_SOURCES = (*WEAK_SOURCES, "model")
# Sources whose labels people gave: training data for the queue's model, dev/test material.
HUMAN_SOURCES = frozenset({"corrected", "adjudicated", "gold", "human", "majority"})
TIED = "annotators tied or only 'ambiguous'"
IMPORTED_AMBIGUOUS = "imported as 'ambiguous'"
# Ids per statement: a scope of ids binds one parameter per id in each branch of the union.
IDS_PER_STATEMENT = 1_000
# Items per chunk of a large refresh (an id range: one statement, whatever its size).
CHUNK = 20_000

Resolved = tuple[list[str], str, float]


@dataclass
class ResolvedLabels:
    """Per item id: ``(labels, source, confidence)``; what was left out and why; the runs used."""

    labels: dict[int, Resolved] = field(default_factory=dict)
    left_out: Counter = field(default_factory=Counter)
    label_model_runs: list[int] = field(default_factory=list)


def human_vote(answers: list[list[str]], ambiguous: set[str]) -> tuple[list[str], str] | None:
    """Annotators' answers -> ``(labels, "human" | "majority")``, or None (a tie, or only
    "ambiguous"). An ambiguous answer counts against unanimity and as a vote that cannot win."""
    if len(answers) == 1 and answers[0] and not ambiguous.intersection(answers[0]):
        return sorted(answers[0]), "human"  # the common case, without a Counter
    votes = Counter(tuple(sorted(a)) for a in answers if a and not ambiguous.intersection(a))
    n_ambiguous = sum(1 for a in answers if ambiguous.intersection(a))
    if not votes:
        return None
    (top, n), *rest = votes.most_common()
    if not rest and n_ambiguous == 0:
        return list(top), "human"
    return (list(top), "majority") if n > max(rest[0][1] if rest else 0, n_ambiguous) else None


def decide(
    item_id: int, facts: Facts, multi_label: bool, left_out: Counter | None = None
) -> Resolved | None:
    """The rule (module docstring) for one item: its ``(labels, source, confidence)`` or None;
    why an item that has answers or an imported label gets none is counted in ``left_out``."""
    ambiguous = facts.ambiguous
    correction = facts.corrections.get(item_id)
    if correction is not None:
        return correction[1], "corrected", 1.0
    for _id, labels in sorted(facts.adjudications.get(item_id, ()), reverse=True):
        chosen = [x for x in labels if x not in ambiguous]  # the latest naming a real label
        if chosen:
            return chosen, "adjudicated", 1.0
    gold = facts.gold.get(item_id)
    if gold:
        return gold, "gold", 1.0
    answers = facts.answers.get(item_id)
    if answers:  # humans answered: a weaker source never overrides them
        vote = human_vote([labels for _, labels in answers], ambiguous)
        if vote is None:
            if left_out is not None:
                left_out[TIED] += 1
            return None
        return vote[0], vote[1], 1.0
    imported = facts.imported.get(item_id)
    if imported is not None:
        chosen = [x for x in imported[2] if x not in ambiguous]
        if chosen:
            return chosen, imported[3], 1.0
        if left_out is not None:
            left_out[IMPORTED_AMBIGUOUS] += 1
        return None
    weak = facts.weak.get(item_id)
    if weak is not None:
        source, label, confidence, _run = weak
        labels = label.split("|") if multi_label else [label]
        if not ambiguous.intersection(labels):
            return labels, source, confidence
    return None


def _id_scopes(ids: list[int]) -> Iterator[Scope]:
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        yield Scope(ids=tuple(ids[start : start + IDS_PER_STATEMENT]))


def resolve_labels(
    session: Session, project: Project, weak: bool = True, item_ids: Collection[int] | None = None
) -> ResolvedLabels:
    """Each item's label and its source, by the rules in the module docstring; ``weak=False``
    leaves out the probabilistic labels (rule 5); ``item_ids``: those items only (a page)."""
    out = ResolvedLabels()
    runs: set[int] = set()
    for chunk in resolve_in_ranges(session, project, weak, item_ids, out.left_out, runs):
        out.labels.update(chunk)
    out.label_model_runs = sorted(runs)
    return out


def resolve_in_ranges(
    session: Session,
    project: Project,
    weak: bool = True,
    item_ids: Collection[int] | None = None,
    left_out: Counter | None = None,
    runs: set[int] | None = None,
) -> Iterator[dict[int, Resolved]]:
    """:func:`resolve_labels` one id range (or id list) at a time, in id order, so a caller that
    keeps less than the per-item tuples (the export) never holds a 10M-item project's labels at
    once. Counts what was left out into ``left_out`` and the weak labels' runs into ``runs``."""
    if item_ids is None:
        lo = session.scalar(select(func.min(Item.id)).where(Item.project_id == project.id))
        scopes = (
            [] if lo is None else (scope for scope, _ in _ranges(session, project.id, lo, None))
        )
    else:
        scopes = _id_scopes(sorted(set(item_ids)))
    for scope in scopes:
        facts = load_facts(session, project.id, scope, weak=weak)
        candidates = set(facts.corrections).union(
            facts.adjudications, facts.gold, facts.answers, facts.imported, facts.weak
        )
        chunk: dict[int, Resolved] = {}
        for item_id in sorted(candidates):
            resolved = decide(item_id, facts, project.multi_label, left_out)
            if resolved is None:
                continue
            chunk[item_id] = resolved
            run = _weak_run(item_id, facts)
            if run is not None and runs is not None:
                runs.add(run)
        yield chunk


def _weak_run(item_id: int, facts: Facts) -> int | None:
    """The label-model run of the weak label that gave an item its label, if one did."""
    weak = facts.weak.get(item_id)
    if weak is None or weak[3] is None or facts.gold.get(item_id):
        return None
    if any(set(labels) - facts.ambiguous for _, labels in facts.adjudications.get(item_id, ())):
        return None
    stronger = (facts.corrections, facts.answers, facts.imported)
    return None if any(item_id in rule for rule in stronger) else int(weak[3])


def predictions(
    session: Session,
    project: Project,
    sources: tuple[str, ...] | None = None,
    item_ids: Collection[int] | None = None,
) -> dict[int, Resolved]:
    """Per item, its latest probabilistic label of the first of ``sources`` that has one
    (default :data:`PREDICTION_SOURCES`: its weak label, else the end model's prediction):
    ``(labels, source, confidence)``, whatever the item's resolved label."""
    sources = sources or PREDICTION_SOURCES
    scopes = [ALL] if item_ids is None else list(_id_scopes(sorted(set(item_ids))))
    out: dict[int, Resolved] = {}
    for scope in scopes:
        latest = latest_weak_query(project.id, sources, scope)
        for item_id, source, label, confidence in session.execute(
            select(latest.c.item_id, latest.c.source, latest.c.label, latest.c.confidence)
        ):
            held = out.get(item_id)
            if held is None or sources.index(source) < sources.index(held[1]):
                labels = label.split("|") if project.multi_label else [label]
                out[item_id] = (labels, source, float(confidence))
    return out


def human_labels(session: Session, project: Project) -> dict[int, str]:
    """Each single-labeled item's label where people gave it (:data:`HUMAN_SOURCES`): what the
    queue's model trains on, the agreement page scores against and LF accuracy is measured on."""
    resolved = resolve_labels(session, project, weak=False)
    return {
        item_id: labels[0]
        for item_id, (labels, source, _confidence) in resolved.labels.items()
        if source in HUMAN_SOURCES and len(labels) == 1
    }


def refresh_item_labels(
    session: Session, project: Project, item_ids: Collection[int] | None = None
) -> int:
    """Recompute the :class:`~labelapp.models.ItemLabel` rows of ``item_ids`` (None: every item
    of the project) by the rule, in the caller's transaction; returns how many were written.

    Call it after the unit of work's writes and before its commit. On PostgreSQL the stored
    rows are locked first and the facts read after the lock, so of two transactions touching
    one item the later one sees the earlier one's writes. A few ids are upserted; a large set
    goes in chunks of id ranges (one statement reads a chunk's facts), and only the rows that
    changed are rewritten (deleted, then bulk-inserted).
    """
    written = 0
    for scope, ids in _plan(session, project.id, item_ids):
        stored = _stored(session, project.id, scope, len(ids) > UPSERT_MAX)
        facts = load_facts(session, project.id, scope, table=True)
        rows = [_table_row(i, project, facts) for i in ids]
        _write(session, project.id, scope, rows, stored)
        written += len(rows)
    analyze_after_bulk_write(session, ("item_labels",), written)  # the review page's plans
    return written


def add_unlabeled_rows(session: Session, import_id: int) -> int:
    """The rows of an import's new items when the file brought no labels: nothing is known of
    them yet, so the rule's answer is "no label", written in one ``INSERT ... SELECT`` (a
    million-item import does not read facts it cannot have)."""
    il = ItemLabel
    stamp = literal(utcnow(), UTCDateTime())
    rows = select(
        Item.id,
        Item.project_id,
        literal(NO_SCORE),
        literal(0),
        false(),
        literal(NO_SCORE),
        false(),
        stamp,
    ).where(Item.import_id == import_id)
    columns = ["item_id", "project_id", "confidence", "n_answers", "disagreement"]
    columns += ["issue_score", "flagged", "updated_at"]
    result = session.execute(insert(il).from_select(columns, rows))
    written = int(result.rowcount or 0)
    analyze_after_bulk_write(session, ("item_labels",), written)
    return written


def _plan(
    session: Session, project_id: int, item_ids: Collection[int] | None
) -> Iterator[tuple[Scope, list[int]]]:
    """The refresh in statements: (scope, the project's item ids in it)."""
    if item_ids is not None:
        ids = sorted(set(item_ids))
        if len(ids) <= IDS_PER_STATEMENT:
            if ids:
                yield Scope(ids=tuple(ids)), ids
            return
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if chunk[-1] - chunk[0] < 4 * len(chunk):  # dense: an id range reads it at once
                yield from _ranges(session, project_id, chunk[0], chunk[-1])
            else:
                for scope in _id_scopes(chunk):
                    yield scope, list(scope.ids or ())
        return
    # min(), not the first row of an ordered select: the driver would fetch every id first
    lo = session.scalar(select(func.min(Item.id)).where(Item.project_id == project_id))
    if lo is not None:
        yield from _ranges(session, project_id, lo, None)


def _ranges(
    session: Session, project_id: int, lo: int, hi: int | None
) -> Iterator[tuple[Scope, list[int]]]:
    """The project's items from id ``lo`` to ``hi`` (None: the last) in ranges of CHUNK."""
    while True:
        query = select(Item.id).where(Item.project_id == project_id, Item.id >= lo)
        if hi is not None:
            query = query.where(Item.id <= hi)
        ids = list(session.scalars(query.order_by(Item.id).limit(CHUNK)))
        if not ids:
            return
        yield Scope(lo=ids[0], hi=ids[-1]), ids
        if len(ids) < CHUNK:
            return
        lo = ids[-1] + 1


def _stored(
    session: Session, project_id: int, scope: Scope, compare: bool
) -> dict[int, tuple] | None:
    """The scope's stored rows (their :data:`KEY` columns) when ``compare``, else None; on
    PostgreSQL locked, in id order (no deadlock between two refreshes): the facts are read in a
    later statement, after any writer before us committed. SQLite has one writer at a time."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if not (compare or postgres):
        return None
    found = session.connection().execute(
        _stored_statement(scope.kind, postgres), {"project": project_id, **scope.params()}
    )
    return {r[0]: tuple(r[1:]) for r in found} if compare else None


@functools.cache
def _stored_statement(kind: str, lock: bool) -> Any:
    il = ItemLabel
    statement = (
        select(il.item_id, *(getattr(il, f) for f in KEY))
        .where(bound(kind)(il.project_id, il.item_id))
        .order_by(il.item_id)
    )
    return statement.with_for_update() if lock else statement


def _table_row(item_id: int, project: Project, facts: Facts) -> dict[str, object]:
    resolved = decide(item_id, facts, project.multi_label)
    answers = facts.answers.get(item_id, [])
    labels = resolved[0] if resolved else None
    return {
        "item_id": item_id,
        "project_id": project.id,
        "labels": labels,
        "label": LABEL_SEPARATOR.join(labels) if labels else None,
        "source": resolved[1] if resolved else None,
        "confidence": float(resolved[2]) if resolved else NO_SCORE,
        "n_answers": len(answers),
        "disagreement": len({tuple(sorted(given)) for _, given in answers}) > 1,
        "issue_score": facts.issues.get(item_id, NO_SCORE),
        "flagged": facts.open_flags.get(item_id, 0) > 0,
    }


FIELDS = ("labels", "label", "source", "confidence", "n_answers", "disagreement")
FIELDS += ("issue_score", "flagged")
KEY = FIELDS[1:]  # what tells a changed row ("label" is the labels, joined)
UPSERT_MAX = 50  # rows; more are compared with the stored ones, and the changed bulk-written


def _write(
    session: Session,
    project_id: int,
    scope: Scope,
    rows: list[dict[str, object]],
    stored: dict[int, tuple] | None,
) -> None:
    """Store the scope's rows: an upsert for a few; for a chunk, only the rows that differ from
    ``stored``, deleted and bulk-inserted (COPY on PostgreSQL)."""
    everything = False
    if stored is not None:
        before = len(rows)
        rows = [r for r in rows if stored.get(r["item_id"]) != tuple(r[f] for f in KEY)]
        everything = len(rows) == before and len(stored) <= before
    if not rows:
        return
    if len(rows) <= UPSERT_MAX:
        _upsert(session, rows)
        return
    il = ItemLabel
    if everything:
        session.execute(delete(il).where(il.project_id == project_id, scope.where(il.item_id)))
    else:
        ids = [row["item_id"] for row in rows]
        for start in range(0, len(ids), IDS_PER_STATEMENT):
            session.execute(
                delete(il).where(il.item_id.in_(ids[start : start + IDS_PER_STATEMENT]))
            )
    _bulk_insert(session, rows)


def _upsert(session: Session, rows: list[dict[str, object]]) -> None:
    now = utcnow()
    session.connection().execute(
        _upsert_statement(session.get_bind().dialect.name),
        [{**row, "updated_at": now} for row in rows],
    )


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(ItemLabel.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["item_id"], set_={c: stmt.excluded[c] for c in (*FIELDS, "updated_at")}
    )


def _bulk_insert(session: Session, rows: list[dict[str, object]]) -> None:
    from labelapp.services.bulk import Constant, bulk_insert_columns, sqlite_timestamp

    now = utcnow()
    columns: dict[str, object] = {
        name: [row[name] for row in rows] for name in rows[0] if name != "labels"
    }
    columns["labels"] = [None if r["labels"] is None else json.dumps(r["labels"]) for r in rows]
    postgres = session.get_bind().dialect.name == "postgresql"
    columns["updated_at"] = Constant(now.isoformat() if postgres else sqlite_timestamp(now))
    bulk_insert_columns(session, "item_labels", columns, len(rows))
