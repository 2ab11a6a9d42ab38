"""Security headers on every response: CSP, no framing, no MIME sniffing, a referrer policy."""
from __future__ import annotations

from flask import Flask, Response

# Our pages load only their own files: no inline script or style, no event-handler
# attributes (templates and search.js keep to this; tests/test_security_headers.py and the
# browser tests check it). Forms post only to us; nobody may frame us.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Full URLs (search terms included) only to ourselves; other sites get nothing. Not
    # "no-referrer": Flask-WTF checks the Referer of forms posted over HTTPS.
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Set the headers a view has not set itself; a view's own (stricter) policy is kept,
    with framing refused in it too."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    policy = response.headers["Content-Security-Policy"]
    if "frame-ancestors" not in policy:
        response.headers["Content-Security-Policy"] = policy + "; frame-ancestors 'none'"
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
