"""One home for the API's JSON serializers: ``labelapp/api/serializers/`` (one module per resource
family). A ``*_json`` function defined in a route module or a page module would be a second
home a change could miss; services never import the API (nor the pages), so they stay usable
without Flask, and the two serializers services need (``lf_json``, ``version_json``) stay
in them."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labelapp"
SERIALIZERS = PACKAGE / "api" / "serializers"


def serializers_defined(source: str) -> list[str]:
    """Public functions named ``*_json`` defined anywhere in ``source``."""
    return [
        node.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef)
        and node.name.endswith("_json")
        and not node.name.startswith("_")
    ]


def imported_modules(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_route_and_page_modules_define_no_serializers():
    outside = [
        f"{path.relative_to(ROOT)}: {name}"
        for folder in (PACKAGE / "api", PACKAGE / "web")
        for path in sorted(folder.rglob("*.py"))
        if SERIALIZERS not in path.parents
        for name in serializers_defined(path.read_text())
    ]
    assert not outside, "move these into labelapp/api/serializers/:\n" + "\n".join(outside)
    homes = {path.stem for path in SERIALIZERS.glob("*.py")} - {"__init__"}
    assert {"projects", "users", "items", "jobs", "review"} <= homes


def test_services_never_import_the_api_or_the_pages():
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((PACKAGE / "services").rglob("*.py"))
        for module in sorted(imported_modules(path.read_text()))
        if module.split(".")[:2] in (["labelapp", "api"], ["labelapp", "web"])
    ]
    assert not found, "\n".join(found)


def test_the_scans_see_what_they_look_for():
    source = "from labelapp.api.serializers.jobs import job_json\ndef thing_json(x):\n    pass\n"
    assert serializers_defined(source) == ["thing_json"]
    assert serializers_defined("def _wants_json():\n    pass\n") == []
    assert "labelapp.api.serializers.jobs" in imported_modules(source)
