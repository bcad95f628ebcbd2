"""Roles are named through ``labelapp.models.roles.Role``, never spelled as bare strings in
access checks: a typo like ``project_for_me(pid, "smee")`` would silently lock everyone but
admins out, and a rename would have to find every spelling. Migrations (which must keep their
literal values) and ``roles.py`` itself (where the names are defined) are exempt."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labelapp"
ROLE_NAMES = frozenset({"admin", "sme", "annotator"})
EXEMPT = (PACKAGE / "models" / "roles.py",)

# Role checks: a string among their arguments (after the first) would be a role.
ROLE_CHECKS = frozenset({"project_for_me", "require_project_role", "require_role"})


def _is_role_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in ROLE_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_is_role_literal(element) for element in node.elts)
    return False


def _names_a_role(node: ast.AST) -> bool:
    """``x.role``, ``role``, ``member_role``, ``x.account_role``..."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    return name is not None and (name == "role" or name.endswith("_role"))


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def bare_role_literals(source: str, filename: str = "<source>") -> list[str]:
    """Every place in ``source`` that spells a role as a string: in a role check's arguments,
    a ``role=`` keyword, or a comparison with a role."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call):
            if _call_name(node) in ROLE_CHECKS and any(map(_is_role_literal, node.args[1:])):
                found.append((node.lineno, f"{_call_name(node)}(...) with a role string"))
            for keyword in node.keywords:
                if keyword.arg == "role" and _is_role_literal(keyword.value):
                    found.append((node.lineno, "role= keyword with a role string"))
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(map(_names_a_role, operands)) and any(map(_is_role_literal, operands)):
                found.append((node.lineno, "role compared with a role string"))
    return [f"{filename}:{line}: {what}" for line, what in sorted(found)]


def production_files() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts and path not in EXEMPT
    ]


def _scan(paths: list[Path], scan: Callable[[str, str], list[str]]) -> list[str]:
    """Every hit of ``scan(text, name)`` in the files."""
    return [hit for path in paths for hit in scan(path.read_text(), str(path.relative_to(ROOT)))]


@pytest.mark.slow
def test_no_bare_role_strings_in_labelapp():
    found = _scan(production_files(), bare_role_literals)
    assert not found, "use labelapp.models.roles.Role instead of a bare string:\n" + "\n".join(
        found
    )


def test_the_scan_catches_each_kind_of_bare_role():
    """The scan above must be able to fail: each way of spelling a role is reported."""
    source = """
project = project_for_me(project_id, "sme")
require_project_role(session, user, project, "annotator", "sme")
if user.role == "admin": pass
if "sme" != member.role: pass
if account_role in ("annotator", "sme"): pass
session.add(Membership(user_id=1, project_id=2, role="annotator"))
"""
    assert [hit.split(": ", 1)[0].rsplit(":", 1)[1] for hit in bare_role_literals(source)] == [
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
    ]


def test_the_scan_accepts_the_enum_and_unrelated_strings():
    source = """
from labelapp.models.roles import Role
project = project_for_me(project_id, Role.SME)
require_project_role(session, user, project, Role.ANNOTATOR, Role.SME.value)
if user.role == Role.ADMIN: pass
user = get_user(session, "admin")  # a username, not a role
row = {"annotator": name}
if kind == "sme": pass
"""
    assert bare_role_literals(source) == []


# In a template or a script: a role string on either side of ==, !=, ===, or a role string
# opening an ``in (...)`` list.
_QUOTED_ROLE = r"""["'](?:admin|sme|annotator)["']"""
_PAGE_ROLE_COMPARISON = re.compile(
    rf"(?:[!=]==?\s*{_QUOTED_ROLE})|(?:{_QUOTED_ROLE}\s*[!=]==?)|(?:\bin\s*[(\[]\s*{_QUOTED_ROLE})"
)


def bare_role_comparisons_in_page(text: str, filename: str = "<page>") -> list[str]:
    """Every line of a Jinja template or a script that compares with a bare role string
    (templates get ``Role`` as a global: ``r == Role.ANNOTATOR``)."""
    return [
        f"{filename}:{number}: role compared with a role string"
        for number, line in enumerate(text.splitlines(), 1)
        if _PAGE_ROLE_COMPARISON.search(line)
    ]


def page_files() -> list[Path]:
    return sorted(PACKAGE.glob("templates/**/*.html")) + sorted(PACKAGE.glob("static/**/*.js"))


def test_no_bare_role_strings_in_templates_or_scripts():
    assert page_files(), "no templates found"
    found = _scan(page_files(), bare_role_comparisons_in_page)
    assert not found, "compare with Role.SME etc. (a Jinja global), not a string:\n" + "\n".join(
        found
    )


def test_the_page_scan_catches_each_kind_and_accepts_the_enum():
    page = """{% if r == "annotator" or u.role != 'annotator' %}
{% if roles.get(p.id) == "sme" %}
if (user.role === "admin") {}
{% if "sme" == role %}
{% if role in ("sme", "admin") %}
{% if r == Role.ANNOTATOR or u.role != Role.ANNOTATOR %}
<div role="status">annotator</div> <input name="annotator" value="{{ query.annotator }}">
{% if kind == "smell" %}"""
    hits = bare_role_comparisons_in_page(page)
    assert [hit.split(":")[1] for hit in hits] == ["1", "2", "3", "4", "5"]


def test_migrations_are_not_scanned():
    assert production_files(), "no labelapp modules found"
    assert all("migrations" not in p.parts for p in production_files())
    assert (PACKAGE / "models" / "roles.py") not in production_files()
