"""Where the shared real data lives: ``../shared/data`` beside the repository (as CI has it)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("LABELAPP_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
