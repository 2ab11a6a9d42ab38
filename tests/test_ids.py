"""F1: ids past the database's integer range are 404 (JSON on the API), on every id route."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from registry.extensions import db
from registry.routing import MAX_ID, at_most

# 2**31: past PostgreSQL's INTEGER; 2**63: past SQLite's; MAX_ID: the largest id accepted.
TOO_LARGE = (2**31, 2**63, 10**30)
SAMPLE_ARGS = {"period": "2024-H1", "action": "verify"}


def _id_routes(app):
    """(path template, method) for every route with an integer argument."""
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items()
                if isinstance(conv, IntegerConverter)]
        if not ints:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, ints, method


def _path(rule, ints, number: int) -> str:
    def value(match):
        name = match.group(1)
        return str(number) if name in ints else SAMPLE_ARGS[name]
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", value, rule.rule)


@pytest.fixture
def admin_client(app, client, make_user, login):
    from registry.accounts.tokens import create_token
    from registry.models.accounts import User
    user_id = make_user(role="admin", unit="national")
    login(client, user_id)
    with app.app_context():
        _token, plain = create_token(db.session.get(User, user_id), "ids")
        db.session.commit()
    return client, {"Authorization": f"Bearer {plain}"}


def test_every_id_route_is_covered(app):
    routes = {(rule.rule, method) for rule, _ints, method in _id_routes(app)}
    assert ("/api/v1/practices/<int:practice_id>", "GET") in routes
    assert ("/practices/<int:practice_id>", "GET") in routes
    assert ("/users/<int:user_id>/reset-password", "POST") in routes
    assert len(routes) >= 15


@pytest.mark.parametrize("number", TOO_LARGE + (MAX_ID,))
def test_ids_out_of_range_are_not_found(app, admin_client, number):
    client, headers = admin_client
    failures = []
    for rule, ints, method in _id_routes(app):
        path = _path(rule, ints, number)
        response = client.open(path, method=method, headers=headers, data={},
                               follow_redirects=False)
        if response.status_code != 404:
            failures.append(f"{method} {path}: {response.status_code}")
        elif path.startswith("/api/"):
            assert response.is_json, path
            assert response.get_json()["error"]["code"] == "not_found"
    assert not failures, failures


def test_api_practice_past_postgresql_integer_is_json_404(client):
    response = client.get("/api/v1/practices/2147483648")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_largest_id_still_routes(app):
    with app.test_request_context():
        from flask import url_for
        assert url_for("catalogue.detail", practice_id=MAX_ID).endswith(str(MAX_ID))


def test_bound_regex_matches_exactly_up_to_the_limit():
    for limit in (MAX_ID, 2**63 - 1, 1000, 7, 0, 109):
        pattern = re.compile(at_most(limit))
        for n in (0, 1, 9, 10, limit // 2, limit - 1, limit):
            if 0 <= n <= limit:
                assert pattern.fullmatch(str(n)), (limit, n)
        for n in (limit + 1, limit + 10, (limit + 1) * 10, limit * 10 + 10):
            assert not pattern.fullmatch(str(n)), (limit, n)
    assert re.fullmatch(at_most(MAX_ID), "0042")
