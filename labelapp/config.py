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
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
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


# Where LF application runs (labelapp.services.weak_dask): in process for small projects, on Dask
# for large ones. On a 2-core machine the in-process applier is the faster one (1M texts x 20
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


def dask_min_items() -> int:
    """``LABELAPP_DASK_MIN_ITEMS``: projects with at least this many items apply their LFs on Dask
    (a LocalCluster when no scheduler is configured). Default 2,000,000."""
    raw = os.environ.get("LABELAPP_DASK_MIN_ITEMS", "").strip()
    if not raw:
        return DASK_MIN_ITEMS_DEFAULT
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"LABELAPP_DASK_MIN_ITEMS={raw!r} is not a positive whole number of items: give one "
            f"like 2000000 (the default), or unset it"
        )
    return value
