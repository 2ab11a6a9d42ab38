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


def warm_up(app: Flask) -> threading.Thread:
    """Build this process's search structures in the background, so that the first visitor of
    a freshly started worker does not wait for them (about a second at 100,000 models).

    Requests arriving meanwhile simply wait for the backend's lock; a failure is logged and
    left to the first search, which retries."""
    from registry.search.base import SearchRequest

    def run() -> None:
        with app.app_context():
            try:
                get_backend().search(SearchRequest(per_page=1))
            except Exception:  # never take a worker down for a warm-up
                app.logger.exception("search warm-up failed; the first search will retry")
            finally:
                from registry.extensions import db
                db.session.remove()

    thread = threading.Thread(target=run, name="search-warm-up", daemon=True)
    thread.start()
    return thread
