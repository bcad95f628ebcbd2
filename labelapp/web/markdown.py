"""Guidelines are Markdown; raw HTML in them is shown as text, never rendered, and links may only
point to http, https and mailto addresses."""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

# What rendered Markdown may contain (Python-Markdown's output with the tables and fenced-code
# extensions); anything else is dropped by the sanitizer.
ALLOWED_TAGS = {
    "a",
    "abbr",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(source: str) -> Markup:
    """Markdown to HTML that cannot run script: raw HTML is escaped, and the result is
    sanitized (ammonia via nh3) so that links and images keep only http, https and mailto URLs
    (``javascript:``, ``data:`` and the like are removed, however they are spelled or encoded)."""
    md = markdown.Markdown(extensions=["tables", "sane_lists", "fenced_code"])
    # Python-Markdown has no safe mode since 3.0; dropping its two raw-HTML handlers escapes it.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    html = nh3.clean(
        md.convert(source or ""),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(html)
