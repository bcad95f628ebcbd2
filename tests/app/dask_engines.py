"""Switching the weak-supervision and retrain steps between in process and a Dask cluster, for
the tests that compare the two (the cluster is the session's ``dask_scheduler`` fixture)."""

from __future__ import annotations

import pytest


class Engines:
    """In process, or part by part on the cluster at ``address`` (``part_items`` per part)."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, address: str, n_items: int, part_items: int
    ) -> None:
        self.monkeypatch, self.address = monkeypatch, address
        self.n_items, self.part_items = n_items, part_items

    def pandas(self) -> None:
        self.monkeypatch.delenv("LABELAPP_DASK_SCHEDULER", raising=False)
        self.monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", str(10 * self.n_items))

    def dask(self) -> None:
        self.monkeypatch.setenv("LABELAPP_DASK_SCHEDULER", self.address)
        self.monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", str(self.n_items // 2))
        self.monkeypatch.setenv("LABELAPP_DASK_PART_ITEMS", str(self.part_items))
