"""``labelapp worker``: run background jobs (retrain, weak supervision, exports, label issues)."""

from __future__ import annotations

import click


@click.command("worker")
@click.option(
    "--concurrency",
    "-c",
    type=int,
    default=None,
    help="Jobs run at once (default: LABELAPP_JOB_WORKERS, 2).",
)
@click.option(
    "--parent-pid",
    type=int,
    default=None,
    hidden=True,
    help="Stop when this process (the web server that started the worker) is gone.",
)
@click.option(
    "--idle-exit",
    type=float,
    default=None,
    hidden=True,
    help="Stop after this many seconds without work.",
)
def worker(concurrency: int | None, parent_pid: int | None, idle_exit: float | None) -> None:
    """Run jobs from the queue (LABELAPP_QUEUE_URL, or the data directory) until stopped.

    Ctrl+C stops after the running jobs; SIGTERM at once (the jobs are run again by another
    worker). Start as many workers, on as many machines, as the jobs need.
    """
    import logging

    from labelapp import config
    from labelapp.services.job_worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    try:
        count = concurrency or config.job_workers()
        config.queue_url()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if count < 1:
        raise click.BadParameter("give at least 1", param_hint="--concurrency")
    run_worker(count, parent_pid=parent_pid, idle_exit=idle_exit)
