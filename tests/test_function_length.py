"""No production function is longer than 80 lines: long ones hide several ideas (issue 14)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("labelapp", "weak_supervision", "active_learning", "augment")
MAX_LINES = 80


def long_functions() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    # From ``def`` to the end: a command's option decorators are declarations.
                    length = node.end_lineno - node.lineno + 1
                    if length > MAX_LINES:
                        where = path.relative_to(ROOT)
                        found.append(f"{where}:{node.lineno} {node.name} ({length} lines)")
    return found


@pytest.mark.slow
def test_no_production_function_is_over_80_lines() -> None:
    assert long_functions() == []
