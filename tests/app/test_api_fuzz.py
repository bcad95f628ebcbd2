"""schemathesis against the generated OpenAPI document, as an admin and as an annotator: no
response is a 5xx, every response matches its declared schema and has a documented status.

Bounded (a few examples per operation and mode, about 10 s per role and database, plus one
request per operation); the long run is ``benchmarks/api_fuzz_bench.py``. The seed is fixed so
a failure here reproduces.
"""

from __future__ import annotations

import time

import pytest

from tests.app.api_fuzz import JOB_OPERATIONS, fuzz, seed_world

pytestmark = [pytest.mark.slow, pytest.mark.one_backend]


def _wait_for_jobs(sessions, timeout: float = 90) -> None:
    """Let the jobs the fuzzer started finish before the database is reset."""
    from sqlalchemy import func, select

    from labelapp.db import session_scope
    from labelapp.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(sessions) as session:
            active = session.scalar(
                select(func.count()).select_from(Job).where(Job.status.in_(("queued", "running")))
            )
        if not active:
            return
        time.sleep(0.5)


@pytest.mark.parametrize("role", ["admin", "annotator"])
def test_fuzzing_finds_no_server_error_and_no_schema_mismatch(
    app, sessions, tmp_path, role, inline_jobs
) -> None:  # inline_jobs: reports (agreement, LF analysis) are computed at once, not waited for
    world = seed_world(sessions, tmp_path)
    try:
        outcome = fuzz(
            app, world, role, examples=6, budget_s=10, seed=13, generated_ids_only=JOB_OPERATIONS
        )  # the benchmark runs those jobs
    finally:
        _wait_for_jobs(sessions)
    report = "\n".join(outcome.examples)
    missed = [label for label, n in outcome.operations.items() if n == 0]
    assert len(outcome.operations) >= 41 and not missed, missed  # every operation was called
    assert outcome.statuses[200] + outcome.statuses[201] > 20, outcome.statuses  # not only errors
    assert outcome.server_errors == 0, report
    assert outcome.schema_failures == 0, report
    assert outcome.status_failures == 0, report
