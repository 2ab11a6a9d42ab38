"""The few REST calls the search-engine backend makes, over the engine's official client.

Elasticsearch 9 and OpenSearch take the same request bodies for everything the registry
does (index creation, aliases, bulk, mget, search with aggregations), but their Python
clients refuse each other's servers. Each client here turns a call into the same
`request(method, path, body)` and its failures into two exceptions: `EngineUnavailable`
(no answer, a timeout, a 5xx) and `EngineRequestError` (the engine refused the request).
"""
from __future__ import annotations

import json

from registry.search.base import SearchUnavailable


class EngineUnavailable(SearchUnavailable):
    """The engine did not answer (connection refused, timeout) or answered 5xx."""


class EngineRequestError(Exception):
    """The engine answered with an error status (4xx): `status`, `error_type`."""

    def __init__(self, status: int, error_type: str | None, message: str):
        super().__init__(f"{status} {error_type or ''}: {message}")
        self.status = status
        self.error_type = error_type


def _error_type(info) -> str | None:
    if isinstance(info, dict):
        error = info.get("error")
        if isinstance(error, dict):
            return error.get("type")
        if isinstance(error, str):
            return error
    return None


def ndjson(lines: list[dict]) -> bytes:
    """A bulk body: one JSON object per line, newline-terminated."""
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"
                   for line in lines).encode("utf-8")


class ElasticsearchClient:
    """REST calls through the `elasticsearch` (9.x) client."""

    engine = "elasticsearch"

    def __init__(self, url: str, timeout: float, retries: int):
        from elasticsearch import Elasticsearch
        self._client = Elasticsearch(url, request_timeout=timeout, max_retries=retries,
                                     retry_on_timeout=retries > 0)

    def request(self, method: str, path: str, body=None, params: dict | None = None,
                timeout: float | None = None, bulk: bool = False):
        from elastic_transport import TransportError
        from elasticsearch import ApiError
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/x-ndjson" if bulk else "application/json"
        client = self._client.options(request_timeout=timeout) if timeout else self._client
        try:
            response = client.perform_request(method, path, params=params, headers=headers,
                                              body=body)
        except ApiError as exc:
            status = exc.meta.status
            if status >= 500:
                raise EngineUnavailable(f"Elasticsearch answered {status}: {exc}") from exc
            raise EngineRequestError(status, _error_type(exc.body), str(exc)) from exc
        except TransportError as exc:  # connection refused, timeout, TLS...
            raise EngineUnavailable(f"Elasticsearch unreachable: {exc}") from exc
        if method == "HEAD":
            return response.meta.status == 200
        return response.body

    def close(self) -> None:
        self._client.close()


class OpenSearchClient:
    """REST calls through the `opensearch-py` client."""

    engine = "opensearch"

    def __init__(self, url: str, timeout: float, retries: int):
        from opensearchpy import OpenSearch
        self._client = OpenSearch([url], timeout=timeout, max_retries=retries,
                                  retry_on_timeout=retries > 0)

    def request(self, method: str, path: str, body=None, params: dict | None = None,
                timeout: float | None = None, bulk: bool = False):
        from opensearchpy.exceptions import ConnectionError as OsConnectionError
        from opensearchpy.exceptions import TransportError
        headers = {"accept": "application/json"}
        if body is not None:
            headers["content-type"] = "application/x-ndjson" if bulk else "application/json"
        try:
            return self._client.transport.perform_request(
                method, path, params=params, body=body, headers=headers, timeout=timeout)
        except OsConnectionError as exc:  # refused, timeout (ConnectionTimeout is one)
            raise EngineUnavailable(f"OpenSearch unreachable: {exc}") from exc
        except TransportError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else 503
            if status >= 500:
                raise EngineUnavailable(f"OpenSearch answered {status}: {exc}") from exc
            raise EngineRequestError(status, _error_type(exc.info) or exc.error,
                                     str(exc)) from exc

    def close(self) -> None:
        self._client.close()


CLIENTS = {"elasticsearch": ElasticsearchClient, "opensearch": OpenSearchClient}
