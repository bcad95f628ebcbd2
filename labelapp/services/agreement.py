"""Agreement between a project's annotators (the adjudication backlog and decisions are in
:mod:`labelapp.services.adjudication`).

Rows -> the library -> results: each annotator's current label per item (their latest row that
is not an adjudication, if it is a label) becomes the long table ``item, annotator, label,
created_at, guideline_version`` that :func:`weak_supervision.agreement.agreement_report` takes.
Only answers with exactly one real label enter it; "ambiguous" answers (and, in multi-label
projects, answers with several labels) are counted beside it. Gold answers come from
``Item.gold_labels``.

Web processes never compute a report: the ``agreement`` job does, in a worker
(:mod:`labelapp.services.agreement_job`), and stores :func:`snapshot_data`, which
:mod:`labelapp.services.agreement_view` serves. Here (the job, the CLI) reports are cached per
project in the process for a few minutes and recomputed at once when an annotation, a gold item,
a model run or a guideline version is added (adjudications do not change the report, only which
of its items are still open).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp import config
from labelapp.models import (
    REVIEWER_ROLES,
    Guideline,
    Item,
    ModelRun,
    Project,
    QueueEntry,
    User,
    utcnow,
)
from labelapp.services import agreement_store, agreement_view
from labelapp.services.adjudication import Backlog
from labelapp.services.aggregation import PickedAggregator, pick_aggregator, with_picked_consensus
from labelapp.services.errors import UserError
from labelapp.services.labels import human_labels
from labelapp.services.projects import (
    current_guideline,
    require_project_role,
    require_writable,
    save_guideline,
)

if TYPE_CHECKING:
    import pandas as pd

    from weak_supervision.agreement.report import AgreementReport

CACHE_SECONDS = 300.0
MAX_GUIDELINE = 100_000
CV_FOLDS = 5
MAX_CACHED = 16
ID_CHUNK = 10_000


# --- the long table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answers:
    """A project's current human answers, split into what the agreement metrics take and the rest.

    ``table``: one row per single-label answer (item, annotator, label, created_at,
    guideline_version); ``ambiguous``: (item, annotator) of each "ambiguous" answer;
    ``multi``: answers with several labels (left out of the metrics); ``by_item``: every current
    answer per item as (annotator, labels, created_at), for showing who said what.
    """

    table: pd.DataFrame
    ambiguous: list[tuple[int, str]]
    multi: int
    by_item: dict[int, list[tuple[str, list[str], datetime]]]


def current_answers(session: Session, project: Project) -> Answers:
    """Each annotator's current label per item: their latest row that is not an adjudication."""
    import pandas as pd

    rows = session.execute(agreement_view.current_answer_rows(project.id)).all()
    ambiguous_names = {lab.name for lab in project.labels if lab.is_ambiguous}
    single: list[tuple] = []
    ambiguous: list[tuple[int, str]] = []
    multi = 0
    by_item: dict[int, list[tuple[str, list[str], datetime]]] = {}
    for item_id, username, labels, created_at, version in rows:
        labels = list(labels)
        by_item.setdefault(item_id, []).append((username, labels, created_at))
        if ambiguous_names & set(labels):
            ambiguous.append((item_id, username))
        elif len(labels) == 1:
            single.append((item_id, username, labels[0], created_at, version))
        else:
            multi += 1
    table = pd.DataFrame(
        single, columns=["item", "annotator", "label", "created_at", "guideline_version"]
    )
    table["created_at"] = pd.to_datetime(table["created_at"], utc=True)
    table["guideline_version"] = table["guideline_version"].astype("Int64")
    return Answers(table, ambiguous, multi, by_item)


def gold_answers(session: Session, project: Project) -> dict[int, str]:
    """item id -> known label, for gold items with one known (non-ambiguous) label."""
    names = {lab.name for lab in project.labels if not lab.is_ambiguous}
    rows = session.execute(
        select(Item.id, Item.gold_labels)
        .join(QueueEntry, QueueEntry.item_id == Item.id)
        .where(QueueEntry.project_id == project.id, QueueEntry.is_gold.is_(True))
    ).all()
    return {
        item_id: gold[0] for item_id, gold in rows if gold and len(gold) == 1 and gold[0] in names
    }


def metric_labels(project: Project) -> list[str]:
    """The project's label order without "ambiguous" (it is counted, not a class)."""
    return [lab.name for lab in project.labels if not lab.is_ambiguous]


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectAgreement:
    """Everything the agreement page, the API and the CLI show about one project.

    ``report`` is None when no item has a single-label answer yet. Its ``disagreements`` hold
    every flagged item; :func:`open_backlog` removes the adjudicated and gold ones.
    """

    project_id: int
    report: AgreementReport | None
    answers: Answers
    gold: dict[int, str]
    by_guideline: pd.DataFrame | None
    over_time: pd.DataFrame | None
    over_time_freq: str | None
    model: dict[str, Any] | None
    min_confidence: float | None
    computed_at: datetime
    seconds: float
    guideline_dates: dict[int, datetime] = field(default_factory=dict)
    # The crowd-aggregation method whose label ``report.consensus`` holds (adjudication
    # suggestions).
    aggregator: PickedAggregator | None = None

    @property
    def n_ambiguous(self) -> int:
        return len(self.answers.ambiguous)

    def ambiguous_per_annotator(self) -> list[tuple[str, int, int]]:
        """(annotator, ambiguous answers, all their answers), most ambiguous first."""
        totals = Counter(
            name for answers in self.answers.by_item.values() for name, _, _ in answers
        )
        counts = Counter(name for _, name in self.answers.ambiguous)
        return sorted(
            ((name, counts[name], totals[name]) for name in counts), key=lambda r: (-r[1], r[0])
        )


_CACHE: dict[tuple, tuple[tuple, float, ProjectAgreement]] = {}
_CACHE_LOCK = threading.Lock()


def project_agreement(
    session: Session,
    project: Project,
    *,
    n_resamples: int = 1000,
    min_confidence: float | None = None,
    with_model: bool = True,
    use_cache: bool = True,
) -> ProjectAgreement:
    """The project's agreement report (cached for :data:`CACHE_SECONDS` unless data changed)."""
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise UserError(f"min_confidence must be a number from 0 to 1, got {min_confidence}")
    if not 0 <= n_resamples <= 10_000:
        raise UserError(f"n_resamples must be a whole number from 0 to 10000, got {n_resamples}")
    key = (str(session.get_bind().url), project.id, n_resamples, min_confidence, with_model)
    stamp = tuple(agreement_store.stamp(session, project))
    if use_cache:
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit and hit[0] == stamp and time.monotonic() - hit[1] < CACHE_SECONDS:
            return hit[2]
    result = _compute(session, project, n_resamples, min_confidence, with_model)
    with _CACHE_LOCK:
        _CACHE[key] = (stamp, time.monotonic(), result)
        while len(_CACHE) > MAX_CACHED:
            del _CACHE[min(_CACHE, key=lambda k: _CACHE[k][1])]
    return result


def _compute(
    session: Session,
    project: Project,
    n_resamples: int,
    min_confidence: float | None,
    with_model: bool,
) -> ProjectAgreement:
    from weak_supervision.agreement import agreement_by, agreement_over_time, agreement_report

    started = time.perf_counter()
    answers = current_answers(session, project)
    gold = gold_answers(session, project)
    labels = metric_labels(project)
    table = answers.table
    report = by_guideline = over_time = freq = model = aggregator = None
    if len(table):
        answered = set(table["item"])
        report = agreement_report(
            table,
            labels=labels,
            gold={item: lab for item, lab in gold.items() if item in answered} or None,
            n_resamples=n_resamples,
            min_confidence=min_confidence,
            random_state=project.queue_seed,
        )
        aggregator = pick_aggregator(table, gold)
        report = with_picked_consensus(report, aggregator)
        versioned = table.dropna(subset=["guideline_version"])
        if len(versioned):
            by_guideline = agreement_by(
                versioned.assign(guideline_version=versioned["guideline_version"].astype(int)),
                "guideline_version",
                labels=labels,
            )
        freq = _period(table["created_at"])
        over_time = agreement_over_time(table, freq=freq, labels=labels)
        if with_model and len(report.human_level.pairs):
            model = model_comparison(session, project, answers, report)
    dates = dict(
        session.execute(
            select(Guideline.version, Guideline.created_at).where(
                Guideline.project_id == project.id
            )
        ).all()
    )
    return ProjectAgreement(
        project_id=project.id,
        report=report,
        answers=answers,
        gold=gold,
        by_guideline=by_guideline,
        over_time=over_time,
        over_time_freq=freq,
        model=model,
        min_confidence=min_confidence,
        computed_at=utcnow(),
        seconds=time.perf_counter() - started,
        guideline_dates=dates,
        aggregator=aggregator,
    )


def _period(times: pd.Series) -> str:
    """Days for a labeling effort of up to three weeks, weeks up to half a year, else months."""
    span = (times.max() - times.min()).days
    return "D" if span <= 21 else "W" if span <= 183 else "M"


# --- human level next to a model -----------------------------------------------------------


def model_comparison(
    session: Session, project: Project, answers: Answers, report: AgreementReport
) -> dict[str, Any]:
    """The queue's model recipe scored on the overlap items, next to the annotators.

    The latest model run's fitted model is not stored, so the same recipe (the queue's features
    and classifier, trained on the items' consensus labels) is refit here with
    :data:`CV_FOLDS`-fold cross-validation: every item is predicted by a model that did not see
    its label. Both the model and each annotator are compared with the same leave-one-out
    consensus of the other annotators (:meth:`HumanLevel.score_model`).
    """
    latest = session.scalar(
        select(ModelRun).where(ModelRun.project_id == project.id).order_by(ModelRun.id.desc())
    )
    run = (
        {
            "id": latest.id,
            "created_at": latest.created_at.isoformat(),
            "n_train": latest.n_train,
            "holdout_accuracy": latest.metrics.get("accuracy"),
            "n_holdout": latest.n_eval,
        }
        if latest is not None
        else None
    )
    base = {
        "latest_run": run,
        "method": (
            f"{'pixel' if project.task_type == 'image' else 'TF-IDF'} features + logistic "
            f"regression (the queue's model), refit with {CV_FOLDS}-fold cross-validation on "
            "the consensus labels; each item is predicted by a model that never saw its label"
        ),
    }
    if project.multi_label:
        return {**base, "available": False, "reason": "single-label projects only"}
    labels = human_labels(session, project)
    overlap = set(report.human_level.pairs["item"].tolist())
    counts = Counter(labels.values())
    if len(counts) < 2 or min(counts.values()) < 2:
        return {
            **base,
            "available": False,
            "reason": "needs consensus labels of at least 2 classes, 2 items each",
        }
    predictions = _cross_validated(session, project, labels, overlap)
    table = report.human_level.score_model(predictions)
    table[["n", "items"]] = table[["n", "items"]].fillna(0).astype(int)
    records = [
        {"label": str(name), **{k: _num(v) for k, v in row.items()}}
        for name, row in table.astype(object).iterrows()
    ]
    return {
        **base,
        "available": True,
        "n_train_items": len(labels),
        "n_items": int(table.loc["overall", "items"]),
        "table": records,
    }


def _num(value: Any) -> Any:
    import math

    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and math.isnan(value) else value


def _cross_validated(
    session: Session, project: Project, labels: dict[int, str], targets: set[int]
) -> pd.Series:
    """Out-of-fold predictions for the labeled items in ``targets``; the others in ``targets``
    (no consensus label, e.g. a tie) are predicted by a model fit on every labeled item."""
    import numpy as np
    import pandas as pd
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from active_learning.models import make_classifier

    ids = sorted(set(labels) | targets)
    X = _features(session, project, ids)
    position = {item_id: i for i, item_id in enumerate(ids)}
    train = np.array([position[i] for i in sorted(labels)])
    y = np.array([labels[i] for i in sorted(labels)])
    estimator = make_classifier(project.queue_seed)
    folds = min(CV_FOLDS, int(min(Counter(y).values())))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=project.queue_seed)
    out_of_fold = cross_val_predict(estimator, X[train], y, cv=splitter)
    predicted = dict(zip(sorted(labels), out_of_fold.tolist(), strict=True))
    rest = [i for i in sorted(targets) if i not in labels]
    if rest:
        full = clone(estimator).fit(X[train], y)
        predicted.update(
            zip(rest, full.predict(X[np.array([position[i] for i in rest])]).tolist(), strict=True)
        )
    return pd.Series({i: predicted[i] for i in sorted(targets)})


def _features(session: Session, project: Project, ids: list[int]) -> Any:
    content = Item.image_path if project.task_type == "image" else Item.text
    rows: dict[int, Any] = {}
    for start in range(0, len(ids), ID_CHUNK):  # PostgreSQL takes at most 65535 parameters
        chunk = ids[start : start + ID_CHUNK]
        rows.update(
            session.execute(
                select(Item.id, content).where(Item.project_id == project.id, Item.id.in_(chunk))
            ).all()
        )
    if project.task_type == "image":
        from active_learning.image_features import pixel_features

        media = config.media_dir()
        return pixel_features([media / rows[i] for i in ids])
    from active_learning.featurize import featurize_texts

    return featurize_texts([rows[i] or "" for i in ids], kind="tfidf")


# --- guideline versions --------------------------------------------------------------------


def new_guideline_version(
    session: Session, project: Project, body: object, author: User
) -> tuple[Guideline, bool]:
    """Save ``body`` as the next guideline version (SMEs, admins); (guideline, created).

    Unchanged text stores nothing and returns the current version, so agreement is not split
    between two versions that say the same.
    """
    require_project_role(session, author, project, *REVIEWER_ROLES)
    require_writable(project, "guideline changes")
    if not isinstance(body, str):
        raise UserError('send the guidelines as Markdown text: {"body": "..."}')
    if len(body) > MAX_GUIDELINE:
        raise UserError(
            f"the guidelines are {len(body):,} characters; keep them under {MAX_GUIDELINE:,}"
        )
    current = current_guideline(session, project)
    if current is not None and current.body.strip() == body.strip():
        return current, False
    guideline = save_guideline(session, project, body, author)
    session.commit()
    return guideline, True


# --- JSON ----------------------------------------------------------------------------------


def _frame_records(frame: pd.DataFrame | None, index_name: str) -> list[dict[str, Any]]:
    if frame is None:
        return []
    table = frame.reset_index(names=index_name)
    return [{str(k): _num(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


def snapshot_data(agreement: ProjectAgreement) -> dict[str, Any]:
    """Everything pages and the API show of a report, as JSON types: what the ``agreement`` job
    stores and :mod:`labelapp.services.agreement_view` serves (the per-item consensus included,
    for the backlog; the answers of its items are read live)."""
    report = agreement.report
    return {
        "project_id": agreement.project_id,
        "computed_at": agreement.computed_at.isoformat(),
        "seconds": agreement.seconds,
        "min_confidence": agreement.min_confidence,
        "answers": {
            "total": sum(len(v) for v in agreement.answers.by_item.values()),
            "single_label": len(agreement.answers.table),
            "multi_label": agreement.answers.multi,
            "ambiguous": [[int(item), name] for item, name in agreement.answers.ambiguous],
            "ambiguous_per_annotator": [list(row) for row in agreement.ambiguous_per_annotator()],
        },
        "gold": sorted(int(item) for item in agreement.gold),
        "report": report.to_dict(include_consensus=True) if report is not None else None,
        "aggregation": agreement.aggregator.as_dict() if agreement.aggregator else None,
        "by_guideline_version": [
            {
                **row,
                "guideline_created_at": (
                    agreement.guideline_dates[row["guideline_version"]].isoformat()
                    if row["guideline_version"] in agreement.guideline_dates
                    else None
                ),
            }
            for row in _frame_records(agreement.by_guideline, "guideline_version")
        ],
        "over_time": {
            "freq": agreement.over_time_freq,
            "periods": _frame_records(agreement.over_time, "period"),
        },
        "model": agreement.model,
        "plots": {name: has_plot(agreement, name) for name in agreement_view.PLOTS},
    }


def agreement_dict(
    session: Session, agreement: ProjectAgreement, max_disagreements: int | None = 50
) -> dict[str, Any]:
    """The numbers of the agreement page as JSON types (the API's and ``--json``'s answer)."""
    return agreement_view.report_json(session, snapshot_data(agreement), max_disagreements)


def open_backlog(
    session: Session,
    agreement: ProjectAgreement,
    include_ambiguous: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> Backlog:
    """The open adjudication backlog of a report just computed (the CLI, tests, benchmarks)."""
    data = snapshot_data(agreement)
    return agreement_view.open_backlog(session, data, include_ambiguous, offset, limit)


# --- plots ---------------------------------------------------------------------------------


def has_plot(result: ProjectAgreement, name: str) -> bool:
    """Whether plot ``name`` (:data:`agreement_view.PLOTS`) has something to show."""
    report = result.report
    if report is None:
        return False
    if name == "kappa":
        return len(report.kappa) >= 2
    if name == "annotators":  # no reliability figure without overlapping items
        return len(report.annotators) >= 1 and report.n_overlap_items > 0
    if name == "time":
        return result.over_time is not None and len(result.over_time) >= 2
    return result.by_guideline is not None and len(result.by_guideline) >= 2


def plot_png(result: ProjectAgreement, name: str) -> bytes:
    """One of the plots as PNG bytes (the library's plots; matplotlib loads here)."""
    from weak_supervision.agreement import plots

    report = result.report
    assert report is not None
    if name == "kappa":
        figure = plots.kappa_heatmap(report)
    elif name == "annotators":
        figure = plots.annotator_plot(report)
    elif name == "time":
        assert result.over_time is not None
        figure = plots.agreement_over_time_plot(result.over_time)
    else:
        assert result.by_guideline is not None
        versions = result.by_guideline.rename(index=lambda v: f"v{v}")
        figure = plots.agreement_over_time_plot(versions.rename_axis("guideline version"))
    return plots.figure_png(figure)
