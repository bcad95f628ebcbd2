"""Which applier runs a project's LFs: in process (pandas) for small projects, ``dask.distributed``
for large ones or whenever a scheduler is configured. Both give the same vote matrix
(:func:`weak_supervision.apply.apply_lfs_dask` runs the in-process applier on each part).

Only declarative LFs go to either applier: Python LFs run in the sandbox
(:mod:`labelapp.services.lf_guard`), one process per apply in the job worker, on the pandas frame
(never on Dask workers, which would run SME code unconfined). Regex fallbacks to Python's ``re``
stay time-limited on Dask too (workers use ``regex_guard``'s default limit).

Settings (:mod:`labelapp.config`): ``LABELAPP_DASK_SCHEDULER`` (an address: always use it) and
``LABELAPP_DASK_MIN_ITEMS`` (from this many items, a LocalCluster when no address is set).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labelapp import config
from labelapp.services.errors import UserError

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


@dataclass(frozen=True)
class Applier:
    """``engine`` is "pandas" or "dask"; ``scheduler`` the Dask address (None: a LocalCluster)."""

    engine: str
    scheduler: str | None = None
    n_workers: int = 0

    def describe(self) -> str:
        if self.engine == "pandas":
            return "pandas (in process)"
        if self.scheduler:
            return f"dask (scheduler {self.scheduler})"
        return f"dask (LocalCluster, {self.n_workers} workers)"


def choose_applier(n_items: int) -> Applier:
    """Dask at the configured scheduler, else a LocalCluster from ``dask_min_items()`` items on,
    else pandas."""
    try:
        scheduler, min_items = config.dask_scheduler(), config.dask_min_items()
    except ValueError as exc:  # a bad setting: the message names it and how to fix it
        raise UserError(str(exc)) from None
    if scheduler:
        return Applier("dask", scheduler)
    if n_items >= min_items:
        return Applier("dask", None, n_workers=max(1, min(2, os.cpu_count() or 1)))
    return Applier("pandas")


def run_applier(applier: Applier, lfs: Sequence[Any], frame: pd.DataFrame) -> np.ndarray:
    """The ``(items, lfs)`` votes of the declarative ``lfs`` on ``frame`` with ``applier``
    (a Python LF here is a TypeError: those run in the sandbox)."""
    import numpy as np

    from weak_supervision.apply import apply_lfs, apply_lfs_dask
    from weak_supervision.lfs import DeclarativeLF

    unconfined = [lf.name for lf in lfs if not isinstance(lf, DeclarativeLF)]
    if unconfined:
        raise TypeError(f"Python LFs {unconfined} must run in the sandbox (lf_guard.apply_python)")

    if not len(frame):
        return np.empty((0, len(lfs)), dtype=np.int8)
    if applier.engine == "pandas":
        return apply_lfs(list(lfs), frame)
    try:
        return apply_lfs_dask(
            list(lfs), frame, scheduler_address=applier.scheduler, n_workers=applier.n_workers or 2
        )
    except OSError as exc:  # an unreachable scheduler: say which setting to fix
        raise UserError(
            f"could not run the LFs on Dask ({applier.describe()}): {exc}; check "
            "LABELAPP_DASK_SCHEDULER, or unset it to apply in process"
        ) from exc
