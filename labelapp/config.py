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
