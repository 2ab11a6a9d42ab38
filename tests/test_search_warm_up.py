"""A worker builds its search structures at start, before the first visitor asks."""
from registry.search import warm_up


def test_warm_up_builds_the_structures_before_the_first_search(app, make_practice):
    make_practice(name="Tổ hòa giải Thôn Đông")
    with app.app_context():
        app.extensions["search"] = None  # as in a freshly started worker
    warm_up(app).join(timeout=60)
    backend = app.extensions["search"]
    assert backend is not None and backend.generation is not None
    with app.app_context():
        from registry.search import get_backend
        from registry.search.base import SearchRequest
        assert get_backend() is backend
        assert get_backend().search(SearchRequest(q="hoa giai")).total == 1
