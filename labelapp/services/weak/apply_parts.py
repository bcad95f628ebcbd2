"""Applying a large project's LFs part by part on Dask: no process holds every item.

Each Dask task reads one part of the items from the database
(:func:`labelapp.services.partitions.read_part`), applies the declarative LFs under the apply
regex time limit and returns the part's votes as sparse triples. Python LFs run in the sandbox
in the job process, on one part at a time (never on Dask workers, which would run SME code
unconfined). The job process spools each part's votes to a temporary file as it arrives, then
replaces the stored votes in one write transaction, one part at a time: the votes of the old and
the new apply are never mixed, and memory stays at one part.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope, start_write
from labelapp.models import LabelingFunction, LabelModelRun, WeakLabel
from labelapp.progress import Progress
from labelapp.services import lf_guard
from labelapp.services.bulk import bulk_insert_columns
from labelapp.services.errors import UserError
from labelapp.services.partitions import (
    Part,
    dask_client,
    database_url_of,
    map_parts,
    plan_parts,
    read_part,
)
from labelapp.services.spool import PartSpool

if TYPE_CHECKING:
    import numpy as np

    from labelapp.services.weak.dask_apply import Applier

Specs = list[tuple[int, str, dict[str, Any]]]


def split_specs(
    specs: Specs, n_classes: int
) -> tuple[list[tuple[int, Any]], list[tuple[int, str, str]]]:
    """The declarative LFs (their column, the library LF) and the Python ones (their column,
    name, source) of ``specs`` (id, name, stored spec)."""
    from weak_supervision.lfs import lf_from_spec

    declarative = [
        (j, lf_from_spec(spec, n_classes=n_classes))
        for j, (_, _, spec) in enumerate(specs)
        if spec["kind"] != "python"
    ]
    python = [
        (j, name, spec["source"])
        for j, (_, name, spec) in enumerate(specs)
        if spec["kind"] == "python"
    ]
    return declarative, python


def vote_part(
    part: Part, database_url: str, lfs: Sequence[Any], columns: list[int], seconds: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """On a Dask worker: the declarative ``lfs``' votes on ``part`` as (item ids, LF columns,
    votes) of the non-abstaining cells; ``columns`` are the LFs' columns in the vote matrix."""
    import numpy as np

    from weak_supervision import regex_guard
    from weak_supervision.apply import apply_lfs

    frame = read_part(database_url, part, with_meta=True)
    if not len(frame):
        return _no_votes()
    with regex_guard.time_limit(seconds):
        L = apply_lfs(list(lfs), frame, n_threads=1)
    rows, cols = np.nonzero(L >= 0)
    ids = frame["item_id"].to_numpy()[rows]
    return ids, np.asarray(columns, dtype=np.int16)[cols], L[rows, cols].astype(np.int16)


def _no_votes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import numpy as np

    return np.empty(0, np.int64), np.empty(0, np.int16), np.empty(0, np.int16)


@dataclass
class _Totals:
    """What the stored votes add up to, counted as parts arrive."""

    n_votes: int = 0
    max_vote: int = -1
    max_vote_column: int = -1

    def add(self, cols: np.ndarray, votes: np.ndarray) -> None:
        self.n_votes += len(votes)
        if len(votes) and int(votes.max()) > self.max_vote:
            self.max_vote = int(votes.max())
            self.max_vote_column = int(cols[int(votes.argmax())])


def apply_in_parts(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    specs: Specs,
    n_classes: int,
    applier: Applier,
    progress: Progress,
) -> dict[str, Any]:
    """Apply ``specs`` to the project part by part on ``applier``'s cluster and replace the
    stored votes; returns what the ``apply`` run records."""
    import numpy as np

    from weak_supervision import regex_guard

    with session_scope(sessions) as session:
        parts = plan_parts(session, project_id)
    n_items = sum(p.n_items for p in parts)
    declarative, python = split_specs(specs, n_classes)
    url = database_url_of(sessions)
    with tempfile.TemporaryDirectory(prefix="labelapp-votes-") as tmp:
        spool, totals = PartSpool(Path(tmp)), _Totals()
        covered: list[np.ndarray] = []
        if declarative and parts:
            progress(0.15, f"applying on {applier.describe()} in {len(parts)} parts")
            seconds = lf_guard.regex_seconds("apply")
            lfs, columns = [lf for _, lf in declarative], [j for j, _ in declarative]

            def done(n: int, total: int) -> None:
                progress(0.15 + 0.3 * n / total, f"{n} of {total} parts applied")

            with dask_client(applier) as client:
                try:
                    for _part, (ids, cols, votes) in map_parts(
                        client, vote_part, parts, url, lfs, columns, seconds, progress=done
                    ):
                        spool.add(ids=ids, cols=cols, votes=votes)
                        totals.add(cols, votes)
                        covered.append(np.unique(ids))
                except regex_guard.RegexTimeout as exc:
                    hint = lf_guard.regex_hint("apply")
                    raise UserError(f"{exc} (the limit is {hint})") from None
        if python and parts:
            for n, part in enumerate(parts):
                progress(0.45 + 0.15 * n / len(parts), f"Python LFs in the sandbox: part {n + 1}")
                ids, cols, votes = _python_votes(url, part, python)
                spool.add(ids=ids, cols=cols, votes=votes)
                totals.add(cols, votes)
                covered.append(np.unique(ids))
        if totals.max_vote >= n_classes:
            raise UserError(
                f"LF {specs[totals.max_vote_column][1]!r} voted {totals.max_vote}, but the project "
                f"has {n_classes} classes (0..{n_classes - 1})"
            )
        result = {
            "n_lfs": len(specs),
            "n_items": n_items,
            "n_votes": totals.n_votes,
            "n_covered": int(len(np.unique(np.concatenate(covered)))) if covered else 0,
            "applier": applier.describe(),
            "n_parts": len(parts),
        }
        progress(0.6, f"storing {totals.n_votes:,} votes")
        params = {"engine": applier.engine, "scheduler": applier.scheduler, "n_parts": len(parts)}
        chunks = spool.parts("ids", "cols", "votes")
        store_votes(sessions, project_id, job_id, specs, chunks, params, result)
    return result


def _python_votes(
    url: str, part: Part, python: list[tuple[int, str, str]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Python LFs' votes on ``part``, computed in the sandbox (in this process's child)."""
    import numpy as np

    frame = read_part(url, part, with_meta=True)
    if not len(frame):
        return _no_votes()
    L = lf_guard.apply_python([(name, source) for _, name, source in python], frame)
    rows, cols = np.nonzero(L >= 0)
    columns = np.array([j for j, _, _ in python], dtype=np.int16)
    return frame["item_id"].to_numpy()[rows], columns[cols], L[rows, cols].astype(np.int16)


def store_votes(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    specs: Specs,
    chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    params: dict[str, Any],
    result: dict[str, Any],
) -> None:
    """Replace the project's votes by ``chunks`` of (item ids, LF columns, votes) and record the
    ``apply`` run with ``params``, in one transaction, one chunk in memory at a time."""
    import numpy as np

    lf_ids = np.array([s[0] for s in specs], dtype=np.int64)
    with session_scope(sessions) as session:
        start_write(session)
        session.add(
            LabelModelRun(
                project_id=project_id,
                kind="apply",
                lf_ids=[int(i) for i in lf_ids],
                params=params,
                metrics=result,
                job_id=job_id,
            )
        )
        project_lfs = select(LabelingFunction.id).where(LabelingFunction.project_id == project_id)
        session.execute(delete(WeakLabel).where(WeakLabel.lf_id.in_(project_lfs)))
        for ids, cols, votes in chunks:
            bulk_insert_columns(
                session,
                "weak_labels",
                {"item_id": ids, "lf_id": lf_ids[cols], "vote": votes.astype(np.int64)},
                len(ids),
            )
