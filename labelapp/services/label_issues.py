"""Scan a project for labels that are likely wrong: the label-issue job.

Every item with a label people gave (:func:`labelapp.services.labels.human_labels`) is scored
by :func:`active_learning.label_issues.detect_label_issues`: out-of-sample class probabilities
(k-fold cross-validation on the project's features) with confident learning, plus annotators
who disagree, LF votes against the label with a confident label model, and near-duplicates with
another label. A scan is a :class:`LabelIssueRun` with a :class:`LabelIssue` row per scored item
(score, suggested label, reasons); the latest run is what the review shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import session_scope, start_write
from labelapp.models import Item, Job, LabelIssue, LabelIssueRun, ProbLabel, Project
from labelapp.progress import Progress, quiet
from labelapp.services.errors import NotFound, UserError
from labelapp.services.featurizers import FeaturizerSetting, featurizer_setting, text_features
from labelapp.services.jobs import handler
from labelapp.services.labels import human_labels, refresh_item_labels
from labelapp.services.overview import live_labels

if TYPE_CHECKING:
    import numpy as np

MIN_PER_CLASS = 2  # cross-validation needs two labeled items of a class at the least
_CHUNK = 5_000


@dataclass
class _Inputs:
    """What a scan reads: the human labels and every signal beside them."""

    classes: list[str]
    ids: np.ndarray
    given: list[str]
    rows: list[Any]
    votes: Any
    lm_probs: Any
    setting: Any


def _read_inputs(sessions: sessionmaker[Session], project_id: int) -> _Inputs:
    """The project's human labels with their items, LF votes and label-model probabilities."""
    import numpy as np

    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise NotFound(f"no project {project_id}")
        if project.multi_label:
            raise UserError("label-issue scans need a single-label project")
        classes = [lab.name for lab in project.labels if not lab.is_ambiguous]
        labels = human_labels(session, project)
        ids = np.array(sorted(labels), dtype=np.int64)
        given = [labels[int(i)] for i in ids]
        _check(given, classes)
        return _Inputs(
            classes=classes,
            ids=ids,
            given=given,
            rows=_items(session, ids),
            votes=_votes(session, project_id, ids, classes),
            lm_probs=_label_model_probs(session, project_id, ids, len(classes)),
            setting=None if project.task_type == "image" else featurizer_setting(session, project),
        )


def _store_scan(
    sessions: sessionmaker[Session],
    project_id: int,
    inputs: _Inputs,
    issues: Any,
    params: dict[str, Any],
    job_id: int | None,
) -> int:
    """Record the scan and its per-item scores; refresh the items of this scan and the last."""
    ids, flagged = inputs.ids, issues.flagged
    with session_scope(sessions) as session:
        start_write(session)
        previous = latest_run(session, project_id)
        run = LabelIssueRun(
            project_id=project_id,
            job_id=job_id,
            n_scored=len(ids),
            n_flagged=int(flagged.sum()),
            params=params,
        )
        session.add(run)
        session.flush()
        records = [
            {
                "run_id": run.id,
                "item_id": int(ids[i]),
                "label": inputs.given[i],
                "suggested": str(issues.suggested[i]),
                "score": round(float(issues.scores[i]), 6),
                "flagged": bool(flagged[i]),
                "reasons": list(issues.reasons[i]),
            }
            for i in range(len(ids))
        ]
        for start in range(0, len(records), _CHUNK):
            session.execute(insert(LabelIssue), records[start : start + _CHUNK])
        run_id = run.id
        # The review list sorts by the latest scan's scores: the items of both scans change.
        touched = set(ids.tolist())
        if previous is not None:
            touched.update(
                session.scalars(select(LabelIssue.item_id).where(LabelIssue.run_id == previous.id))
            )
        refresh_item_labels(session, session.get(Project, project_id), touched)
    return run_id


def scan(
    sessions: sessionmaker[Session],
    project_id: int,
    *,
    job_id: int | None = None,
    progress: Progress = quiet,
    random_state: int = 0,
) -> dict[str, Any]:
    """Score every human label of the project, store the scan, and return its summary with
    the flagged items, most likely wrong first."""
    from active_learning.label_issues import detect_label_issues

    progress(0.05, "reading labels")
    inputs = _read_inputs(sessions, project_id)
    ids, given, rows = inputs.ids, inputs.given, inputs.rows
    progress(0.2, f"featurizing {len(ids):,} labeled items")
    X, used, pairs = _features(rows, inputs.setting)
    progress(0.4, "cross-validating and scoring")
    issues = detect_label_issues(
        given,
        X=X,
        classes=inputs.classes,
        votes=inputs.votes,
        lm_probs=inputs.lm_probs,
        duplicate_pairs=pairs,
        item_ids=[r[1] for r in rows],
        random_state=random_state,
    )
    progress(0.85, "storing the scan")
    flagged = issues.flagged
    params = {
        "classes": inputs.classes,
        "random_state": random_state,
        "n_estimated": int(issues.n_estimated),
        "features": used,
    }
    run_id = _store_scan(sessions, project_id, inputs, issues, params, job_id)
    top = [
        {
            "id": rows[i][1],
            "item_id": int(ids[i]),
            "label": given[i],
            "suggested": str(issues.suggested[i]),
            "score": round(float(issues.scores[i]), 4),
            "reasons": list(issues.reasons[i]),
        }
        for i in issues.order
        if flagged[i]
    ]
    progress(1.0, f"{int(flagged.sum()):,} of {len(ids):,} labels flagged")
    return {"run_id": run_id, "scored": len(ids), "flagged": int(flagged.sum()), "top": top}


def _check(given: list[str], classes: list[str]) -> None:
    counts = {c: given.count(c) for c in classes}
    enough = [c for c, n in counts.items() if n >= MIN_PER_CLASS]
    if len(enough) < 2:
        raise UserError(
            f"a scan needs at least {MIN_PER_CLASS} labeled items of two classes; the project has "
            + ", ".join(f"{n} {c!r}" for c, n in counts.items())
            + " (labels from annotators, adjudication or gold count)"
        )


def _items(session: Session, ids: np.ndarray) -> list[tuple[int, str, str | None, str | None]]:
    """(id, external id, text, image path) of ``ids``, in that order."""
    found: dict[int, tuple] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = [int(i) for i in ids[start : start + _CHUNK]]
        for row in session.execute(
            select(Item.id, Item.external_id, Item.text, Item.image_path).where(Item.id.in_(chunk))
        ):
            found[row[0]] = tuple(row)
    return [found[int(i)] for i in ids]


def _features(
    rows: list[tuple], setting: FeaturizerSetting | None
) -> tuple[Any, str, np.ndarray | None]:
    """Features of the labeled items (the project's featurizer for text, pixels for images),
    the featurizer used, and near-duplicate pairs (text only): word-shingle MinHash, plus pairs
    of nearly equal sentence embeddings when the project embeds (paraphrases MinHash misses)."""
    if setting is None:
        from active_learning.image_features import pixel_features

        media = config.media_dir()
        return pixel_features([media / r[3] for r in rows]), "pixels", None
    import numpy as np

    from augment.duplicates import near_duplicate_pairs

    texts = [r[2] or "" for r in rows]
    features = text_features(setting, texts)
    pairs = near_duplicate_pairs(texts)
    if features.used == "embeddings":
        from active_learning.near_duplicates import vector_near_pairs

        pairs = np.unique(np.vstack([pairs.reshape(-1, 2), vector_near_pairs(features.X)]), axis=0)
    return features.X, features.used, pairs


def _votes(session: Session, project_id: int, ids: np.ndarray, classes: list[str]) -> np.ndarray:
    """Per labeled item, how many annotators currently say each class."""
    import numpy as np

    position = {int(item_id): i for i, item_id in enumerate(ids)}
    column = {c: j for j, c in enumerate(classes)}
    votes = np.zeros((len(ids), len(classes)))
    for item_id, _user, answer in live_labels(session, project_id):
        row = position.get(item_id)
        if row is not None and len(answer) == 1 and answer[0] in column:
            votes[row, column[answer[0]]] += 1
    return votes


def _label_model_probs(
    session: Session, project_id: int, ids: np.ndarray, n_classes: int
) -> np.ndarray | None:
    """The latest label-model probabilities per labeled item (NaN rows: no LF voted), read for
    the labeled items only, ``_CHUNK`` at a time (a 10M-item project has millions of
    label-model rows; the driver would hold every one it is sent)."""
    import numpy as np

    position = {int(item_id): i for i, item_id in enumerate(ids)}
    out = np.full((len(ids), n_classes), np.nan)
    seen = False
    for start in range(0, len(ids), _CHUNK):
        chunk = [int(i) for i in ids[start : start + _CHUNK]]
        latest = (
            select(func.max(ProbLabel.id))
            .where(
                ProbLabel.project_id == project_id,
                ProbLabel.source == "label_model",
                ProbLabel.item_id.in_(chunk),
            )
            .group_by(ProbLabel.item_id)
        )
        rows = session.execute(
            select(ProbLabel.item_id, ProbLabel.probs).where(ProbLabel.id.in_(latest))
        )
        for item_id, probs in rows:
            row = position.get(item_id)
            if row is not None and probs is not None and len(probs) == n_classes:
                out[row] = probs
                seen = True
    return out if seen else None


@handler("label_issues")
def _job(sessions: sessionmaker[Session], job: Job, progress: Progress) -> dict[str, Any]:
    result = scan(sessions, job.project_id, job_id=job.id, progress=progress)
    return {**result, "top": result["top"][:50]}


def latest_run(session: Session, project_id: int) -> LabelIssueRun | None:
    return session.scalar(
        select(LabelIssueRun)
        .where(LabelIssueRun.project_id == project_id)
        .order_by(LabelIssueRun.id.desc())
        .limit(1)
    )
