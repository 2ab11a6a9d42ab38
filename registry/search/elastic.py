"""The Elasticsearch 9 backend: the shared engine backend (registry.search.engine) over the
official `elasticsearch` client."""
from __future__ import annotations

from flask import Flask

from registry.search.engine import EngineBackend, install_sync


class ElasticsearchBackend(EngineBackend):
    """Configured by REGISTRY_ELASTICSEARCH_URL and REGISTRY_ELASTICSEARCH_INDEX (the alias)."""

    engine = "elasticsearch"


def create_backend(app: Flask) -> ElasticsearchBackend:
    install_sync(app)
    return ElasticsearchBackend(app)
