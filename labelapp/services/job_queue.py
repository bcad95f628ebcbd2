"""The job queue: Huey, on an SQLite file in the data directory by default, on Redis for a team.

The queue only carries job ids; the ``jobs`` table stays the record of every job (status,
progress, result). A message lost with a killed process is not a lost job: workers put queued
jobs whose message is older than the lease back on the queue (:mod:`labelapp.services.job_reaper`),
and a worker starts a job only by moving its row from ``queued`` to ``running``, so a job sent
twice still runs once. Huey is pure Python and cheap to import: web processes use it too.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from labelapp import config

if TYPE_CHECKING:
    from huey import Huey

QUEUE_FILENAME = "queue.sqlite3"
_queues: dict[tuple[str, str], tuple[Huey, Callable[[int], object]]] = {}
_lock = threading.Lock()


def queue_location() -> tuple[str, str]:
    """Where the queue lives: ``("redis", url)`` or ``("sqlite", path)``, from the settings."""
    url = config.queue_url()
    if url:
        return "redis", url
    return "sqlite", str(config.data_dir() / QUEUE_FILENAME)


def embedded() -> bool:
    """Whether the queue is the default file in the data directory (a worker runs beside the web
    process) rather than a server shared by separate worker processes."""
    return config.queue_url() is None


def get_queue() -> Huey:
    """The Huey instance for the current settings, with the ``run_job`` task registered."""
    return _queue_and_task()[0]


def _queue_and_task() -> tuple[Huey, Callable[[int], object]]:
    kind, where = queue_location()
    key = (kind, f"{config.queue_name()}@{where}")
    with _lock:
        if key not in _queues:
            _queues[key] = _make(kind, where)
        return _queues[key]


def _make(kind: str, where: str) -> tuple[Huey, Callable[[int], object]]:
    from huey import RedisHuey, SqliteHuey

    if kind == "redis":
        queue = RedisHuey(config.queue_name(), url=where, results=False)
    else:
        queue = SqliteHuey(config.queue_name(), filename=where, results=False, timeout=30)
    return queue, queue.task(name="labelapp.run_job")(_run_job)


# What a worker runs for a job id: set by the worker (job_worker) to the supervisor, so that this
# module, which web processes import to send jobs, does not depend on the supervisor.
_runner: Callable[[int], object] | None = None


def set_runner(runner: Callable[[int], object]) -> None:
    """Called once by a worker process before it consumes: how to run a job id."""
    global _runner
    _runner = runner


def _run_job(job_id: int) -> None:
    """The task a worker thread runs for a queued job (see :mod:`labelapp.services.job_worker`)."""
    if _runner is None:
        raise RuntimeError("this process consumes jobs but set no runner (job_queue.set_runner)")
    _runner(job_id)


def send(job_id: int) -> None:
    """Put the job on the queue (a worker picks it up; on the embedded queue, woken at once)."""
    _queue_and_task()[1](job_id)
    if embedded():
        wake()


# Huey's SQLite storage is polled: an idle worker thread looks at the queue every
# Doorbell.IDLE_SECONDS. Whoever queues a job also writes a byte to a FIFO in the data directory,
# on which idle worker threads wait: a job is picked up within milliseconds, and an idle worker
# costs next to nothing. (On Redis workers wait in BRPOP and need none of this.)
WAKE_FILENAME = "worker.wake"


def wake() -> None:
    """Wake the workers of this data directory (if none listens, nothing happens)."""
    try:
        fd = os.open(config.data_dir() / WAKE_FILENAME, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no worker reads it (ENXIO), or none ever ran here
        return
    try:
        os.write(fd, b"!")
    except BlockingIOError:  # full of wake-ups already
        pass
    finally:
        os.close(fd)


class Doorbell:
    """In a worker: the reading end of the FIFO that :func:`wake` writes to."""

    IDLE_SECONDS = 1.0  # the longest an idle thread waits before it looks at the queue anyway

    def __init__(self) -> None:
        path = config.data_dir() / WAKE_FILENAME
        if path.exists() and not stat.S_ISFIFO(path.stat().st_mode):
            path.unlink()
        with contextlib.suppress(FileExistsError):
            os.mkfifo(path, 0o600)
        # Read and write: never at end of file when no one writes, and the open does not block.
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)

    def wait(self, seconds: float) -> None:
        """Until a job is queued, or ``seconds`` pass."""
        if select.select([self.fd], [], [], seconds)[0]:
            # Another thread may have taken the wake-up: both look at the queue.
            with contextlib.suppress(BlockingIOError):
                os.read(self.fd, 4096)


def pending(queue: Huey | None = None) -> int:
    """Messages waiting on the queue."""
    return (queue or get_queue()).pending_count()
