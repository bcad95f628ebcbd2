"""Helpers shared by the benchmarks: throwaway databases and work folders, peak memory, machine
description."""

from __future__ import annotations

import os
import platform
import resource
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# has_person_nlp's votes under the Snorkel tutorial's pinned spaCy 2.1 (benchmarks/spacy2/README.md)
SPACY21_VOTES = (
    Path(__file__).resolve().parent / "spacy2" / "votes" / "person_votes_spacy2.1.9_sm2.1.0.json"
)
PG_ADMIN = os.environ.get("LABELAPP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}"


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database URL on ``kind`` ("sqlite" or "postgresql"), dropped afterwards."""
    from labelapp.migrate import upgrade

    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
        url = f"sqlite:///{path}"
        upgrade(url)
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = f"labelapp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def backend_workdir(kind: str) -> Iterator[tuple[Path, str]]:
    """A temporary work folder and a fresh database on ``kind`` (see :func:`fresh_database`),
    both removed afterwards; ``LABELAPP_DATA_DIR`` points to the folder's ``data``."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        os.environ["LABELAPP_DATA_DIR"] = str(Path(tmp) / "data")
        yield Path(tmp), url
