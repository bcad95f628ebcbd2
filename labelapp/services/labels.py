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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Item, LabelCorrection, ProbLabel, Project
from labelapp.services.label_kinds import IMPORTED_WEAK_SOURCE
from labelapp.services.overview import live_labels

WEAK_SOURCES = (IMPORTED_WEAK_SOURCE, "label_model", "propagation")  # in order of preference
# What an unlabeled item is predicted to be: its weak label, else the end model's prediction.
PREDICTION_SOURCES = (*WEAK_SOURCES, "model")
# Sources whose labels people gave: training data for the queue's model, dev/test material.
HUMAN_SOURCES = frozenset({"corrected", "adjudicated", "gold", "human", "majority"})


@dataclass
class ResolvedLabels:
    """Per item id: ``(labels, source, confidence)``; what was left out and why; the runs used."""

    labels: dict[int, tuple[list[str], str, float]] = field(default_factory=dict)
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


def _latest_imported(
    session: Session, project_id: int, ids: list[int] | None = None
) -> dict[int, tuple[list[str], str]]:
    """Per item, its imported label (annotations without a user): the latest of its most trusted
    source (see :func:`_standing`), as (labels, source)."""
    a = Annotation
    ranked = (
        select(
            a.id,
            a.item_id,
            a.source,
            a.labels,
            func.row_number()
            .over(partition_by=(a.item_id, a.source), order_by=a.id.desc())
            .label("rank"),
        )
        .where(
            a.project_id == project_id,
            a.user_id.is_(None),
            a.kind == "label",
            _scope(a.item_id, ids),
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.item_id, ranked.c.source, ranked.c.labels)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.id)
    )
    out: dict[int, tuple[list[str], str]] = {}
    for item_id, source, labels in rows:  # in id order: a later row of equal standing wins
        held = out.get(item_id)
        if held is None or _standing(source) <= _standing(held[1]):
            out[item_id] = (list(labels), source)
    return out


def _standing(source: str) -> int:
    """Imported sources in order of trust: adjudicated, human (e.g. Label Studio annotations
    beside its predictions), then any other (the latest of those)."""
    return {"adjudicated": 0, "human": 1}.get(source, 2)


def _latest_weak(
    session: Session,
    project_id: int,
    sources: tuple[str, ...] = WEAK_SOURCES,
    ids: list[int] | None = None,
) -> dict[int, tuple[str, str, float, int | None]]:
    """Per item, its latest probabilistic label of the first of ``sources`` that has one:
    ``(source, label, confidence, label_model_run_id)``."""
    p = ProbLabel
    ranked = (
        select(
            p.item_id,
            p.source,
            p.label,
            p.confidence,
            p.label_model_run_id,
            func.row_number()
            .over(partition_by=(p.item_id, p.source), order_by=p.id.desc())
            .label("rank"),
        )
        .where(p.project_id == project_id, p.source.in_(sources), _scope(p.item_id, ids))
        .subquery()
    )
    rows = session.execute(select(ranked).where(ranked.c.rank == 1)).all()
    out: dict[int, tuple[str, str, float, int | None]] = {}
    for item_id, source, label, confidence, run_id, _rank in rows:
        held = out.get(item_id)
        if held is None or sources.index(source) < sources.index(held[0]):
            out[item_id] = (source, label, float(confidence), run_id)
    return out


def resolve_labels(
    session: Session, project: Project, weak: bool = True, item_ids: Collection[int] | None = None
) -> ResolvedLabels:
    """Each item's label and its source, by the rules in the module docstring; ``weak=False``
    leaves out the probabilistic labels (rule 5); ``item_ids``: those items only (a page)."""
    ambiguous = {lab.name for lab in project.labels if lab.is_ambiguous}
    ids = None if item_ids is None else list(item_ids)
    out = ResolvedLabels()
    decided = _reviewed(session, project, ids, ambiguous, out)
    for item_id, labels in session.execute(
        select(Item.id, Item.gold_labels).where(
            Item.project_id == project.id, Item.gold_labels.is_not(None), _scope(Item.id, ids)
        )
    ):
        if item_id not in decided and labels:
            out.labels[item_id] = (list(labels), "gold", 1.0)
            decided.add(item_id)

    answers: dict[int, list[list[str]]] = {}
    for item_id, _user, labels in live_labels(session, project.id, ids):
        answers.setdefault(item_id, []).append(labels)
    for item_id, given in answers.items():
        if item_id in decided:
            continue
        decided.add(item_id)  # humans answered: a weaker source never overrides them
        vote = human_vote(given, ambiguous)
        if vote is None:
            out.left_out["annotators tied or only 'ambiguous'"] += 1
        else:
            out.labels[item_id] = (vote[0], vote[1], 1.0)

    for item_id, (labels, source) in _latest_imported(session, project.id, ids).items():
        if item_id in decided:
            continue
        decided.add(item_id)
        chosen = [x for x in labels if x not in ambiguous]
        if chosen:
            out.labels[item_id] = (chosen, source, 1.0)
        else:
            out.left_out["imported as 'ambiguous'"] += 1
    if weak:
        _add_weak(session, project, ids, ambiguous, decided, out)
    return out


def _scope(column: Any, ids: list[int] | None) -> Any:
    """``column IN ids``, or no condition when ``ids`` is None."""
    return true() if ids is None else column.in_(ids)


def _reviewed(
    session: Session,
    project: Project,
    ids: list[int] | None,
    ambiguous: set[str],
    out: ResolvedLabels,
) -> set[int]:
    """Rules 0 and 1: corrections over adjudications, the latest of each; the items decided."""
    a, c = Annotation, LabelCorrection
    for item_id, labels in session.execute(
        select(a.item_id, a.labels)
        .where(a.project_id == project.id, a.kind == "adjudicate", _scope(a.item_id, ids))
        .order_by(a.id)  # the latest adjudication wins
    ):
        chosen = [x for x in labels if x not in ambiguous]
        if chosen:
            out.labels[item_id] = (chosen, "adjudicated", 1.0)
    for item_id, labels in session.execute(
        select(c.item_id, c.labels)
        .where(c.project_id == project.id, _scope(c.item_id, ids))
        .order_by(c.id)
    ):  # a correction outranks an adjudication; the latest correction wins
        out.labels[item_id] = (list(labels), "corrected", 1.0)
    return set(out.labels)


def _add_weak(
    session: Session,
    project: Project,
    ids: list[int] | None,
    ambiguous: set[str],
    decided: set[int],
    out: ResolvedLabels,
) -> None:
    """Rule 5: the undecided items' probabilistic labels, and the label-model runs used."""
    runs = set()
    for item_id, (source, label, confidence, run_id) in _latest_weak(
        session, project.id, ids=ids
    ).items():
        if item_id in decided:
            continue
        labels = label.split("|") if project.multi_label else [label]
        if ambiguous.intersection(labels):
            continue
        out.labels[item_id] = (labels, source, confidence)
        if run_id is not None:
            runs.add(int(run_id))
    out.label_model_runs = sorted(runs)


def predictions(
    session: Session,
    project: Project,
    sources: tuple[str, ...] | None = None,
    item_ids: Collection[int] | None = None,
) -> dict[int, tuple[list[str], str, float]]:
    """Per item, its latest probabilistic label of the first of ``sources`` that has one
    (default :data:`PREDICTION_SOURCES`: its weak label, else the end model's prediction):
    ``(labels, source, confidence)``, whatever the item's resolved label."""
    ids = None if item_ids is None else list(item_ids)
    out = {}
    for item_id, (source, label, confidence, _run) in _latest_weak(
        session, project.id, sources or PREDICTION_SOURCES, ids
    ).items():
        out[item_id] = (label.split("|") if project.multi_label else [label], source, confidence)
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
