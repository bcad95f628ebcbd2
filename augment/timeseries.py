"""Sliding windows over a time series that never cross a split (or group) boundary.

A window is ``size`` consecutive steps of input followed by ``horizon`` steps of target (for
forecasting; ``horizon=0`` for windows alone). Windows are cut inside each contiguous run of equal
``segments`` labels (e.g. the per-step split name or recording id), so no window, horizon included,
mixes train with test or one recording with another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Windows:
    """Windows cut from a series.

    ``inputs`` is (n_windows, size, n_features); ``targets`` is (n_windows, horizon, n_targets), or
    ``None`` when ``horizon == 0``; ``starts`` holds each window's first row position and
    ``segments`` the segment label it lies in.
    """

    inputs: np.ndarray
    targets: np.ndarray | None
    starts: np.ndarray
    segments: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def _as_2d(values: np.ndarray | pd.DataFrame | pd.Series, name: str) -> np.ndarray:
    array = (
        values.to_numpy() if isinstance(values, pd.DataFrame | pd.Series) else np.asarray(values)
    )
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (steps) or 2-D (steps x features), got shape {array.shape}"
        )
    return array


def segment_runs(segments: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each maximal run of equal consecutive labels."""
    if len(segments) == 0:
        return []
    change = np.flatnonzero(segments[1:] != segments[:-1]) + 1
    bounds = np.concatenate(([0], change, [len(segments)]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def window_starts(segments: np.ndarray, size: int, stride: int, horizon: int) -> np.ndarray:
    """First row of every window that fits, horizon included, inside one run of ``segments``."""
    span = size + horizon
    starts = [
        np.arange(lo, hi - span + 1, stride) for lo, hi in segment_runs(segments) if hi - lo >= span
    ]
    return np.concatenate(starts).astype(np.int64) if starts else np.empty(0, dtype=np.int64)


def sliding_windows(
    data: np.ndarray | pd.DataFrame | pd.Series,
    *,
    size: int,
    stride: int = 1,
    horizon: int = 0,
    segments: Sequence | np.ndarray | pd.Series | None = None,
    target: Sequence[str] | Sequence[int] | None = None,
) -> Windows:
    """Cut ``data`` (rows are time steps, in order) into windows of ``size`` steps every ``stride``.

    ``horizon`` steps after each window become its target (all columns, or those named/indexed in
    ``target``). ``segments`` gives one label per row (split name or group); windows never span two
    runs. Stride restarts at the first row of every run.
    """
    for name, value, low in (("size", size, 1), ("stride", stride, 1), ("horizon", horizon, 0)):
        if not isinstance(value, int | np.integer) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    values = _as_2d(data, "data")
    n_steps = len(values)
    labels = np.zeros(n_steps, dtype=np.int8) if segments is None else np.asarray(segments)
    if len(labels) != n_steps:
        raise ValueError(
            f"segments has {len(labels)} labels but data has {n_steps} steps; give one per step"
        )

    if target is None:
        target_values = values
    elif isinstance(data, pd.DataFrame):
        target_values = data.loc[:, list(target)].to_numpy()
    else:
        target_values = values[:, list(target)]

    starts = window_starts(labels, size, stride, horizon)
    inputs = values[starts[:, None] + np.arange(size)]
    targets = target_values[starts[:, None] + size + np.arange(horizon)] if horizon else None
    return Windows(inputs=inputs, targets=targets, starts=starts, segments=labels[starts])
