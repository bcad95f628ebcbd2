"""One truth about each item's label: every feature (retrain, agreement, export, the overview,
weak supervision) asks this module which label an item has, where it came from and how sure it is.

The first rule that applies gives an item its label:

1. its latest adjudication or reviewer correction (``kind="adjudicate"``): source ``adjudicated``;
2. its known answer, if it is a gold item: source ``gold``;
3. its annotators' current labels (:func:`~labelapp.services.overview.live_labels`): all agree
   and nobody said "ambiguous": ``human``; otherwise a strict majority, where an "ambiguous"
   answer is a vote that cannot win: ``majority``; a tie (one "spam" and one "ambiguous" too):
   no label, the item waits for adjudication;
4. its imported label (an annotation with no user), under the import's source name (e.g.
   ``uci``; Label Studio annotations keep ``human``/``adjudicated`` and win over predictions
   imported beside them); otherwise the latest import counts;
5. its latest probabilistic label (``label_model`` before ``propagation``) with its confidence.

"Ambiguous" is never a class of its own: an item whose only answer is ambiguous has no label.
Labels people gave (:data:`HUMAN_SOURCES`) are what the queue's model trains on and LF accuracy
and the agreement page are measured against; of those, the export puts only unanimous and
adjudicated ones in dev/test (:mod:`augment.splits`), and the others are weak: train only, and
probabilistic ones above a confidence threshold.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import Annotation, Item, ProbLabel, Project
from labelapp.services.overview import live_labels

WEAK_SOURCES = ("label_model", "propagation")  # in order of preference
# Sources whose labels people gave: training data for the queue's model, dev/test material.
HUMAN_SOURCES = frozenset({"adjudicated", "gold", "human", "majority"})


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


def _latest_imported(session: Session, project_id: int) -> dict[int, tuple[list[str], str]]:
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
        .where(a.project_id == project_id, a.user_id.is_(None), a.kind == "label")
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


def _latest_weak(session: Session, project_id: int) -> dict[int, tuple[str, str, float, int | None]]:
    """Per item, its latest probabilistic label, label model before propagation."""
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
        .where(p.project_id == project_id, p.source.in_(WEAK_SOURCES))
        .subquery()
    )
    rows = session.execute(select(ranked).where(ranked.c.rank == 1)).all()
    out: dict[int, tuple[str, str, float, int | None]] = {}
    for item_id, source, label, confidence, run_id, _rank in rows:
        held = out.get(item_id)
        if held is None or WEAK_SOURCES.index(source) < WEAK_SOURCES.index(held[0]):
            out[item_id] = (source, label, float(confidence), run_id)
    return out


def resolve_labels(session: Session, project: Project, weak: bool = True) -> ResolvedLabels:
    """Each item's label and its source, by the rules in the module docstring; ``weak=False``
    leaves out the probabilistic labels (rule 5)."""
    ambiguous = {lab.name for lab in project.labels if lab.is_ambiguous}
    out = ResolvedLabels()
    a = Annotation
    for item_id, labels in session.execute(
        select(a.item_id, a.labels)
        .where(a.project_id == project.id, a.kind == "adjudicate")
        .order_by(a.id)  # the latest adjudication wins
    ):
        chosen = [x for x in labels if x not in ambiguous]
        if chosen:
            out.labels[item_id] = (chosen, "adjudicated", 1.0)
    decided = set(out.labels)
    for item_id, labels in session.execute(
        select(Item.id, Item.gold_labels).where(
            Item.project_id == project.id, Item.gold_labels.is_not(None)
        )
    ):
        if item_id not in decided and labels:
            out.labels[item_id] = (list(labels), "gold", 1.0)
            decided.add(item_id)

    answers: dict[int, list[list[str]]] = {}
    for item_id, _user, labels in live_labels(session, project.id):
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

    for item_id, (labels, source) in _latest_imported(session, project.id).items():
        if item_id in decided:
            continue
        decided.add(item_id)
        chosen = [x for x in labels if x not in ambiguous]
        if chosen:
            out.labels[item_id] = (chosen, source, 1.0)
        else:
            out.left_out["imported as 'ambiguous'"] += 1
    if not weak:
        return out

    runs = set()
    for item_id, (source, label, confidence, run_id) in _latest_weak(session, project.id).items():
        if item_id in decided:
            continue
        labels = label.split("|") if project.multi_label else [label]
        if ambiguous.intersection(labels):
            continue
        out.labels[item_id] = (labels, source, confidence)
        if run_id is not None:
            runs.add(int(run_id))
    out.label_model_runs = sorted(runs)
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
