"""The worker beside the web process on the embedded queue (no ``LABELAPP_QUEUE_URL``).

``labelapp serve`` and ``labelapp demo`` start one when they start (:func:`start`), tied to their
life; any process that queues a job also makes sure one runs (:func:`ensure`): workers hold a
shared lock on ``worker.lock`` in the data directory, so a free lock means none runs, and one is
started that stops by itself after a while without work.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from labelapp import config

LOCK_FILENAME = "worker.lock"
# ``labelapp worker`` with this interpreter (the console script may not be on PATH).
WORKER_COMMAND = (sys.executable, "-c", "from labelapp.cli import main; main()", "worker")
IDLE_EXIT_SECONDS = 30
YOUNG_SECONDS = 15.0  # a worker started this recently may not hold its lock yet
_started: dict[str, tuple[subprocess.Popen, float]] = {}
_lock = threading.Lock()


def lock_path() -> Path:
    return config.data_dir() / LOCK_FILENAME


class WorkerLock:
    """In a worker: the shared lock that says a worker serves this data directory."""

    def __init__(self) -> None:
        self.fd: int | None = None

    def hold(self) -> None:
        if self.fd is None:
            self.fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_SH)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def worker_running() -> bool:
    """Whether some process holds the worker lock of this data directory."""
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the lock if it was taken
    return False


def start(database_url: str, idle_exit: int | None = None) -> subprocess.Popen:
    """Start ``labelapp worker`` for this process's database and data directory; it stops when
    this process does (and after ``idle_exit`` seconds without work, when given)."""
    command = [*WORKER_COMMAND, "--parent-pid", str(os.getpid())]
    if idle_exit:
        command += ["--idle-exit", str(idle_exit)]
    env = {
        **os.environ,
        "LABELAPP_DATABASE_URL": database_url,
        "LABELAPP_DATA_DIR": str(config.data_dir()),
    }
    return subprocess.Popen(command, env=env, start_new_session=True)


def ensure(database_url: str) -> None:
    """Start a worker (stopping when idle) unless one serves this data directory."""
    key = str(config.data_dir())
    with _lock:
        started = _started.get(key)
        if started and started[0].poll() is None and time.monotonic() - started[1] < YOUNG_SECONDS:
            return
        if worker_running():
            return
        _started[key] = (start(database_url, IDLE_EXIT_SECONDS), time.monotonic())
