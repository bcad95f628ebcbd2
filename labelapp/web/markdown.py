"""Guidelines are Markdown; raw HTML in them is shown as text, never rendered."""

from __future__ import annotations

import markdown
from markupsafe import Markup


def render_markdown(source: str) -> Markup:
    """Markdown to HTML with raw HTML escaped (the author's text cannot inject markup or script)."""
    md = markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"])
    # Python-Markdown has no safe mode since 3.0; dropping its two raw-HTML handlers escapes it.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return Markup(md.convert(source or ""))  # noqa: S704 (escaped above)
