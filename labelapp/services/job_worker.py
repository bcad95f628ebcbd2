"""``labelapp worker``: a Huey consumer whose threads run jobs, plus the housekeeping a durable
queue needs: reaping the jobs of dead workers, and stopping with the web process it was started
beside or after a while without work."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable

from huey.consumer import Consumer, Worker

from labelapp import config
from labelapp.services import job_queue, job_reaper, job_supervisor, local_worker

log = logging.getLogger(__name__)
HOUSEKEEPING_SECONDS = 2.0
SPARES = 1  # warm job processes a worker keeps ready (about 80 MB each)
_doorbell: job_queue.Doorbell | None = None


class _WakingWorker(Worker):
    """A Huey worker thread that, with nothing to do, waits on the doorbell (embedded queue)."""

    def sleep(self) -> None:
        if _doorbell is None:
            super().sleep()
        else:
            _doorbell.wait(self.max_delay)


class _Consumer(Consumer):
    worker_class = _WakingWorker


def run_worker(
    concurrency: int, parent_pid: int | None = None, idle_exit: float | None = None
) -> None:
    """Run jobs until stopped (SIGINT: after the running jobs; SIGTERM: at once)."""
    sessions = job_supervisor.worker_sessions(config.database_url())
    job_queue.set_runner(job_supervisor.supervise)
    lock = local_worker.WorkerLock()
    if job_queue.embedded():
        lock.hold()
    # Jobs start warm: a fork server that has imported the handlers, and a spare job process
    # forked from it ahead of the next job (a job that finds none is forked at once, unwarmed).
    job_supervisor.start(spares=SPARES)
    queue = job_queue.get_queue()
    # Redis: each thread waits in BRPOP and gets a job at once. SQLite: an idle thread waits on
    # the doorbell that queueing a job rings (job_queue.wake), looking at the queue anyway now
    # and then.
    global _doorbell
    _doorbell = job_queue.Doorbell() if job_queue.embedded() else None
    consumer = _Consumer(
        queue,
        workers=concurrency,
        worker_type="thread",
        periodic=False,
        initial_delay=job_queue.Doorbell.IDLE_SECONDS,
        backoff=1.0,
        max_delay=job_queue.Doorbell.IDLE_SECONDS,
    )
    stop = threading.Event()
    idle = _IdleClock(queue.pending_count)

    def housekeeping() -> None:
        while not stop.wait(HOUSEKEEPING_SECONDS):
            try:
                job_reaper.reap(sessions)
            except Exception as exc:
                log.warning(
                    "could not look for jobs of dead workers (trying again): %s",
                    str(exc).splitlines()[0][:300],
                )
            if _parent_gone(parent_pid) or (
                idle_exit
                and idle.idle_for() > idle_exit
                and _release_if_idle(lock, queue.pending_count)
            ):
                log.info(
                    "worker %s stops (%s)",
                    os.getpid(),
                    "its web process is gone" if _parent_gone(parent_pid) else "idle",
                )
                os.kill(os.getpid(), signal.SIGINT)  # Huey's graceful stop
                return

    threading.Thread(target=housekeeping, name="labelapp-housekeeping", daemon=True).start()
    log.info(
        "worker %s: %d at once, queue %s, database %s",
        os.getpid(),
        concurrency,
        job_queue.queue_location()[0],
        sessions.kw["bind"].url,
    )
    try:
        consumer.run()
    finally:
        stop.set()
        job_supervisor.stop_all()


class _IdleClock:
    """Seconds since this worker last had a job running or waiting."""

    def __init__(self, pending: Callable[[], int]) -> None:
        self.pending, self.since = pending, time.monotonic()

    def idle_for(self) -> float:
        if job_supervisor.running or self.pending():
            self.since = time.monotonic()
        return time.monotonic() - self.since


def _parent_gone(parent_pid: int | None) -> bool:
    return parent_pid is not None and os.getppid() != parent_pid and not _alive(parent_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release_if_idle(lock: local_worker.WorkerLock, pending: Callable[[], int]) -> bool:
    """Give up the worker lock, then look at the queue once more: a job sent before the lock was
    free is seen here; one sent after it finds the lock free and starts a new worker."""
    held = lock.fd is not None
    lock.release()
    if pending() == 0 and not job_supervisor.running:
        return True
    if held:
        lock.hold()  # work arrived: keep going
    return False
