"""The library stays a library: no Flask or SQLAlchemy, and heavy imports only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.paths import REPO_ROOT


@pytest.mark.slow
def test_importing_every_module_pulls_no_web_stack_nor_modal():
    code = (
        "import sys, pkgutil, importlib, active_learning;"
        "[importlib.import_module('active_learning.' + m.name)"
        " for m in pkgutil.iter_modules(active_learning.__path__)];"
        "bad = [m for m in ('flask', 'sqlalchemy', 'modAL', 'torch', 'matplotlib',"
        " 'sentence_transformers') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
