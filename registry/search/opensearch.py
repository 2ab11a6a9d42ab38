"""The OpenSearch backend: the shared engine backend (registry.search.engine) over the
`opensearch-py` client (the Elasticsearch 9 client refuses OpenSearch servers)."""
from __future__ import annotations

from flask import Flask

from registry.search.engine import EngineBackend, install_sync


class OpenSearchBackend(EngineBackend):
    """Configured by REGISTRY_OPENSEARCH_URL and REGISTRY_OPENSEARCH_INDEX (the alias)."""

    engine = "opensearch"


def create_backend(app: Flask) -> OpenSearchBackend:
    install_sync(app)
    return OpenSearchBackend(app)
