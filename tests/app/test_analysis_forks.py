"""The fork server of the analysis children: one per web process while analyses come, stopped
when they stop coming (its memory goes back), started again by the next analysis."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor

from labelapp.services import analysis_forks


def _parent() -> int:
    return os.getppid()


def _child_parent(url: str) -> int:
    with (
        analysis_forks.forks(url) as context,
        ProcessPoolExecutor(max_workers=1, mp_context=context) as pool,
    ):
        return pool.submit(_parent).result()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_children_come_from_one_fork_server_that_stops_when_idle(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'labelapp.sqlite3'}"
    server = _child_parent(url)
    assert server != os.getpid() and _child_parent(url) == server  # the same warm server
    monkeypatch.setattr(analysis_forks, "IDLE_SECONDS", 0.2)
    assert _child_parent(url) == server  # its end: the idle check comes 0.2 s later
    deadline = time.monotonic() + 20
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server), "the fork server still runs with no analysis for 20 s"
    again = _child_parent(url)
    assert again not in (server, os.getpid()) and _alive(again)
