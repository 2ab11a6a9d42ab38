"""Markdown descriptions rendered to HTML and sanitised (no scripts, handlers or js: links)."""
from __future__ import annotations

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i",
                "ul", "ol", "li", "blockquote", "code", "pre", "a", "table", "thead", "tbody",
                "tr", "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str | None) -> Markup:
    """Safe HTML for a description written in Markdown; raw HTML in the source is cleaned."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"], output_format="html")
    cleaned = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener")
    return Markup(cleaned)


def plain_text(text: str | None) -> str:
    """The words of a Markdown text without markup, for search and snippets."""
    html = md.markdown(text or "", extensions=["tables", "sane_lists"])
    return " ".join(nh3.clean(html, tags=set()).split())
