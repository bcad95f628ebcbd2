"""Matched words of a keyword or regex LF marked in an example's text (escaped, then ``<mark>``)."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

MAX_TEXT = 2000  # examples are short; longer text is shown unmarked
QUANTIFIED_GROUP = re.compile(r"\)[*+?{]")


def _pattern(spec: dict[str, Any]) -> re.Pattern[str] | None:
    kind = spec.get("kind")
    if kind == "keyword" and spec.get("keywords"):
        flags = 0 if spec.get("case_sensitive") else re.IGNORECASE
        return re.compile("|".join(re.escape(k) for k in spec["keywords"]), flags)
    if kind == "regex" and spec.get("pattern"):
        # Run here, in the web process, only when no group is repeated: a nested quantifier is
        # what makes a pattern backtrack for long, and such a pattern is shown unmarked.
        if QUANTIFIED_GROUP.search(spec["pattern"]):
            return None
        try:
            return re.compile(spec["pattern"], re.IGNORECASE if spec.get("ignore_case") else 0)
        except re.error:
            return None
    return None


def spans(text: str, spec: dict[str, Any] | None, kind: str | None = None) -> list[tuple[int, int]]:
    """Where the keyword or regex LF ``spec`` (of ``kind``, or the spec's own) matches ``text``:
    ``(start, end)`` pairs; none for other kinds, risky patterns or long text."""
    spec = {**(spec or {}), **({"kind": kind} if kind else {})}
    pattern = _pattern(spec) if text and len(text) <= MAX_TEXT else None
    if pattern is None:
        return []
    return [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()]


def marked(text: str, spec: dict[str, Any] | None, kind: str | None = None) -> Markup:
    """``text`` escaped, with each of its :func:`spans` in ``<mark>``."""
    out, last = [], 0
    for start, end in spans(text, spec, kind):
        out += [
            escape(text[last:start]),
            Markup("<mark>"),
            escape(text[start:end]),
            Markup("</mark>"),
        ]
        last = end
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)
