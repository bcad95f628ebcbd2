"""A job kind for the durable-job tests (LABELAPP_JOB_MODULES=tests.app.jobs_kinds): it sleeps in
steps, reporting progress, and writes each start and end to a file (with the
process and its niceness), so a test can count runs."""

from __future__ import annotations

import os
import time
from pathlib import Path

from labelapp.services.jobs import handler

SLEEP_KIND = "test_sleep"


@handler(SLEEP_KIND)
def sleep_job(sessions, job, progress) -> dict:
    log = Path(job.params["log"])
    with log.open("a") as f:
        f.write(f"start {job.id} {os.getpid()} nice {os.nice(0)}\n")
    steps = max(1, int(job.params.get("seconds", 1) / 0.1))
    for step in range(steps):
        time.sleep(0.1)
        if step % 5 == 0:
            progress(step / steps, f"step {step}")
    with log.open("a") as f:
        f.write(f"end {job.id} {os.getpid()}\n")
    return {"slept": job.params.get("seconds", 1)}
