"""LF votes: preview on a sample, apply to every item (pandas or Dask), the vote matrix, LF
analysis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import (
    LabelingFunction,
    Project,
    WeakLabel,
)
from labelapp.progress import Progress, quiet
from labelapp.services import lf_guard
from labelapp.services.errors import UserError
from labelapp.services.featurizers import project_item_count
from labelapp.services.weak.analysis_report import Analysis
from labelapp.services.weak.apply_parts import apply_in_parts, split_specs, store_votes
from labelapp.services.weak.common import (
    PREVIEW_HITS,
    PREVIEW_ITEMS,
    class_names,
    get_project,
    human_label_index,
    items_frame,
)
from labelapp.services.weak.dask_apply import Applier, choose_applier, run_applier
from labelapp.services.weak.lfs import (
    latest_lfs,
    lf_json,
    library_spec,
    regex_guarded_votes,
    validate_spec,
)

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


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
    votes = regex_guarded_votes(project, stored, frame)
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


def apply_lfs(
    sessions: sessionmaker[Session],
    project_id: int,
    progress: Progress = quiet,
    job_id: int | None = None,
) -> dict[str, Any]:
    """Run the project's active LFs over all its items and replace its stored votes; an
    ``apply`` run row records which LFs ran, on which applier (pandas or Dask, see
    :mod:`labelapp.services.weak.dask_apply`), and what they covered.

    Declarative LFs run in process (regex fallbacks to Python's ``re`` in a time-limited child
    process), Python LFs in the sandbox: call it from the job worker or the CLI."""
    with session_scope(sessions) as session:
        project = get_project(session, project_id)
        classes = class_names(project)
        rows = latest_lfs(session, project_id, active_only=True)
        if not rows:
            raise UserError("no active labeling functions: write or load some first")
        specs = [(r.id, r.name, library_spec(r, classes)) for r in rows]
        applier = choose_applier(project_item_count(session, project_id))
        if applier.engine == "pandas":
            frame = items_frame(session, project_id)
    if applier.engine == "dask":  # large: part by part, no process holds every item
        progress(0.1, f"{len(specs)} LFs, items read part by part")
        return apply_in_parts(sessions, project_id, job_id, specs, len(classes), applier, progress)
    progress(0.1, f"{len(specs)} LFs over {len(frame):,} items")
    L = _vote_on_items(specs, len(classes), frame, applier, progress)
    _check_votes(L, specs, classes)
    progress(0.6, f"storing votes (applied on {applier.describe()})")
    result = {
        "n_lfs": len(specs),
        "n_items": len(frame),
        "n_votes": int((L >= 0).sum()),
        "n_covered": int((L >= 0).any(axis=1).sum()) if L.size else 0,
        "applier": applier.describe(),
    }
    _store_votes(sessions, project_id, job_id, specs, L, frame, applier, result)
    return result


def _vote_on_items(
    specs: list[tuple[int, str, dict[str, Any]]],
    n_classes: int,
    frame: pd.DataFrame,
    applier: Applier,
    progress: Progress,
) -> np.ndarray:
    """The ``(items, LFs)`` vote matrix (-1 = abstain): declarative LFs on ``applier`` under the
    apply regex time limit, Python LFs in the sandbox."""
    import numpy as np

    from weak_supervision import regex_guard

    declarative, python = split_specs(specs, n_classes)
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
    return L


def _check_votes(
    L: np.ndarray, specs: list[tuple[int, str, dict[str, Any]]], classes: list[str]
) -> None:
    """Refuse a vote beyond the project's classes, naming the first LF that cast one."""
    import numpy as np

    n_classes = len(classes)
    if L.size and int(L.max()) >= n_classes:
        j = int(np.argwhere(L.max(axis=0) >= n_classes)[0][0])
        raise UserError(
            f"LF {specs[j][1]!r} voted {int(L.max())}, but the project has {len(classes)} classes "
            f"(0..{len(classes) - 1}: {', '.join(classes)})"
        )


def _store_votes(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    specs: list[tuple[int, str, dict[str, Any]]],
    L: np.ndarray,
    frame: pd.DataFrame,
    applier: Applier,
    result: dict[str, Any],
) -> None:
    """Replace the project's stored votes by ``L`` and record the ``apply`` run, in one
    transaction."""
    import numpy as np

    rows_i, cols = np.nonzero(L >= 0)
    chunk = (frame["item_id"].to_numpy()[rows_i], cols, L[rows_i, cols])
    params = {"engine": applier.engine, "scheduler": applier.scheduler}
    store_votes(sessions, project_id, job_id, specs, [chunk], params, result)


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


def _number(value: Any) -> float | None:
    import numpy as np

    value = float(value)
    return None if np.isnan(value) else value


def compute_analysis(session: Session, project: Project, n_examples: int = 5) -> Analysis:
    """The library's LF analysis of the stored votes against the human labels, per active LF,
    with examples of hits and of disagreements with humans. LFs not applied yet show no votes.
    Run by the ``lf_analysis`` job (:mod:`.analysis_job`), never in a web process."""
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
