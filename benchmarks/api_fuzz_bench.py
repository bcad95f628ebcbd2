"""Fuzz the JSON API for a long time (issue 13): schemathesis against /api/openapi.json on
PostgreSQL, as each role; prints requests sent, 5xx, schema and status-code failures per role.

    .venv/bin/python benchmarks/api_fuzz_bench.py --seconds 300 --roles admin,annotator,sme

The bounded version of this run is ``tests/app/test_api_fuzz.py`` (in ``make test``). Every
request goes to the app in this process (WSGI), never over the network.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fresh_database, machine, peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="fuzzing time per role")
    parser.add_argument("--roles", default="admin,annotator,sme")
    parser.add_argument(
        "--examples",
        type=int,
        default=500,
        help="examples per operation, generation mode and id choice (upper bound)",
    )
    parser.add_argument("--backend", default="postgresql", choices=("postgresql", "sqlite"))
    parser.add_argument("--seed", type=int, default=None, help="fixed seed (default: random)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="api-fuzz-"))
    os.environ["LABELAPP_DATA_DIR"] = str(workdir)
    from labelapp.app import create_app
    from labelapp.db import make_engine, make_session_factory
    from tests.app.api_fuzz import fuzz, seed_world

    print(
        f"# {machine()}; load {os.getloadavg()[0]:.1f}; backend {args.backend}; "
        f"{args.seconds:.0f} s per role; seed {args.seed}"
    )
    rows, failures = [], []
    with fresh_database(args.backend, workdir) as url:
        os.environ["LABELAPP_DATABASE_URL"] = url
        engine = make_engine(url)
        world = seed_world(make_session_factory(engine), workdir)
        app = create_app({"DATABASE_URL": url, "TESTING": True, "SECRET_KEY": "bench"})
        for role in args.roles.split(","):
            outcome = fuzz(
                app, world, role, examples=args.examples, budget_s=args.seconds, seed=args.seed
            )
            statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(outcome.statuses.items()))
            rows.append(
                f"| {role} | {outcome.requests:,} | {outcome.requests / outcome.seconds:.0f} "
                f"| {outcome.server_errors} | {outcome.schema_failures} | "
                f"{outcome.status_failures} | {outcome.seconds:.0f} | {statuses} |"
            )
            failures.extend(f"{role}: {text}" for text in outcome.examples)
            print(rows[-1], flush=True)
        app.extensions["labelapp.engine"].dispose()
        engine.dispose()
        time.sleep(1)
    print(
        "| role | requests | req/s | 5xx | schema failures | status failures | seconds | statuses |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    for text in failures:
        print(text[:2000])


if __name__ == "__main__":
    main()
