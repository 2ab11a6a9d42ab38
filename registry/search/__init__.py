"""Search behind one interface: the SQL backend by default, Elasticsearch or OpenSearch when
configured."""
from __future__ import annotations

import threading

from flask import Flask, current_app

from registry.search.base import SearchBackend

_creating = threading.Lock()


def _engine(app: Flask) -> str | None:
    """"elasticsearch" when REGISTRY_ELASTICSEARCH_URL is set, "opensearch" when
    REGISTRY_OPENSEARCH_URL is, else None (the SQL backend)."""
    if app.config.get("REGISTRY_ELASTICSEARCH_URL"):
        return "elasticsearch"
    if app.config.get("REGISTRY_OPENSEARCH_URL"):
        return "opensearch"
    return None


def create_backend(app: Flask) -> SearchBackend:
    """The engine backend when an engine URL is set (registry.search.engine, imported only
    then), else the SQL backend."""
    if _engine(app):
        from registry.search import engine
        return engine.create_backend(app)
    from registry.search.sql import SqlSearchBackend
    return SqlSearchBackend()


def init_app(app: Flask) -> None:
    """The backend lives in app.extensions["search"], created on first use, one per process."""
    app.extensions["search"] = None
    if _engine(app):
        from registry.search import engine
        engine.install_sync(app)  # the index follows every commit, even before a search


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
