"""The process one job runs in: ``python -m labelapp.services.job_child JOB_ID ATTEMPT``.

Started by a worker (:mod:`labelapp.services.job_supervisor`) for a job it has claimed; imports
the job handlers, runs the job and records its outcome. Its memory goes back to the system when
the job ends, and the worker can stop it (cancel, time limit) without stopping itself.
"""

from __future__ import annotations

import importlib
import logging
import sys

from labelapp import config
from labelapp.db import make_engine, make_session_factory
from labelapp.services import jobs


def main(job_id: int, attempt: int) -> None:
    for module in jobs.HANDLER_MODULES + config.job_modules():
        importlib.import_module(module)
    engine = make_engine(config.database_url())
    try:
        jobs.execute(make_session_factory(engine), job_id, attempt)
    finally:
        engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s job %(process)d %(message)s")
    main(int(sys.argv[1]), int(sys.argv[2]))
