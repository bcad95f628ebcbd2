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


@pytest.fixture(scope="session")
def dask_scheduler():
    """One LocalCluster (two single-threaded worker processes) for every Dask test of this test
    process; yields its scheduler's address (tests set ``LABELAPP_DASK_SCHEDULER`` to it).
    Starting a cluster and importing the data stack in its workers takes seconds: once."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
    ) as cluster:
        yield cluster.scheduler_address
