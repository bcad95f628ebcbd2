"""Where labelapp keeps its state: one rule for the server, the CLI and the tests.

``LABELAPP_DATABASE_URL`` wins when set; otherwise an SQLite file ``labelapp.sqlite3`` inside
``LABELAPP_DATA_DIR`` (default: the user's data folder, e.g. ``~/.local/share/labelapp``).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATABASE_FILENAME = "labelapp.sqlite3"


def data_dir() -> Path:
    """The data directory (created if missing): database file, uploaded media, exports."""
    configured = os.environ.get("LABELAPP_DATA_DIR")
    path = Path(configured) if configured else Path(platformdirs.user_data_dir("labelapp"))
    return private_dir(path)


def private_dir(path: Path) -> Path:
    """``path`` resolved; created 0700 if missing (a data directory holds the database, media
    and the secret key: only the server's user may read them)."""
    path = path.expanduser().resolve()
    if not path.exists():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        path.chmod(0o700)  # mkdir's mode is masked by the umask
    return path


def database_url() -> str:
    """The SQLAlchemy URL of the database every command and the server use."""
    url = os.environ.get("LABELAPP_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{data_dir() / DATABASE_FILENAME}"


def media_dir() -> Path:
    """Where imported images are stored, content-addressed."""
    path = data_dir() / "media"
    path.mkdir(parents=True, exist_ok=True)
    return path


# Where LF application runs (labelapp.services.weak.dask_apply): in process for small projects, on
# Dask for large ones. On a 2-core machine the in-process applier is the faster one (1M texts x 20
# keyword/regex LFs: 3.8 s in process, 10.3 s on a 2-worker LocalCluster, benchmarks/RESULTS.md;
# 200k texts x 6 declarative + 2 Python LFs: 9.9 s against 17.7 s), so a LocalCluster is only
# started for projects beyond what one process comfortably holds; a configured scheduler (more
# machines) is always used.
DASK_MIN_ITEMS_DEFAULT = 2_000_000


def dask_scheduler() -> str | None:
    """``LABELAPP_DASK_SCHEDULER``: a ``dask.distributed`` scheduler address (``tcp://host:8786``).

    When set, every LF application runs on that cluster; unset, large projects get a LocalCluster.
    """
    value = os.environ.get("LABELAPP_DASK_SCHEDULER", "").strip()
    if not value:
        return None
    if "://" not in value:
        raise ValueError(
            f"LABELAPP_DASK_SCHEDULER={value!r} is not a scheduler address: give one like "
            "tcp://host:8786, or unset it to run LFs in process"
        )
    return value


def _item_count(name: str, default: int) -> int:
    """The positive whole number of items in environment variable ``name`` (``default`` when
    unset; ``2_000_000`` and ``2,000,000`` read as 2000000)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{name}={raw!r} is not a positive whole number of items: give one "
            f"like {default} (the default), or unset it"
        )
    return value


def dask_min_items() -> int:
    """``LABELAPP_DASK_MIN_ITEMS``: projects with at least this many items apply their LFs on Dask
    (a LocalCluster when no scheduler is configured). Default 2,000,000."""
    return _item_count("LABELAPP_DASK_MIN_ITEMS", DASK_MIN_ITEMS_DEFAULT)


DASK_PART_ITEMS_DEFAULT = 250_000


def dask_part_items() -> int:
    """``LABELAPP_DASK_PART_ITEMS``: items per part when a large project runs on Dask (default
    250,000)."""
    return _item_count("LABELAPP_DASK_PART_ITEMS", DASK_PART_ITEMS_DEFAULT)


def _positive(name: str, default: float, example: str, integer: bool = False) -> float:
    """The positive number in environment variable ``name`` (``default`` when unset)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = 0
    if not value > 0:
        kind = "whole number" if integer else "number"
        raise ValueError(
            f"{name}={raw!r} is not a positive {kind}: give one like {example}, "
            f"or unset it for the default {default:g}"
        )
    return value


# Limits on code SMEs write (labelapp.services.lf_guard): regexes Python's `re` must run go to a
# child process killed after these many seconds; Python LFs run in a sandboxed process per apply.
def regex_timeout_seconds() -> float:
    """``LABELAPP_REGEX_TIMEOUT_SECONDS``: time a regex LF's Python-``re`` fallback may take in a
    preview or a save (inside a request). Default 2."""
    return _positive("LABELAPP_REGEX_TIMEOUT_SECONDS", 2.0, "2")


def regex_apply_timeout_seconds() -> float:
    """``LABELAPP_REGEX_APPLY_TIMEOUT_SECONDS``: the same for an apply job over all items.
    Default 120."""
    return _positive("LABELAPP_REGEX_APPLY_TIMEOUT_SECONDS", 120.0, "120")


def lf_cpu_seconds() -> float:
    """``LABELAPP_LF_CPU_SECONDS``: CPU time of one sandboxed Python-LF run. Default 120."""
    return _positive("LABELAPP_LF_CPU_SECONDS", 120.0, "120")


def lf_wall_seconds() -> float:
    """``LABELAPP_LF_WALL_SECONDS``: wall time of one sandboxed Python-LF run. Default 180."""
    return _positive("LABELAPP_LF_WALL_SECONDS", 180.0, "180")


def lf_memory_mb() -> int:
    """``LABELAPP_LF_MEMORY_MB``: memory Python LFs may allocate beyond their libraries and the
    item data. Default 768."""
    return int(_positive("LABELAPP_LF_MEMORY_MB", 768, "768", integer=True))


def job_workers() -> int:
    """``LABELAPP_JOB_WORKERS``: jobs one ``labelapp worker`` runs at once (its default
    ``--concurrency``), so one project's slow job does not hold up another's. Default 2."""
    return int(_positive("LABELAPP_JOB_WORKERS", 2, "2", integer=True))


def job_nice() -> int:
    """``LABELAPP_JOB_NICE``: the CPU niceness (0-19) of job processes and the Dask workers they
    start, so heavy work gives way to web processes answering annotators. Default 10."""
    raw = os.environ.get("LABELAPP_JOB_NICE", "").strip()
    if not raw:
        return 10
    if not raw.isdigit() or int(raw) > 19:
        raise ValueError(
            f"LABELAPP_JOB_NICE={raw!r} is not a niceness from 0 to 19: give one like 10 "
            "(0 runs jobs at the web processes' priority), or unset it for the default 10"
        )
    return int(raw)


# The job queue (labelapp.services.job_queue): Huey, on an SQLite file in the data directory by
# default (no server), on Redis for a team (web servers and workers on several machines).
def queue_url() -> str | None:
    """``LABELAPP_QUEUE_URL``: ``redis://host:6379/0`` puts the job queue on Redis; web processes
    then start no worker of their own (run ``labelapp worker``). Unset: the data directory."""
    value = os.environ.get("LABELAPP_QUEUE_URL", "").strip()
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            f"LABELAPP_QUEUE_URL={value!r} is not a Redis URL: give one like "
            "redis://127.0.0.1:6379/0, or unset it for the queue in the data directory"
        )
    return value


def queue_name() -> str:
    """``LABELAPP_QUEUE_NAME``: the queue's name on Redis, so several installations can share one
    server. Default ``labelapp``."""
    return os.environ.get("LABELAPP_QUEUE_NAME", "").strip() or "labelapp"


def job_lease_seconds() -> float:
    """``LABELAPP_JOB_LEASE_SECONDS``: a running job whose worker has not renewed its heartbeat for
    this long is taken to be dead (killed, machine gone) and run again. Default 30."""
    return _positive("LABELAPP_JOB_LEASE_SECONDS", 30.0, "30")


def job_attempts() -> int:
    """``LABELAPP_JOB_ATTEMPTS``: runs a job gets when its worker dies under it, before it is
    marked failed. Default 2."""
    return int(_positive("LABELAPP_JOB_ATTEMPTS", 2, "2", integer=True))


def job_modules() -> tuple[str, ...]:
    """``LABELAPP_JOB_MODULES``: more modules (comma-separated) whose ``@handler`` functions add
    job kinds; workers import them beside labelapp's own. Default: none."""
    raw = os.environ.get("LABELAPP_JOB_MODULES", "")
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def job_time_limit(kind: str) -> float:
    """``LABELAPP_JOB_TIME_LIMIT_<KIND>`` (e.g. ``LABELAPP_JOB_TIME_LIMIT_RETRAIN``), else
    ``LABELAPP_JOB_TIME_LIMIT``: seconds a job of that kind may run before it is stopped and
    marked failed. Default 7200 (two hours)."""
    default = _positive("LABELAPP_JOB_TIME_LIMIT", 7200.0, "7200")
    return _positive(f"LABELAPP_JOB_TIME_LIMIT_{kind.upper()}", default, "3600")


def export_wait_seconds() -> float:
    """``LABELAPP_EXPORT_WAIT_SECONDS``: how long ``POST /api/projects/{id}/exports`` waits for
    its job before answering; an export done by then is answered at once (201, with its result),
    a longer one with the job to poll (202). 0 answers at once. Default 2."""
    raw = os.environ.get("LABELAPP_EXPORT_WAIT_SECONDS", "").strip()
    try:
        value = float(raw) if raw else 2.0
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise ValueError(
            f"LABELAPP_EXPORT_WAIT_SECONDS={raw!r} is not a number of seconds from 0 to 60: "
            "give one like 2, or 0 to answer with the job at once"
        )
    return value


# Limits on uploads and image zips (labelapp.services.imports.archive, .images): each refusal
# names the setting to raise. Zips are checked entry by entry while they are unpacked, on the
# bytes really read, never on the sizes the archive claims.
def max_upload_mb() -> int:
    """``LABELAPP_MAX_UPLOAD_MB``: the largest request body (an import's file). Default 1024."""
    return int(_positive("LABELAPP_MAX_UPLOAD_MB", 1024, "1024", integer=True))


def zip_max_files() -> int:
    """``LABELAPP_ZIP_MAX_FILES``: entries an image zip may hold. Default 100,000."""
    return int(_positive("LABELAPP_ZIP_MAX_FILES", 100_000, "100000", integer=True))


def zip_max_bytes() -> int:
    """``LABELAPP_ZIP_MAX_MB``: megabytes an image zip may unpack to, all entries together.
    Default 2048 (bigger folders: ``labelapp import FOLDER`` on the server)."""
    return int(_positive("LABELAPP_ZIP_MAX_MB", 2048, "2048", integer=True)) * 1024**2


def zip_max_ratio() -> float:
    """``LABELAPP_ZIP_MAX_RATIO``: how many times its compressed size an entry may unpack to
    (once past 1 MB; images barely compress, zip bombs by a factor of 1000). Default 100."""
    return _positive("LABELAPP_ZIP_MAX_RATIO", 100.0, "100")


def image_max_pixels() -> int:
    """``LABELAPP_IMAGE_MAX_PIXELS``: width x height an imported image may have (decoding one
    takes about 4 bytes per pixel). Default 100,000,000 (10000 x 10000)."""
    return int(_positive("LABELAPP_IMAGE_MAX_PIXELS", 100_000_000, "100000000", integer=True))


def drift_threshold(name: str, default: float) -> float:
    """``LABELAPP_DRIFT_ALPHA``, ``_MIN_AUC``, ``_MIN_KS``, ``_MIN_V``: when a difference counts as
    drift (labelapp.services.drift.rule). Defaults 0.05, 0.556, 0.08, 0.1 (a small effect)."""
    return _positive(f"LABELAPP_DRIFT_{name.upper()}", default, f"{default:g}")
