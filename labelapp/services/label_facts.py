"""What the one label rule (:mod:`labelapp.services.labels`) reads about items, in one statement.

Corrections, adjudications, gold answers, annotators' current answers, imported labels and
probabilistic labels (and, for the materialized table, the latest scan's scores and open flags)
come back as one ``UNION ALL`` of tagged rows, so resolving one item costs one round trip and a
whole project one pass. Each item's facts are then grouped in Python by the rule's needs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from labelapp.models import (
    Annotation,
    Flag,
    Item,
    Label,
    LabelCorrection,
    LabelIssue,
    LabelIssueRun,
    ProbLabel,
)
from labelapp.models.base import JSONType
from labelapp.services.label_kinds import IMPORTED_WEAK_SOURCE

WEAK_SOURCES = (IMPORTED_WEAK_SOURCE, "label_model", "propagation")  # in order of preference

# Row tags of the union.
CORRECTION, ADJUDICATION, GOLD, ANSWER = "c", "a", "g", "h"
IMPORTED, WEAK, ISSUE, FLAGS, AMBIGUOUS = "i", "w", "s", "f", "l"


@dataclass(frozen=True)
class Scope:
    """Which items of a project: all (the default), these ids, or the ids ``lo..hi``."""

    ids: tuple[int, ...] | None = None
    lo: int | None = None
    hi: int | None = None

    @property
    def kind(self) -> str:
        return "ids" if self.ids is not None else "range" if self.lo is not None else "all"

    def params(self) -> dict[str, Any]:
        """The bind parameters of :func:`bound` for this scope."""
        if self.ids is not None:
            return {"ids": list(self.ids)}
        return {"lo": self.lo, "hi": self.hi} if self.lo is not None else {}

    def where(self, column: Any) -> Any:
        """The condition on ``column``, with this scope's values."""
        if self.ids is not None:
            return column.in_(self.ids)
        if self.lo is not None and self.hi is not None:
            return column.between(self.lo, self.hi)
        return true()


Where = Callable[[Any, Any], Any]  # (project id column or None, item id column) -> condition


def bound(kind: str, project: Any = None) -> Where:
    """A scope kind's condition with bind parameters (``project``; ``ids``; ``lo``, ``hi``).
    Ids name their items: those get no project condition, so the planner always takes the
    item index, even while the statistics lag behind a bulk write."""
    project = bindparam("project") if project is None else project

    def where(project_column: Any, item_column: Any) -> Any:
        if kind == "ids":
            return item_column.in_(bindparam("ids", expanding=True))
        own = true() if project_column is None else project_column == project
        if kind == "range":
            return and_(own, item_column.between(bindparam("lo"), bindparam("hi")))
        return own

    return where


ALL = Scope()


@dataclass
class Facts:
    """Per item id, what each rule reads (only items that have that fact are keys)."""

    ambiguous: set[str] = field(default_factory=set)  # the project's "ambiguous" label names
    corrections: dict[int, tuple[int, list[str]]] = field(default_factory=dict)  # latest
    adjudications: dict[int, list[tuple[int, list[str]]]] = field(default_factory=dict)
    gold: dict[int, list[str]] = field(default_factory=dict)
    answers: dict[int, list[tuple[int, list[str]]]] = field(default_factory=dict)  # (user, labels)
    imported: dict[int, tuple[int, int, list[str], str]] = field(default_factory=dict)
    weak: dict[int, tuple[str, str, float, int | None]] = field(default_factory=dict)
    issues: dict[int, float] = field(default_factory=dict)  # the latest scan's score
    open_flags: dict[int, int] = field(default_factory=dict)


def standing(source: str) -> int:
    """Imported sources in order of trust: adjudicated, human (e.g. Label Studio annotations
    beside its predictions), then any other (the latest of those)."""
    return {"adjudicated": 0, "human": 1}.get(source, 2)


def _none(type_: Any) -> Any:
    """A typed NULL: PostgreSQL resolves a union's column types pair by pair, so an untyped NULL
    in two branches would become text."""
    return cast(null(), type_)


def _row(tag: str, item_id: Any, n: Any = None, **values: Any) -> list[Any]:
    """A union branch's columns: tag, item_id, n (an ordering id, a user id or a count), source,
    labels (JSON), label, confidence, run id."""
    return [
        literal(tag, String).label("tag"),
        item_id.label("item_id"),
        (n if n is not None else _none(Integer)).label("n"),
        values.get("source", _none(String)).label("source"),
        values.get("labels", _none(JSONType)).label("labels"),
        values.get("label", _none(String)).label("label"),
        values.get("confidence", _none(Float)).label("confidence"),
        values.get("run", _none(Integer)).label("run"),
    ]


def _ranked_annotations(scope: Where, *where: Any, by: Any) -> Any:
    """Annotations of the project in ``scope`` matching ``where``, ranked newest first within
    each ``(item_id, by)``."""
    a = Annotation
    return (
        select(
            a.id,
            a.item_id,
            a.user_id,
            a.source,
            a.kind,
            a.labels,
            func.row_number().over(partition_by=(a.item_id, by), order_by=a.id.desc()).label("rk"),
        )
        .where(scope(a.project_id, a.item_id), *where)
        .subquery()
    )


def latest_weak_query(
    project_id: int | None, sources: tuple[str, ...], scope: Scope | Where
) -> Any:
    """Each item's latest probabilistic label per source of ``sources``: a subquery with
    ``id, item_id, source, label, confidence, label_model_run_id``."""
    if isinstance(scope, Scope):
        values = scope

        def where(project_column: Any, item_column: Any) -> Any:
            if values.ids is not None:  # ids name their items (see bound)
                return values.where(item_column)
            return and_(project_column == project_id, values.where(item_column))

    else:
        where = scope
    p = ProbLabel
    ranked = (
        select(
            p.id,
            p.item_id,
            p.source,
            p.label,
            p.confidence,
            p.label_model_run_id,
            func.row_number()
            .over(partition_by=(p.item_id, p.source), order_by=p.id.desc())
            .label("rk"),
        )
        .where(where(p.project_id, p.item_id), p.source.in_(sources))
        .subquery()
    )
    return select(ranked).where(ranked.c.rk == 1).subquery()


def _branches(kind: str, table: bool, weak: bool) -> list[Any]:
    a, c, i = Annotation, LabelCorrection, Item
    project_id = bindparam("project")
    scope = bound(kind, project_id)
    human = _ranked_annotations(scope, a.user_id.is_not(None), a.kind != "adjudicate", by=a.user_id)
    imported = _ranked_annotations(scope, a.user_id.is_(None), a.kind == "label", by=a.source)
    branches = [
        select(*_row(AMBIGUOUS, literal(0, Integer), label=Label.name)).where(
            Label.project_id == project_id, Label.is_ambiguous.is_(True)
        ),
        select(*_row(CORRECTION, c.item_id, c.id, labels=c.labels)).where(
            scope(c.project_id, c.item_id)
        ),
        select(*_row(ADJUDICATION, a.item_id, a.id, labels=a.labels)).where(
            scope(a.project_id, a.item_id), a.kind == "adjudicate"
        ),
        select(*_row(GOLD, i.id, labels=i.gold_labels)).where(
            scope(i.project_id, i.id), i.gold_labels.is_not(None)
        ),
        select(*_row(ANSWER, human.c.item_id, human.c.user_id, labels=human.c.labels)).where(
            human.c.rk == 1, human.c.kind == "label"
        ),
        select(
            *_row(
                IMPORTED,
                imported.c.item_id,
                imported.c.id,
                source=imported.c.source,
                labels=imported.c.labels,
            )
        ).where(imported.c.rk == 1),
    ]
    if weak:
        weak = latest_weak_query(None, WEAK_SOURCES, scope)
        branches.append(
            select(
                *_row(
                    WEAK,
                    weak.c.item_id,
                    weak.c.id,
                    source=weak.c.source,
                    label=weak.c.label,
                    confidence=weak.c.confidence,
                    run=weak.c.label_model_run_id,
                )
            )
        )
    if table:
        latest_run = (
            select(func.max(LabelIssueRun.id))
            .where(LabelIssueRun.project_id == project_id)
            .scalar_subquery()
        )
        f = Flag
        branches += [
            select(*_row(ISSUE, LabelIssue.item_id, confidence=LabelIssue.score)).where(
                LabelIssue.run_id == latest_run, scope(None, LabelIssue.item_id)
            ),
            select(*_row(FLAGS, f.item_id, func.count()))
            .where(scope(f.project_id, f.item_id), f.resolved_at.is_(None))
            .group_by(f.item_id),
        ]
    return branches


@functools.cache
def facts_statement(kind: str, table: bool, weak: bool) -> Any:
    """The union for one kind of scope, built once with bind parameters (``project``, and
    ``ids`` or ``lo``/``hi``): an item's refresh runs it on every submit."""
    return union_all(*_branches(kind, table, weak))


def load_facts(
    session: Session,
    project_id: int,
    scope: Scope = ALL,
    *,
    table: bool = False,
    weak: bool = True,
) -> Facts:
    """The facts of the project's items in ``scope`` in one statement; ``table`` adds the
    latest scan's scores and open flags (what :class:`~labelapp.models.ItemLabel` holds),
    ``weak=False`` leaves out the probabilistic labels. Pending ORM changes are flushed first."""
    session.flush()
    statement = facts_statement(scope.kind, table, weak)
    facts = Facts()
    for tag, item_id, n, source, labels, label, confidence, run in session.connection().execute(
        statement, {"project": project_id, **scope.params()}
    ):
        _add(facts, tag, item_id, n, source, labels, label, confidence, run)
    return facts


def _add(
    facts: Facts,
    tag: str,
    item_id: int,
    n: int | None,
    source: str | None,
    labels: list[str] | None,
    label: str | None,
    confidence: float | None,
    run: int | None,
) -> None:
    """File one union row under its rule, keeping the one the rule wants when there are more."""
    if tag == ANSWER:
        facts.answers.setdefault(item_id, []).append((int(n or 0), list(labels or [])))
    elif tag == WEAK:
        held = facts.weak.get(item_id)
        if held is None or WEAK_SOURCES.index(str(source)) < WEAK_SOURCES.index(held[0]):
            facts.weak[item_id] = (str(source), str(label), float(confidence or 0.0), run)
    elif tag == CORRECTION:
        held_c = facts.corrections.get(item_id)
        if held_c is None or int(n or 0) > held_c[0]:
            facts.corrections[item_id] = (int(n or 0), list(labels or []))
    elif tag == ADJUDICATION:
        facts.adjudications.setdefault(item_id, []).append((int(n or 0), list(labels or [])))
    elif tag == GOLD:
        facts.gold[item_id] = list(labels or [])
    elif tag == IMPORTED:  # the most trusted source, and of those the latest row
        rank = standing(str(source))
        held_i = facts.imported.get(item_id)
        if held_i is None or (rank, -int(n or 0)) < (held_i[0], -held_i[1]):
            facts.imported[item_id] = (rank, int(n or 0), list(labels or []), str(source))
    elif tag == ISSUE:
        facts.issues[item_id] = float(confidence or 0.0)
    elif tag == FLAGS:
        facts.open_flags[item_id] = int(n or 0)
    elif tag == AMBIGUOUS:
        facts.ambiguous.add(str(label))
