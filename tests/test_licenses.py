"""The installed tree stays permissive: no GPL or AGPL package in the environment `make` builds.

LGPL (psycopg) is allowed: it is linked, not copied, and DESIGN.md names psycopg as our driver.
The licence is read from each distribution's metadata (License-Expression, License, classifiers).
"""

from __future__ import annotations

import re
from importlib.metadata import distributions

# GPL or AGPL, not LGPL: "GPL-3.0", "AGPL-3.0-only", "GNU General Public License v3", "GNU Affero".
COPYLEFT = re.compile(r"(?<![L\w])A?GPL|GNU (Affero )?General Public License", re.IGNORECASE)
LESSER = re.compile(r"Lesser|Library", re.IGNORECASE)


def licence_texts(meta) -> list[str]:
    """The short licence statements of one distribution (full licence bodies are skipped)."""
    texts = [meta.get("License-Expression") or ""]
    licence = meta.get("License") or ""
    if len(licence) < 200:  # some packages paste the whole licence text here
        texts.append(licence)
    texts += [c for c in (meta.get_all("Classifier") or []) if c.startswith("License ::")]
    return [t for t in texts if t]


def is_copyleft(text: str) -> bool:
    """True for a GPL/AGPL statement, false for LGPL and everything permissive."""
    for part in re.split(r"\s+(?:OR|or)\s+|;", text):
        if COPYLEFT.search(part) and not LESSER.search(part):
            return True
    return False


def test_the_licence_rule_tells_gpl_from_lgpl_and_permissive() -> None:
    assert is_copyleft("GPL-3.0-or-later")
    assert is_copyleft("AGPL-3.0-only")
    assert is_copyleft("License :: OSI Approved :: GNU General Public License v3 (GPLv3)")
    assert is_copyleft("License :: OSI Approved :: GNU Affero General Public License v3")
    assert not is_copyleft("LGPL-3.0-only")
    assert not is_copyleft(
        "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)"
    )
    assert not is_copyleft("MIT")
    assert not is_copyleft("Apache-2.0")


def test_no_gpl_or_agpl_package_is_installed() -> None:
    offenders = sorted(
        f"{dist.metadata['Name']} ({text})"
        for dist in distributions()
        for text in licence_texts(dist.metadata)
        if is_copyleft(text)
    )
    assert not offenders, (
        "GPL/AGPL packages are installed; the tree must stay permissive (DESIGN.md). "
        "Remove them from pyproject.toml or use them only in a benchmark's own virtual "
        f"environment: {sorted(set(offenders))}"
    )
