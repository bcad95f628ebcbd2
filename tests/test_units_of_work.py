"""Each use case is one service function that owns its transaction: routes (api/, web/) and
commands (cli/) parse, call a service and serialize; none of them calls ``commit()``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "labelapp"
CALLERS = ("api", "web", "cli")


def commits_in(path: Path) -> list[str]:
    """``file:line`` of every ``<something>.commit(...)`` call in a module."""
    tree = ast.parse(path.read_text(), str(path))
    return [
        f"{path.relative_to(ROOT.parent)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_the_rule_finds_a_commit() -> None:
    sample = ROOT / "services" / "projects.py"
    assert commits_in(sample), "the check must see the services' own commits"


def test_routes_and_commands_never_commit() -> None:
    found = [
        hit
        for folder in CALLERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for hit in commits_in(path)
    ]
    assert not found, (
        "routes and commands must not commit; move the commit into the service function that "
        f"owns the use case: {found}"
    )


def test_every_job_kind_has_its_handler_in_the_handler_modules() -> None:
    import importlib

    from labelapp.services import jobs

    for module in jobs.HANDLER_MODULES:
        importlib.import_module(module)
    assert set(jobs.JOB_KINDS) <= set(jobs.HANDLERS), set(jobs.JOB_KINDS) - set(jobs.HANDLERS)
    ours = {kind for kind, fn in jobs.HANDLERS.items() if fn.__module__.startswith("labelapp.")}
    assert ours <= set(jobs.JOB_KINDS), (
        f"name these kinds in JOB_KINDS: {ours - set(jobs.JOB_KINDS)}"
    )
