"""The one search service the page and the API call: same parameters, defaults and backend.

`run_search(args, viewer=…, locale=…)` checks the URL parameters (registry.search.params),
applies the defaults both interfaces share, and asks the configured backend. Defaults:
`per_page` is REGISTRY_PER_PAGE (20); with no text to rank by, results are in Vietnamese
alphabetical order (`sort=name`) whatever order was asked, since relevance without words
would only be id order.
"""
from __future__ import annotations

from flask import current_app

from registry.search import get_backend
from registry.search.base import SearchRequest, SearchResult
from registry.search.params import parse_search_args

ORDER_WITHOUT_TEXT = "name"


def apply_defaults(request: SearchRequest, args) -> SearchRequest:
    if "per_page" not in args:
        request.per_page = current_app.config["REGISTRY_PER_PAGE"]
    if request.sort == "relevance" and not request.q.strip():
        request.sort = ORDER_WITHOUT_TEXT
    return request


def prepare_search(args, *, viewer, locale: str, ignore=()) -> SearchRequest:
    """The request `args` (a MultiDict) stand for, as `viewer` sees; raises SearchArgsError."""
    request = parse_search_args(args, ignore=ignore)
    request.viewer = viewer
    request.locale = locale
    return apply_defaults(request, args)


def search(request: SearchRequest) -> SearchResult:
    return get_backend().search(request)


def run_search(args, *, viewer, locale: str, ignore=()) -> tuple[SearchRequest, SearchResult]:
    """prepare_search, then search."""
    request = prepare_search(args, viewer=viewer, locale=locale, ignore=ignore)
    return request, search(request)
