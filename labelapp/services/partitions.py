"""Large projects part by part: the items cut into position ranges, a function run on each part on
``dask.distributed``, and each part's result handed back as soon as it is done.

A task reads its own part from the database (:func:`read_part`, on a connection of its own in the
Dask worker) and returns a small result (votes, scores, probabilities); the caller writes results
back part by part. No process holds every text of a project: the job process holds the part
boundaries and whatever the caller keeps of the results, each Dask worker one part at a time.

When parts are used, and on which cluster, follows
:func:`labelapp.services.weak.dask_apply.choose_applier` (``LABELAPP_DASK_SCHEDULER``, else a
LocalCluster from ``LABELAPP_DASK_MIN_ITEMS`` items on); ``LABELAPP_DASK_PART_ITEMS`` sets the
part size. Dask workers on other machines need the same
database URL to reach (PostgreSQL for teams).

Hand-written rather than ``dask.dataframe.read_sql_table``: that reads one table by an indexed
column with no filter per project and no JSON metadata columns, and its divisions come from min
and max of the column, not from the project's row counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.services.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

    from labelapp.services.weak.dask_apply import Applier


def part_items() -> int:
    """Items per part (:func:`labelapp.config.dask_part_items`); a bad setting is a UserError."""
    try:
        return config.dask_part_items()
    except ValueError as exc:  # the message names the setting and how to fix it
        raise UserError(str(exc)) from None


@dataclass(frozen=True)
class Part:
    """Items ``first <= position < stop`` of a project (``stop`` None: to the end)."""

    project_id: int
    index: int
    first: int
    stop: int | None
    n_items: int


def plan_parts(session: Session, project_id: int, size: int | None = None) -> list[Part]:
    """The project's items cut into parts of ``size`` items by position (import order), from one
    pass over the (project, position) index."""
    size = size or part_items()
    rows = session.execute(
        text(
            "SELECT position, rn, total FROM ("
            " SELECT position, row_number() OVER (ORDER BY position) AS rn,"
            " count(*) OVER () AS total FROM items WHERE project_id = :p) AS numbered"
            " WHERE (rn - 1) % :size = 0 ORDER BY position"
        ),
        {"p": project_id, "size": size},
    ).all()
    if not rows:
        return []
    total = int(rows[0][2])
    firsts = [int(r[0]) for r in rows]
    stops: list[int | None] = [*firsts[1:], None]
    return [
        Part(project_id, i, first, stop, min(size, total - i * size))
        for i, (first, stop) in enumerate(zip(firsts, stops, strict=True))
    ]


def part_filter(part: Part) -> tuple[str, dict[str, Any]]:
    """SQL condition (on ``items``) and parameters selecting ``part``'s items."""
    sql = "items.project_id = :part_project AND items.position >= :part_first"
    params: dict[str, Any] = {"part_project": part.project_id, "part_first": part.first}
    if part.stop is not None:
        sql += " AND items.position < :part_stop"
        params["part_stop"] = part.stop
    return sql, params


def database_url_of(sessions: sessionmaker[Session]) -> str:
    """The URL (password included) Dask tasks connect to: that of ``sessions``' engine."""
    return sessions.kw["bind"].url.render_as_string(hide_password=False)


_ENGINES: dict[str, Any] = {}


def engine_for(database_url: str) -> Any:
    """One engine per database per process (Dask workers run many parts)."""
    if database_url not in _ENGINES:
        from sqlalchemy.pool import NullPool

        from labelapp.db import make_engine

        _ENGINES[database_url] = make_engine(database_url, poolclass=NullPool)
    return _ENGINES[database_url]


def read_part(database_url: str, part: Part, with_meta: bool = False) -> pd.DataFrame:
    """``part``'s items in position order: ``item_id``, ``external_id``, ``text`` and, with
    ``with_meta``, one column per metadata key (what metadata LFs read)."""
    import json

    import numpy as np
    import pandas as pd

    where, params = part_filter(part)
    columns = "items.id, items.external_id, items.text" + (", items.meta" if with_meta else "")
    with engine_for(database_url).connect() as conn:
        rows = conn.execute(
            text(f"SELECT {columns} FROM items WHERE {where} ORDER BY items.position"), params
        ).all()
    frame = pd.DataFrame(
        {
            "item_id": np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            "external_id": [r[1] for r in rows],
            "text": [r[2] for r in rows],
        }
    )
    if with_meta:
        metas = [(json.loads(r[3]) if isinstance(r[3], str) else r[3]) or {} for r in rows]
        for key in sorted({k for m in metas for k in m} - set(frame.columns)):
            frame[key] = [m.get(key) for m in metas]
    return frame


@contextmanager
def dask_client(applier: Applier) -> Iterator[Any]:
    """A ``distributed.Client`` at the applier's scheduler, else on a LocalCluster of its
    single-threaded worker processes (closed afterwards)."""
    from distributed import Client, LocalCluster

    cluster = None
    try:
        if applier.scheduler:
            client = Client(applier.scheduler, timeout="10s")
        else:
            cluster = LocalCluster(
                n_workers=applier.n_workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",  # not 8787, which may be taken
            )
            client = Client(cluster)
    except OSError as exc:  # an unreachable scheduler: say which setting to fix
        raise UserError(
            f"could not reach Dask ({applier.describe()}): {exc}; check "
            "LABELAPP_DASK_SCHEDULER, or unset it to compute in process"
        ) from exc
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_parts(
    client: Any,
    fn: Callable[..., Any],
    parts: Sequence[Part],
    *args: Any,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[tuple[Part, Any]]:
    """``fn(part, *args)`` on every part on the cluster; yields ``(part, result)`` as each part
    finishes (in any order), so the caller writes results back part by part. Large ``args``
    (a fitted model) are sent to the workers once. A task's error is raised here."""
    from distributed import as_completed

    shared = [client.scatter(a, broadcast=True) if _large(a) else a for a in args]
    futures = {client.submit(fn, part, *shared, pure=False): part for part in parts}
    done = 0
    try:
        for future, result in as_completed(futures, with_results=True):
            done += 1
            if progress:
                progress(done, len(parts))
            yield futures[future], result
            future.release()
    finally:
        client.cancel(list(futures))


def _large(value: Any) -> bool:
    """Whether to scatter ``value`` once rather than send it with every task."""
    return not isinstance(value, str | int | float | bool | type(None) | tuple)
