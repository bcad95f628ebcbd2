"""Fixtures of the app tests that need more than the test client."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def server(app):
    """The app on a real threaded HTTP server on a free loopback port; yields its base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    thread.join(5)


@pytest.fixture
def inline_jobs(monkeypatch):
    """Queued jobs run at once in the test process, in the request that queues them, instead of
    in a worker process: for tests of what a job computes (e.g. the agreement report a page
    serves), not of how workers run jobs (tests/app/test_jobs_durable.py)."""
    import importlib

    from labelapp.db import session_scope
    from labelapp.models import Job
    from labelapp.services import jobs

    def run_now(sessions, job_id: int) -> None:
        with session_scope(sessions) as session:
            kind = session.get(Job, job_id).kind
        for module in jobs.modules_for(kind):
            importlib.import_module(module)
        jobs.run(sessions, job_id)

    monkeypatch.setattr(jobs, "_send", run_now)


@pytest.fixture(scope="module")
def dask_scheduler():
    """One LocalCluster (two single-threaded worker processes) for the Dask tests of a module;
    yields its scheduler's address (tests set ``LABELAPP_DASK_SCHEDULER`` to it). Not one for
    the whole session: an idle cluster costs a tenth of a core (measured: its scheduler and two
    workers took 3.3 CPU s in 30 idle seconds), more than starting one per module. The workers'
    statistical profiler is off (half of a worker's idle CPU; no test reads profiles)."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.worker.profile.enabled": False}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
        ) as cluster,
    ):
        yield cluster.scheduler_address
