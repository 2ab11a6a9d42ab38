"""Where to go after sign-in: only a path of this site, never another host (no open redirect)."""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri

MAX_LENGTH = 2000


def local_path(target: str | None) -> str | None:
    """`target` as a safe local path (ASCII, percent-encoded), or None when it is not one.

    Browsers drop tabs and line breaks anywhere in a URL and read a backslash as a slash, so
    "/\\t/evil.example" or "/\\\\evil.example" would leave the site; control characters would
    also break the Location header. Such targets are refused outright, not cleaned.
    """
    if not target or len(target) > MAX_LENGTH:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target) or "\\" in target:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    path = iri_to_uri(target)
    if not path.startswith("/") or path.startswith("//"):
        return None
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        return None
    return path
