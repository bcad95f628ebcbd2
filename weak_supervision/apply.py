"""Appliers: run LFs over a DataFrame into an ``(n_items, n_lfs)`` vote matrix (-1 = abstain).

``apply_lfs`` is the in-process path: declarative LFs vectorized, Python LFs through Snorkel's
``PandasLFApplier``. ``apply_lfs_dask`` splits the rows over a ``dask.distributed`` cluster (the
scheduler at ``scheduler_address``, or a LocalCluster) and runs ``apply_lfs`` on each part, so
both paths give the same matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from weak_supervision.lfs import DeclarativeLF


def lf_names(lfs: Sequence[Any]) -> list[str]:
    return [lf.name for lf in lfs]


def votes_dtype(max_label: int) -> np.dtype:
    """The smallest signed integer type holding labels up to ``max_label`` (int8 for < 127)."""
    for dtype in (np.int8, np.int16, np.int32):
        if max_label <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def check_lfs(lfs: Sequence[Any], df: pd.DataFrame | None = None) -> None:
    """Raise ``ValueError`` for an empty list, repeated names, or fields ``df`` lacks."""
    if not isinstance(lfs, Sequence) or not lfs:
        raise ValueError("need a non-empty list of labeling functions")
    names = []
    for i, lf in enumerate(lfs):
        if not hasattr(lf, "name") or not callable(lf):
            raise ValueError(
                f"LF #{i} ({lf!r}) is neither a declarative LF nor a Snorkel LabelingFunction"
            )
        names.append(lf.name)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"LF names must be unique; repeated: {dupes}")
    if df is None:
        return
    for lf in lfs:
        if isinstance(lf, DeclarativeLF):
            missing = [f for f in lf.fields if f not in df.columns]
            if missing:
                raise ValueError(
                    f"LF {lf.name!r} reads field {missing[0]!r}, which the data lacks; "
                    f"columns are {list(df.columns)}"
                )


def _snorkel_votes(lfs: Sequence[Any], df: pd.DataFrame) -> np.ndarray:
    from snorkel.labeling import PandasLFApplier

    return PandasLFApplier(list(lfs)).apply(df, progress_bar=False)


def apply_lfs(lfs: Sequence[Any], df: pd.DataFrame, n_threads: int = 2) -> np.ndarray:
    """Votes of ``lfs`` (declarative LFs and/or Snorkel LabelingFunctions) on the rows of ``df``.

    Returns an ``(len(df), len(lfs))`` matrix, -1 for abstain, in the smallest integer dtype
    that holds the labels (int8 for fewer than 127 classes).
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"apply_lfs needs a pandas DataFrame, got {type(df).__name__}")
    check_lfs(lfs, df)
    from weak_supervision.vectorized import lf_votes

    declarative = [j for j, lf in enumerate(lfs) if isinstance(lf, DeclarativeLF)]
    python = [j for j, lf in enumerate(lfs) if not isinstance(lf, DeclarativeLF)]
    frame = df.reset_index(drop=True)
    py_votes = np.empty((len(frame), len(python)), dtype=np.int64)
    if python and len(frame):
        py_votes = _snorkel_votes([lfs[j] for j in python], frame)
        if py_votes.min() < -1:
            j = python[int(np.argwhere(py_votes < -1)[0][1])]
            raise ValueError(f"LF {lfs[j].name!r} returned a vote < -1: use -1 to abstain")
    max_label = max([lfs[j].label for j in declarative] + [int(py_votes.max(initial=0))])
    # column-major while filling (each LF writes one contiguous column), row-major returned
    out = np.empty((len(frame), len(lfs)), dtype=votes_dtype(max_label), order="F")
    for k, votes in lf_votes([lfs[j] for j in declarative], frame, n_threads):
        out[:, declarative[k]] = votes
    for k, j in enumerate(python):
        out[:, j] = py_votes[:, k]
    return np.ascontiguousarray(out)


def _split(df: pd.DataFrame, n_parts: int) -> list[pd.DataFrame]:
    bounds = np.linspace(0, len(df), n_parts + 1).astype(int)
    return [df.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def apply_lfs_dask(
    lfs: Sequence[Any],
    data: Any,
    scheduler_address: str | None = None,
    n_workers: int = 2,
    npartitions: int | None = None,
    client: Any = None,
) -> np.ndarray:
    """``apply_lfs`` on a Dask cluster; ``data`` is a pandas or a Dask DataFrame.

    Uses ``client`` if given, else connects to ``scheduler_address``, else starts a LocalCluster
    of ``n_workers`` single-threaded worker processes (closed afterwards). Pandas input is split
    into ``npartitions`` parts (default: 2 per worker). LFs must be picklable (declarative LFs
    and module-level Snorkel LFs are).
    """
    from dask import delayed
    from distributed import Client, LocalCluster

    is_pandas = isinstance(data, pd.DataFrame)
    if is_pandas:
        check_lfs(lfs, data)
    else:
        check_lfs(lfs, data._meta if hasattr(data, "_meta") else None)
    own_cluster = own_client = None
    if client is None:
        if scheduler_address:
            client = own_client = Client(scheduler_address)
        else:
            own_cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                # None does not disable the dashboard (dask/distributed#8136): it would take
                # port 8787, or warn when that is busy. A free port on loopback instead.
                dashboard_address="127.0.0.1:0",
            )
            client = own_client = Client(own_cluster)
    try:
        if is_pandas:
            n_parts = npartitions or 2 * max(1, len(client.scheduler_info()["workers"]))
            parts = [client.scatter(p) for p in _split(data, min(n_parts, max(1, len(data))))]
            futures = client.map(apply_lfs, [list(lfs)] * len(parts), parts, n_threads=1)
        else:
            tasks = [delayed(apply_lfs)(list(lfs), p, n_threads=1) for p in data.to_delayed()]
            futures = client.compute(tasks)
        results = client.gather(futures)
    finally:
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
    if not results:
        return np.empty((0, len(lfs)), dtype=np.int8)
    width = max(np.dtype(r.dtype).itemsize for r in results)
    return np.vstack(results).astype(f"int{8 * width}")
