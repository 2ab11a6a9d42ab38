"""The search backends the contract suite runs against: (name, factory or skip reason).

A factory takes the application and returns a backend. To add one, append a
(name, factory, skip reason) triple; a backend that needs a service not configured here
gives a skip reason (in CI, `scripts/test` fails before pytest if an engine does not start).
"""
from __future__ import annotations

import atexit
import os
import uuid

ENGINE_URLS = {"elasticsearch": "REGISTRY_ELASTICSEARCH_URL",
               "opensearch": "REGISTRY_OPENSEARCH_URL"}


def sql_backend(app):
    from registry.search.sql import SqlSearchBackend
    return SqlSearchBackend()


_ENGINES: dict[tuple[str, int], object] = {}


def engine_backend(engine: str, app):
    """One throw-away index per application (database) and engine, built from the database
    on first use, then kept in step through the change log like any other process; deleted
    at exit."""
    backend = _ENGINES.get((engine, id(app)))
    if backend is None:
        from registry.search.engine import EngineBackend
        backend = EngineBackend(app, url=os.environ[ENGINE_URLS[engine]], engine=engine,
                                index=f"registry-test-{uuid.uuid4().hex[:12]}")
        with app.app_context():
            backend.reindex_all()
        atexit.register(backend.delete_index)
        _ENGINES[(engine, id(app))] = backend
    return backend


def _skip(engine: str) -> str | None:
    variable = ENGINE_URLS[engine]
    return None if os.environ.get(variable) else (
        f"{variable} not set (scripts/test starts the engine; see docs/elasticsearch.md)")


BACKENDS = [
    ("sql", sql_backend, None),
    ("elasticsearch", lambda app: engine_backend("elasticsearch", app), _skip("elasticsearch")),
    ("opensearch", lambda app: engine_backend("opensearch", app), _skip("opensearch")),
]
