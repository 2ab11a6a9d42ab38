"""Search behind one interface: the SQL backend by default, Elasticsearch when configured."""
from __future__ import annotations

import threading

from flask import Flask, current_app

from registry.search.base import SearchBackend

_creating = threading.Lock()


def create_backend(app: Flask) -> SearchBackend:
    """Elasticsearch when REGISTRY_ELASTICSEARCH_URL is set, else the SQL backend.

    registry.search.elastic is imported only then: its create_backend(app) if it has one,
    else ElasticsearchBackend(app)."""
    if app.config.get("REGISTRY_ELASTICSEARCH_URL"):
        from registry.search import elastic
        factory = getattr(elastic, "create_backend", None) or elastic.ElasticsearchBackend
        return factory(app)
    from registry.search.sql import SqlSearchBackend
    return SqlSearchBackend()


def init_app(app: Flask) -> None:
    """The backend lives in app.extensions["search"], created on first use, one per process."""
    app.extensions["search"] = None
    if app.config.get("REGISTRY_ELASTICSEARCH_URL"):
        from registry.search import elastic
        elastic.install_sync(app)  # the index follows every commit, even before a search


def get_backend() -> SearchBackend:
    backend = current_app.extensions.get("search")
    if backend is None:
        with _creating:
            backend = current_app.extensions.get("search")
            if backend is None:
                backend = create_backend(current_app._get_current_object())
                current_app.extensions["search"] = backend
    return backend
