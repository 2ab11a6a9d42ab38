"""The search backends the contract suite runs against: (name, factory or skip reason).

A factory takes the application and returns a backend. To add one, append a
(name, factory) pair; a backend that needs a service not configured here gives a skip reason.
"""
from __future__ import annotations

import atexit
import os
import uuid


def sql_backend(app):
    from registry.search.sql import SqlSearchBackend
    return SqlSearchBackend()


_ELASTIC: dict[int, object] = {}


def elasticsearch_backend(app):
    """One throw-away index per application (engine), built from the database on first use,
    then kept in step through the change log like any other process; deleted at exit."""
    backend = _ELASTIC.get(id(app))
    if backend is None:
        from registry.search.elastic import ElasticsearchBackend
        backend = ElasticsearchBackend(app, url=os.environ["REGISTRY_ELASTICSEARCH_URL"],
                                       index=f"registry-test-{uuid.uuid4().hex[:12]}")
        with app.app_context():
            backend.reindex_all()
        atexit.register(backend.delete_index)
        _ELASTIC[id(app)] = backend
    return backend


BACKENDS = [
    ("sql", sql_backend, None),
    ("elasticsearch", elasticsearch_backend,
     None if os.environ.get("REGISTRY_ELASTICSEARCH_URL") else
     "REGISTRY_ELASTICSEARCH_URL not set"),
]
