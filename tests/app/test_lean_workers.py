"""A web worker starts without the data-science stack: numpy, pandas and friends load only in the
jobs and pages that need them, so each gunicorn worker stays small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "torch", "snorkel", "dask", "PIL")


def test_the_app_starts_without_heavy_libraries(tmp_path: Path) -> None:
    code = (
        "import json, sys\n"
        "from labelapp.app import create_app\n"
        f"create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/x.db', 'CHECK_SCHEMA': False, "
        "'SECRET_KEY': 'x'})\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"LABELAPP_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
