"""Weak supervision for a project: labeling functions (versioned), their votes, LF analysis, the
label model and label propagation, with probabilistic labels stored per item with their source.
Beside it: :mod:`~labelapp.services.weak_dask` (pandas or Dask applier),
:mod:`~labelapp.services.weak_cache` (the analysis, cached) and
:mod:`~labelapp.services.weak_end_model` (the end model, the ``train`` step).

The library (:mod:`weak_supervision`) does the work; this module turns rows into a DataFrame and
vote matrices and writes the results back. LFs vote a class index: index ``i`` is the ``i``-th
non-'ambiguous' label of the project in display order (declarative specs are stored with the
label's *name*, so reordering nothing breaks them).

Python LFs are created from files by ``labelapp lf load`` or from the LF page's editor
(:mod:`labelapp.services.lf_versions`) and never executed in a labelapp process: loading,
previewing and applying them run them in the sandbox
(:mod:`labelapp.services.lf_guard`, :mod:`weak_supervision.sandbox`), a separate process with
CPU, wall-time and memory limits, no network and no files but its own. Regex LFs whose pattern
RE2 cannot run use Python's ``re`` in a child process with a time limit, never in a request's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import (
    Item,
    LabelingFunction,
    LabelModelRun,
    ProbLabel,
    Project,
    User,
    WeakLabel,
    utcnow,
)
from labelapp.services import lf_guard, weak_cache
from labelapp.services.bulk import Constant, bulk_insert_columns, sqlite_timestamp
from labelapp.services.errors import NotFound, UserError
from labelapp.services.featurizers import featurizer_setting, text_features
from labelapp.services.queue import start_write
from labelapp.services.weak_dask import choose_applier, run_applier

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


DECLARATIVE_KINDS = ("keyword", "regex", "metadata")
PREVIEW_ITEMS = 5000
PREVIEW_HITS = 20
SEED_THRESHOLD = 0.7
Progress = Callable[[float, str], None]


def _quiet(fraction: float, message: str) -> None:
    """The default progress callback: report nothing."""


# --- labels and items --------------------------------------------------------------------------


def class_names(project: Project) -> list[str]:
    """The classes LFs vote for, in order (index = vote); 'ambiguous' is never a class."""
    if project.multi_label:
        raise UserError("weak supervision works on single-label projects only")
    names = [lab.name for lab in project.labels if not lab.is_ambiguous]
    if len(names) < 2:
        raise UserError("weak supervision needs a project with at least two labels")
    return names


def items_frame(session: Session, project_id: int, limit: int | None = None) -> pd.DataFrame:
    """The project's items in import order: ``item_id``, ``external_id``, ``text`` and one
    column per metadata key (what metadata LFs read)."""
    import numpy as np
    import pandas as pd

    query = (
        select(Item.id, Item.external_id, Item.text, Item.meta)
        .where(Item.project_id == project_id)
        .order_by(Item.position)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    frame = pd.DataFrame(
        {
            "item_id": np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            "external_id": [r[1] for r in rows],
            "text": [r[2] for r in rows],
        }
    )
    metas = [r[3] or {} for r in rows]
    keys = sorted({k for m in metas for k in m} - set(frame.columns))
    for key in keys:
        frame[key] = [m.get(key) for m in metas]
    return frame


def human_label_index(session: Session, project: Project, item_ids: np.ndarray) -> np.ndarray:
    """One class index per item (-1 = no human label), from the one label rule
    (:func:`labelapp.services.labels.human_labels`)."""
    import numpy as np

    from labelapp.services.labels import human_labels

    index = {name: i for i, name in enumerate(class_names(project))}
    labels = human_labels(session, project)
    return np.fromiter(
        (index.get(labels.get(int(i), ""), -1) for i in item_ids),
        dtype=np.int64,
        count=len(item_ids),
    )


# --- saving, listing, versions -----------------------------------------------------------------


def library_spec(lf: LabelingFunction, classes: list[str]) -> dict[str, Any]:
    """The stored spec as the library takes it (label name -> class index)."""
    spec = {**lf.spec, "kind": lf.kind, "name": lf.name}
    if lf.kind == "python":
        return {"kind": "python", "name": lf.name, "source": lf.source or ""}
    label = spec.get("label")
    if label not in classes:
        raise UserError(
            f"LF {lf.name!r} votes {label!r}, which is not a label of this project "
            f"({', '.join(classes)}): edit it"
        )
    spec["label"] = classes.index(label)
    return spec


def validate_spec(project: Project, spec: Any) -> dict[str, Any]:
    """A declarative spec checked by the library; its ``label`` is a label name of the project.

    Returns the spec to store (normalised by the library, the label as its name)."""
    from weak_supervision.lfs import lf_from_spec

    if not isinstance(spec, dict):
        raise UserError("an LF is a JSON object with kind, name, label and the kind's fields")
    kind = spec.get("kind")
    if kind == "python":
        raise UserError(
            "Python LFs are not accepted here: save their code with POST /api/projects/{id}/lfs/python "
            "(it runs in the sandbox), or load a file with `labelapp lf load FILE.py --project NAME`"
        )
    if kind not in DECLARATIVE_KINDS:
        raise UserError(f"unknown LF kind {kind!r}: use one of {', '.join(DECLARATIVE_KINDS)}")
    classes = class_names(project)
    label = spec.get("label")
    if label not in classes:
        raise UserError(
            f"LF {spec.get('name', '')!r}: label {label!r} is not one of this project's labels "
            f"({', '.join(classes)})"
        )
    try:
        lf = lf_from_spec({**spec, "label": classes.index(label)}, n_classes=len(classes))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    stored = lf.to_spec()
    stored["label"] = label
    return stored


def latest_lfs(
    session: Session, project_id: int, active_only: bool = False
) -> list[LabelingFunction]:
    """The latest version of each LF of the project, by name (deleted LFs left out)."""
    lf = LabelingFunction
    newest = (
        select(lf.name, func.max(lf.version).label("v"))
        .where(lf.project_id == project_id)
        .group_by(lf.name)
        .subquery()
    )
    query = (
        select(lf)
        .join(newest, (lf.name == newest.c.name) & (lf.version == newest.c.v))
        .where(lf.project_id == project_id, lf.deleted_at.is_(None))
        .order_by(lf.name)
    )
    if active_only:
        query = query.where(lf.active.is_(True))
    return list(session.scalars(query))


def _latest(session: Session, project_id: int, name: str) -> LabelingFunction | None:
    return session.scalar(
        select(LabelingFunction)
        .where(LabelingFunction.project_id == project_id, LabelingFunction.name == name)
        .order_by(LabelingFunction.version.desc())
        .limit(1)
    )


def _store(
    session: Session,
    project: Project,
    name: str,
    kind: str,
    spec: dict[str, Any],
    source: str | None,
    author: User | None,
    description: str = "",
) -> tuple[LabelingFunction, bool]:
    """Save a new version unless the latest one is identical; returns (row, created)."""
    start_write(session)
    previous = _latest(session, project.id, name)
    if (
        previous is not None
        and previous.kind == kind
        and previous.spec == spec
        and (previous.source == source)
    ):
        if not previous.active:
            previous.active = True
        return previous, False
    if previous is not None:
        previous.active = False
    row = LabelingFunction(
        project_id=project.id,
        name=name,
        kind=kind,
        spec=spec,
        source=source,
        description=description,
        version=(previous.version + 1) if previous is not None else 1,
        active=True,
        author_id=author.id if author is not None else None,
    )
    session.add(row)
    session.flush()
    return row, True


def save_lf(
    session: Session, project: Project, spec: Any, author: User | None, description: str = ""
) -> tuple[LabelingFunction, bool]:
    """Validate and save a declarative LF; an edit of an existing name is its next version.
    A regex that Python's ``re`` must run is first tried on the preview sample, within the
    preview time limit: one that backtracks too long is refused, not saved."""
    stored = validate_spec(project, spec)
    if stored["kind"] == "regex":
        _check_pattern(session, project, stored)
    return _store(
        session, project, stored["name"], stored["kind"], stored, None, author, description
    )


def _check_pattern(session: Session, project: Project, stored: dict[str, Any]) -> None:
    """Refuse a regex LF whose Python-``re`` fallback exceeds the preview time limit on the
    preview sample (patterns RE2 runs whole are linear-time: not tried)."""
    from weak_supervision import re2

    plan = re2.translate(stored["pattern"], stored.get("ignore_case", False))
    if plan is not None and not plan.hazards:
        return
    frame = items_frame(session, project.id, limit=PREVIEW_ITEMS)
    if not frame.empty:
        _regex_guarded_votes(project, stored, frame)


def _regex_guarded_votes(project: Project, stored: dict[str, Any], frame: pd.DataFrame) -> Any:
    """The votes of the declarative LF ``stored`` on ``frame``, Python-``re`` fallbacks within
    the preview time limit; a timeout or a bad LF is a UserError."""
    from weak_supervision import regex_guard
    from weak_supervision.apply import apply_lfs as library_apply
    from weak_supervision.lfs import lf_from_spec

    classes = class_names(project)
    lf = lf_from_spec({**stored, "label": classes.index(stored["label"])})
    seconds = lf_guard.regex_seconds("preview")
    try:
        with regex_guard.time_limit(seconds):
            return library_apply([lf], frame)[:, 0]
    except regex_guard.RegexTimeout:
        raise UserError(
            f"LF {stored['name']!r}: "
            + regex_guard.timeout_message(
                stored["pattern"], seconds, len(frame), "of the preview sample"
            )
            + f" (the limit is {lf_guard.regex_hint('preview')})"
        ) from None
    except ValueError as exc:
        raise UserError(str(exc)) from None


def load_python_lfs(
    session: Session, project: Project, path: str | Path, author: User | None
) -> list[tuple[LabelingFunction, bool]]:
    """Store each Snorkel LF the ``.py`` file defines (kind python, source = the file's code).

    The file is loaded in the sandbox to find its LFs, never in this process."""
    class_names(project)
    path = Path(path)
    if path.suffix != ".py":
        raise UserError(f"{path}: expected a .py file of labeling functions")
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    source = path.read_text(encoding="utf-8")
    names = lf_guard.python_lf_names(source)
    return [
        _store(
            session,
            project,
            name,
            "python",
            {"file": path.name},
            source,
            author,
            f"loaded from {path.name}",
        )
        for name in names
    ]


def get_lf(session: Session, project_id: int, lf_id: int) -> LabelingFunction:
    row = session.get(LabelingFunction, lf_id)
    if row is None or row.project_id != project_id:
        raise NotFound(f"no labeling function {lf_id} in this project")
    return row


def set_active(session: Session, project_id: int, lf_id: int, active: bool) -> LabelingFunction:
    """Switch an LF on or off (its latest version; earlier versions stay off)."""
    start_write(session)
    row = get_lf(session, project_id, lf_id)
    latest = _latest(session, project_id, row.name)
    if latest is not None and latest.id != row.id:
        raise UserError(
            f"LF {row.name!r} version {row.version} was replaced by version {latest.version}: "
            "switch that one"
        )
    row.active = active
    session.commit()
    return row


def versions(session: Session, project_id: int, name: str) -> list[LabelingFunction]:
    return list(
        session.scalars(
            select(LabelingFunction)
            .where(LabelingFunction.project_id == project_id, LabelingFunction.name == name)
            .order_by(LabelingFunction.version)
        )
    )


def lf_json(lf: LabelingFunction) -> dict[str, Any]:
    return {
        "id": lf.id,
        "name": lf.name,
        "kind": lf.kind,
        "spec": lf.spec,
        "source": lf.source,
        "description": lf.description,
        "version": lf.version,
        "active": lf.active,
        "author_id": lf.author_id,
        "created_at": lf.created_at.isoformat(),
    }


# --- preview -----------------------------------------------------------------------------------


def preview(
    session: Session, project: Project, spec: Any, sample: int = PREVIEW_ITEMS
) -> dict[str, Any]:
    """What an unsaved declarative LF would do on the first ``sample`` items: its first hits,
    coverage, and empirical accuracy against the human labels among them."""
    import numpy as np

    stored = validate_spec(project, spec)
    classes = class_names(project)
    frame = items_frame(session, project.id, limit=sample)
    if frame.empty:
        raise UserError("the project has no items yet: import some first")
    votes = _regex_guarded_votes(project, stored, frame)
    human = human_label_index(session, project, frame["item_id"].to_numpy())
    hit = np.flatnonzero(votes >= 0)
    judged = hit[human[hit] >= 0]
    correct = int((human[judged] == votes[judged]).sum())
    return {
        "spec": stored,
        "n_items": len(frame),
        "n_hits": len(hit),
        "coverage": len(hit) / len(frame),
        "n_labeled_hits": len(judged),
        "correct": correct,
        "emp_accuracy": correct / len(judged) if len(judged) else None,
        "hits": [
            {
                "item_id": int(frame["item_id"].iat[i]),
                "external_id": frame["external_id"].iat[i],
                "text": (frame["text"].iat[i] or "")[:300],
                "human": classes[human[i]] if human[i] >= 0 else None,
            }
            for i in hit[:PREVIEW_HITS]
        ],
    }


# --- votes -------------------------------------------------------------------------------------


def _timestamp(session: Session) -> str:
    now = utcnow()
    return sqlite_timestamp(now) if session.get_bind().dialect.name == "sqlite" else now.isoformat()


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    return project


def apply_lfs(
    sessions: sessionmaker[Session],
    project_id: int,
    progress: Progress = _quiet,
    job_id: int | None = None,
) -> dict[str, Any]:
    """Run the project's active LFs over all its items and replace its stored votes; an
    ``apply`` run row records which LFs ran, on which applier (pandas or Dask, see
    :mod:`labelapp.services.weak_dask`), and what they covered.

    Declarative LFs run in process (regex fallbacks to Python's ``re`` in a time-limited child
    process), Python LFs in the sandbox: call it from the job worker or the CLI."""
    import numpy as np

    from weak_supervision import regex_guard
    from weak_supervision.lfs import lf_from_spec

    with session_scope(sessions) as session:
        project = _project(session, project_id)
        classes = class_names(project)
        rows = latest_lfs(session, project_id, active_only=True)
        if not rows:
            raise UserError("no active labeling functions: write or load some first")
        specs = [(r.id, r.name, library_spec(r, classes)) for r in rows]
        frame = items_frame(session, project_id)
    progress(0.1, f"{len(specs)} LFs over {len(frame):,} items")
    declarative = [
        (j, lf_from_spec(spec, n_classes=len(classes)))
        for j, (_, _, spec) in enumerate(specs)
        if spec["kind"] != "python"
    ]
    python = [
        (j, name, spec["source"])
        for j, (_, name, spec) in enumerate(specs)
        if spec["kind"] == "python"
    ]
    applier = choose_applier(len(frame))
    L = np.full((len(frame), len(specs)), -1, dtype=np.int64)
    if declarative and len(frame):
        progress(0.15, f"applying on {applier.describe()}")
        seconds = lf_guard.regex_seconds("apply")
        try:
            with regex_guard.time_limit(seconds):
                L[:, [j for j, _ in declarative]] = run_applier(
                    applier, [lf for _, lf in declarative], frame
                )
        except regex_guard.RegexTimeout as exc:
            raise UserError(f"{exc} (the limit is {lf_guard.regex_hint('apply')})") from None
    if python and len(frame):
        progress(0.35, f"running {len(python)} Python LFs in the sandbox")
        L[:, [j for j, _, _ in python]] = lf_guard.apply_python(
            [(name, source) for _, name, source in python], frame
        )
    lfs = declarative + python
    n_classes = len(classes)
    if L.size and int(L.max()) >= n_classes:
        j = int(np.argwhere(L.max(axis=0) >= n_classes)[0][0])
        raise UserError(
            f"LF {specs[j][1]!r} voted {int(L.max())}, but the project has {len(classes)} classes "
            f"(0..{len(classes) - 1}: {', '.join(classes)})"
        )
    progress(0.6, f"storing votes (applied on {applier.describe()})")
    rows_i, cols = np.nonzero(L >= 0)
    lf_ids = np.array([s[0] for s in specs], dtype=np.int64)
    item_ids = frame["item_id"].to_numpy()
    covered = int((L >= 0).any(axis=1).sum()) if L.size else 0
    result = {
        "n_lfs": len(lfs),
        "n_items": len(frame),
        "n_votes": len(rows_i),
        "n_covered": covered,
        "applier": applier.describe(),
    }
    with session_scope(sessions) as session:
        start_write(session)
        session.add(
            LabelModelRun(
                project_id=project_id,
                kind="apply",
                lf_ids=[int(i) for i in lf_ids],
                params={"engine": applier.engine, "scheduler": applier.scheduler},
                metrics=result,
                job_id=job_id,
            )
        )
        project_lfs = select(LabelingFunction.id).where(LabelingFunction.project_id == project_id)
        session.execute(delete(WeakLabel).where(WeakLabel.lf_id.in_(project_lfs)))
        bulk_insert_columns(
            session,
            "weak_labels",
            {
                "item_id": item_ids[rows_i],
                "lf_id": lf_ids[cols],
                "vote": L[rows_i, cols].astype(np.int64),
            },
            len(rows_i),
        )
    return result


def vote_matrix(
    session: Session, project_id: int, lfs: list[LabelingFunction] | None = None
) -> tuple[np.ndarray, list[LabelingFunction], pd.DataFrame]:
    """Stored votes of ``lfs`` (default: the active latest versions) as an ``(items, lfs)``
    matrix in import order, with the LFs and the items."""
    import numpy as np
    import pandas as pd

    lfs = latest_lfs(session, project_id, active_only=True) if lfs is None else lfs
    frame = items_frame(session, project_id)
    L = np.full((len(frame), len(lfs)), -1, dtype=np.int16)
    if lfs and len(frame):
        row = pd.Series(np.arange(len(frame)), index=frame["item_id"].to_numpy())
        col = {lf.id: j for j, lf in enumerate(lfs)}
        votes = session.execute(
            select(WeakLabel.item_id, WeakLabel.lf_id, WeakLabel.vote).where(
                WeakLabel.lf_id.in_(list(col))
            )
        ).all()
        if votes:
            arr = np.array(votes, dtype=np.int64)
            L[row.loc[arr[:, 0]].to_numpy(), [col[i] for i in arr[:, 1]]] = arr[:, 2]
    return L, lfs, frame


# --- analysis ----------------------------------------------------------------------------------


@dataclass
class Analysis:
    classes: list[str]
    n_items: int
    n_labeled: int
    n_covered: int
    rows: list[dict[str, Any]]


def _number(value: Any) -> float | None:
    import numpy as np

    value = float(value)
    return None if np.isnan(value) else value


def analysis(session: Session, project: Project) -> Analysis:
    """:func:`compute_analysis`, recomputed only when votes, LFs, items or human labels changed
    (:mod:`labelapp.services.weak_cache`); the result is shared, read-only."""
    return weak_cache.cached(session, project, compute_analysis)


def compute_analysis(session: Session, project: Project, n_examples: int = 5) -> Analysis:
    """The library's LF analysis of the stored votes against the human labels, per active LF,
    with examples of hits and of disagreements with humans. LFs not applied yet show no votes."""
    from weak_supervision.analysis import lf_analysis, lf_examples

    classes = class_names(project)
    L, lfs, frame = vote_matrix(session, project.id)
    human = human_label_index(session, project, frame["item_id"].to_numpy())
    if not lfs or not len(frame):
        return Analysis(classes, len(frame), int((human >= 0).sum()), 0, [])
    table = lf_analysis(L, human, [lf.name for lf in lfs])
    texts = frame["text"].fillna("").tolist()
    applied = {
        lf_id
        for (lf_id,) in session.execute(
            select(WeakLabel.lf_id).where(WeakLabel.lf_id.in_([lf.id for lf in lfs])).distinct()
        )
    }

    def examples(df: pd.DataFrame) -> list[dict[str, Any]]:
        return [
            {
                "item_id": int(frame["item_id"].iat[int(r.item)]),
                "text": r.text[:300],
                "vote": classes[int(r.vote)],
                "human": classes[int(r.human)] if r.human >= 0 else None,
            }
            for r in df.itertuples()
        ]

    rows = []
    for j, lf in enumerate(lfs):
        stats = table.iloc[j]
        found = lf_examples(L, j, texts, human, n=n_examples)
        rows.append(
            {
                **lf_json(lf),
                "applied": lf.id in applied,
                "polarity": [classes[int(p)] for p in stats["polarity"] if int(p) < len(classes)],
                "coverage": float(stats["coverage"]),
                "overlaps": float(stats["overlaps"]),
                "conflicts": float(stats["conflicts"]),
                "correct": int(stats["correct"]),
                "incorrect": int(stats["incorrect"]),
                "emp_accuracy": _number(stats["emp_accuracy"]),
                "hits": examples(found["hits"]),
                "disagreements": examples(found["disagreements"]),
            }
        )
    covered = int((L >= 0).any(axis=1).sum())
    return Analysis(classes, len(frame), int((human >= 0).sum()), covered, rows)


# --- label model and propagation ---------------------------------------------------------------


def _replace_prob_labels(
    session: Session,
    project_id: int,
    source: str,
    run_id: int,
    item_ids: np.ndarray,
    probs: np.ndarray,
    classes: list[str],
) -> None:
    """The project's probabilistic labels from ``source`` become those of this run."""
    session.execute(
        delete(ProbLabel).where(ProbLabel.project_id == project_id, ProbLabel.source == source)
    )
    best = probs.argmax(axis=1)
    bulk_insert_columns(
        session,
        "prob_labels",
        {
            "item_id": item_ids,
            "project_id": Constant(project_id),
            "source": Constant(source),
            "label_model_run_id": Constant(run_id),
            "model_run_id": Constant(None),
            "probs": [json.dumps([round(float(p), 6) for p in row]) for row in probs],
            "label": [classes[int(b)] for b in best],
            "confidence": probs.max(axis=1).astype(float),
            "created_at": Constant(_timestamp(session)),
        },
        len(item_ids),
    )


def fit_label_model(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Progress = _quiet,
) -> LabelModelRun:
    """Fit the default label-model pipeline on the stored votes; the human labels choose the
    aggregator and the class balance. Items some LF voted on get a ``label_model`` ProbLabel."""
    from weak_supervision.majority import probs_to_preds
    from weak_supervision.metrics import score
    from weak_supervision.zoo import USES_LABELS, select_label_model

    with session_scope(sessions) as session:
        project = _project(session, project_id)
        classes = class_names(project)
        L, lfs, frame = vote_matrix(session, project_id)
        human = human_label_index(session, project, frame["item_id"].to_numpy())
    if not lfs:
        raise UserError("no active labeling functions: write or load some first")
    covered = (L >= 0).any(axis=1)
    if not covered.any():
        raise UserError("no stored votes: apply the labeling functions first")
    progress(0.2, f"fitting on {int(covered.sum()):,} covered items, {len(lfs)} LFs")
    k = len(classes)
    labeled = human >= 0
    # The zoo (Snorkel, majority votes, weighted majority, Dawid-Skene, FlyingSquid,
    # semi-supervised...), one chosen by cross-validation on the project's human labels.
    choice = select_label_model(L, human, k)
    probs = choice.predict_proba(L)
    metrics: dict[str, Any] = {
        "chosen": choice.name,
        "chosen_because": choice.reason,
        "chosen_reads_labels": choice.name in USES_LABELS,  # then n_evaluated is in-sample
        "candidates": choice.scores,
        "n_items": len(L),
        "n_covered": int(covered.sum()),
        "coverage": float(covered.mean()),
        "n_human": int(labeled.sum()),
    }
    judged = labeled & covered
    metrics["n_evaluated"] = int(judged.sum())
    if judged.any():
        metrics.update(score(human[judged], probs_to_preds(probs[judged]), k))
    progress(0.7, "storing probabilistic labels")
    with session_scope(sessions) as session:
        start_write(session)
        run = LabelModelRun(
            project_id=project_id,
            kind="label_model",
            lf_ids=[lf.id for lf in lfs],
            params={
                "classes": classes,
                "class_balance": None
                if choice.class_balance is None
                else [float(x) for x in choice.class_balance],
            },
            metrics=metrics,
            job_id=job_id,
        )
        session.add(run)
        session.flush()
        _replace_prob_labels(
            session,
            project_id,
            "label_model",
            run.id,
            frame["item_id"].to_numpy()[covered],
            probs[covered],
            classes,
        )
        session.expunge(run)
    return run


def label_model_matrix(
    session: Session, project_id: int, frame: pd.DataFrame, k: int
) -> tuple[np.ndarray, int | None]:
    """The stored label-model probabilities as an ``(items, k)`` matrix in ``frame``'s order
    (zero rows: no label), and the latest run that produced them (None: there are none)."""
    import numpy as np
    import pandas as pd

    rows = session.execute(
        select(ProbLabel.item_id, ProbLabel.probs, ProbLabel.label_model_run_id).where(
            ProbLabel.project_id == project_id, ProbLabel.source == "label_model"
        )
    ).all()
    probs = np.zeros((len(frame), k))
    if not rows:
        return probs, None
    widths = {len(r[1]) for r in rows}
    if widths != {k}:
        raise UserError(
            f"the label model was fitted for {sorted(widths)} classes but the project has {k}: "
            "apply the LFs and fit the label model again"
        )
    position = pd.Series(np.arange(len(frame)), index=frame["item_id"].to_numpy())
    probs[position.loc[[r[0] for r in rows]].to_numpy()] = np.array([r[1] for r in rows], float)
    return probs, max(r[2] for r in rows)


class TextData(NamedTuple):
    """What propagation and the end model learn from, in the items' import order: the class
    names, the items, each item's human label index (-1: none), the label-model probabilities
    (zero rows: no label) and the run that produced them (None: the label model never ran)."""

    classes: list[str]
    frame: pd.DataFrame
    human: np.ndarray
    lm_probs: np.ndarray
    lm_run_id: int | None


def text_data(session: Session, project_id: int, purpose: str) -> TextData:
    """:class:`TextData` of a text project; ``purpose`` names the step in the error for others."""
    project = _project(session, project_id)
    if project.task_type != "text":
        raise UserError(f"{purpose} works on text projects (TF-IDF features of the texts)")
    classes = class_names(project)
    frame = items_frame(session, project_id)
    human = human_label_index(session, project, frame["item_id"].to_numpy())
    lm_probs, lm_run_id = label_model_matrix(session, project_id, frame, len(classes))
    return TextData(classes, frame, human, lm_probs, lm_run_id)


def propagate(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Progress = _quiet,
    n_neighbors: int = 10,
    threshold: float = SEED_THRESHOLD,
) -> LabelModelRun:
    """Spread human labels and confident label-model labels over a kNN graph of TF-IDF features;
    every item the graph reaches gets a ``propagation`` ProbLabel. Accuracy is measured on a
    fifth of the human labels held out of the seeds (then all seeds are used)."""
    import numpy as np

    from weak_supervision.propagation import propagate as library_propagate
    from weak_supervision.propagation import propagation_seeds

    with session_scope(sessions) as session:
        classes, frame, human, lm_probs, lm_run = text_data(
            session, project_id, "label propagation"
        )
        setting = featurizer_setting(session, _project(session, project_id))
    k = len(classes)
    has_lm = lm_probs.sum(axis=1) > 0
    if not (human >= 0).any() and not has_lm.any():
        raise UserError("nothing to propagate: label some items or fit the label model first")
    if len(frame) < 3:
        raise UserError("label propagation needs at least 3 items")
    progress(0.2, "featurizing texts")
    features = text_features(setting, frame["text"].fillna("").tolist())
    X = features.X
    metrics: dict[str, Any] = {
        "n_items": len(frame),
        "label_model_run_id": lm_run,
        "features": features.used,
        "featurizer_reason": features.reason,
    }
    labeled = np.flatnonzero(human >= 0)
    if len(labeled) >= 10:
        rng = np.random.default_rng(0)
        held = rng.choice(labeled, size=max(1, len(labeled) // 5), replace=False)
        masked = human.copy()
        masked[held] = -1
        seeds = propagation_seeds(masked, lm_probs, threshold, lm_mask=has_lm)
        if (seeds >= 0).any():
            progress(0.4, "measuring on held-out human labels")
            probs = library_propagate(X, seeds, k, n_neighbors=n_neighbors)
            reached = probs[held].sum(axis=1) > 0
            metrics["n_evaluated"] = int(reached.sum())
            metrics["eval_reach"] = float(reached.mean())
            if reached.any():
                predicted = probs[held][reached].argmax(axis=1)
                metrics["accuracy"] = round(
                    100 * float((predicted == human[held][reached]).mean()), 2
                )
    progress(0.6, "propagating")
    seeds = propagation_seeds(human, lm_probs, threshold, lm_mask=has_lm)
    probs = library_propagate(X, seeds, k, n_neighbors=n_neighbors)
    reached = probs.sum(axis=1) > 0
    probs[reached] /= probs[reached].sum(axis=1, keepdims=True)
    metrics.update(
        n_seeds=int((seeds >= 0).sum()),
        n_seeds_human=int((human >= 0).sum()),
        n_reached=int(reached.sum()),
        n_new=int((reached & ~has_lm & (human < 0)).sum()),  # no LF covered, no human label
    )
    progress(0.8, "storing probabilistic labels")
    with session_scope(sessions) as session:
        start_write(session)
        run = LabelModelRun(
            project_id=project_id,
            kind="propagation",
            lf_ids=[],
            params={
                "classes": classes,
                "n_neighbors": n_neighbors,
                "threshold": threshold,
                "features": features.used,
            },
            metrics=metrics,
            job_id=job_id,
        )
        session.add(run)
        session.flush()
        _replace_prob_labels(
            session,
            project_id,
            "propagation",
            run.id,
            frame["item_id"].to_numpy()[reached],
            probs[reached],
            classes,
        )
        session.expunge(run)
    return run


STEPS = ("apply", "fit", "propagate", "train")
JOB_STEPS = {
    "ws_apply": ("apply",),
    "ws_fit": ("fit",),
    "ws_propagate": ("propagate",),
    "ws_train": ("train",),
    "ws_pipeline": ("apply", "fit", "propagate", "train"),  # the page's "Run all"
}


# --- summaries for the page --------------------------------------------------------------------


def prob_label_counts(session: Session, project_id: int) -> dict[str, int]:
    """How many items hold a probabilistic label from each source."""
    rows = session.execute(
        select(ProbLabel.source, func.count())
        .where(ProbLabel.project_id == project_id)
        .group_by(ProbLabel.source)
    )
    return {source: n for source, n in rows}


RUN_KINDS = ("apply", "label_model", "propagation", "end_model")
PROB_SOURCES = ("label_model", "propagation", "model")


def latest_runs(session: Session, project_id: int) -> dict[str, LabelModelRun]:
    """The latest run of each kind: LF application, label model, propagation, end model."""
    out = {}
    for kind in RUN_KINDS:
        run = session.scalar(
            select(LabelModelRun)
            .where(LabelModelRun.project_id == project_id, LabelModelRun.kind == kind)
            .order_by(LabelModelRun.id.desc())
            .limit(1)
        )
        if run is not None:
            out[kind] = run
    return out


def run_json(run: LabelModelRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": run.kind,
        "lf_ids": run.lf_ids,
        "params": run.params,
        "metrics": run.metrics,
        "job_id": run.job_id,
        "created_at": run.created_at.isoformat(),
    }


def list_prob_labels(
    session: Session, project_id: int, source: str | None, limit: int, after: int = 0
) -> list[dict[str, Any]]:
    """Probabilistic labels in id order after ``after``, each with its item, source and run."""
    if source is not None and source not in PROB_SOURCES:
        raise UserError(f"unknown source {source!r}: use one of {', '.join(PROB_SOURCES)}")
    if not 1 <= limit <= 10_000:
        raise UserError(f"limit must be between 1 and 10000, got {limit}")
    p = ProbLabel
    query = (
        select(
            p.id,
            p.item_id,
            Item.external_id,
            p.source,
            p.label_model_run_id,
            LabelModelRun.kind,
            p.label,
            p.confidence,
            p.probs,
            p.created_at,
        )
        .join(Item, Item.id == p.item_id)
        .outerjoin(LabelModelRun, LabelModelRun.id == p.label_model_run_id)
        .where(p.project_id == project_id, p.id > after)
        .order_by(p.id)
        .limit(limit)
    )
    if source is not None:
        query = query.where(p.source == source)
    keys = (
        "id",
        "item_id",
        "external_id",
        "source",
        "run_id",
        "run_kind",
        "label",
        "confidence",
        "probs",
        "created_at",
    )
    return [
        {**dict(zip(keys, row, strict=True)), "created_at": row[-1].isoformat()}
        for row in session.execute(query)
    ]
