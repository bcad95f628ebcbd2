"""Every place a label's name is stored, rewritten when the label is renamed or merged into
another: one home, so that no store keeps the old name.

Names are stored as lists (answers and adjudications, which are answers: ``Annotation.labels``;
gold answers: ``Item.gold_labels``; reviewers' corrections and the labels they replaced), as
single names (probabilistic labels, imported weak labels and label-issue scans, a multi-label
item's names joined by ``|``; keyword and regex labeling functions' ``spec["label"]``) and, for
labeling functions' votes, as a class index: a rename keeps the index, a merge moves the
source's votes to the target's. Flags and adjudication requests name no label. The caller
(:mod:`labelapp.services.label_sets`) owns the transaction and records the counts in the label
set's history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from labelapp.models import (
    Annotation,
    Item,
    LabelCorrection,
    LabelingFunction,
    LabelIssue,
    LabelIssueRun,
    ProbLabel,
    Project,
    WeakLabel,
)

Rewrite = Callable[[list[str]], list[str]]
JOINED = "|"  # how single-name stores write a multi-label item's names

# The stores of label lists, by the name the history counts them under.
LIST_STORES: dict[str, tuple[Any, InstrumentedAttribute]] = {
    "answers": (Annotation, Annotation.labels),
    "gold_answers": (Item, Item.gold_labels),
    "corrections": (LabelCorrection, LabelCorrection.labels),
    "corrected_labels": (LabelCorrection, LabelCorrection.previous_labels),
}


def renamer(old: str, new: str) -> Rewrite:
    """``old`` becomes ``new`` in a list of names, without repeating ``new``."""

    def rewrite(labels: list[str]) -> list[str]:
        out: list[str] = []
        for name in labels:
            name = new if name == old else name
            if name not in out:
                out.append(name)
        return out

    return rewrite


def rewrite_everywhere(
    session: Session, project: Project, old: str, new: str, *, merge: bool = False
) -> dict[str, int]:
    """``old`` becomes ``new`` in every store of the project (``merge``: ``old``'s LF votes go
    to ``new`` too); how many rows of each store changed (stores without a change left out)."""
    rewrite = renamer(old, new)
    counts = {
        name: _rewrite_lists(session, project, model, column, rewrite)
        for name, (model, column) in LIST_STORES.items()
    }
    runs = select(LabelIssueRun.id).where(LabelIssueRun.project_id == project.id)
    counts["probabilistic_labels"] = _rewrite_names(
        session, ProbLabel.label, ProbLabel.project_id == project.id, rewrite
    )
    counts["label_issues"] = sum(
        _rewrite_names(session, column, LabelIssue.run_id.in_(runs), rewrite)
        for column in (LabelIssue.label, LabelIssue.suggested)
    )
    counts["labeling_functions"] = _rewrite_lfs(session, project, rewrite)
    if merge:
        counts["lf_votes"] = _merge_votes(session, project, old, new)
    return {name: n for name, n in counts.items() if n}


def _rewrite_lists(
    session: Session, project: Project, model: Any, column: InstrumentedAttribute, rewrite: Rewrite
) -> int:
    updates = []
    rows = session.execute(
        select(model.id, column).where(model.project_id == project.id, column.is_not(None))
    )
    for row_id, labels in rows:
        new = rewrite(list(labels or []))
        if new != list(labels or []):
            updates.append({"row_id": row_id, "new_labels": new})
    if updates:
        stmt = (
            update(model)
            .where(model.id == bindparam("row_id"))
            .values({column.key: bindparam("new_labels")})
        )
        session.connection().execute(stmt, updates)
    return len(updates)


def _rewrite_names(
    session: Session, column: InstrumentedAttribute, where: Any, rewrite: Rewrite
) -> int:
    """A single-name column: one UPDATE per distinct stored value that changes."""
    changed = 0
    for (value,) in session.execute(select(column).where(where).distinct()):
        if value is None:
            continue
        new = JOINED.join(rewrite(value.split(JOINED)))
        if new != value:
            stmt = update(column.class_).where(where, column == value).values({column.key: new})
            stmt = stmt.execution_options(synchronize_session=False)
            changed += session.execute(stmt).rowcount or 0
    return changed


def _rewrite_lfs(session: Session, project: Project, rewrite: Rewrite) -> int:
    changed = 0
    for lf in session.scalars(
        select(LabelingFunction).where(LabelingFunction.project_id == project.id)
    ):
        label = (lf.spec or {}).get("label")
        if isinstance(label, str):
            new = rewrite([label])
            if new and new[0] != label:
                lf.spec = {**lf.spec, "label": new[0]}
                changed += 1
    return changed


def _merge_votes(session: Session, project: Project, source: str, target: str) -> int:
    """LF votes are class indexes over the non-ambiguous labels (retired ones keep theirs):
    votes for ``source`` become votes for ``target``."""
    classes = [label.name for label in project.labels if not label.is_ambiguous]
    if project.multi_label or source not in classes or target not in classes:
        return 0
    lfs = select(LabelingFunction.id).where(LabelingFunction.project_id == project.id)
    moved = session.execute(
        update(WeakLabel)
        .where(WeakLabel.lf_id.in_(lfs), WeakLabel.vote == classes.index(source))
        .values(vote=classes.index(target))
        .execution_options(synchronize_session=False)
    )
    return moved.rowcount or 0
