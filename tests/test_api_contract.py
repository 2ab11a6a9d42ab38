"""The OpenAPI document and the server agree (finding F10, issue 12): over-long URLs, If-Match: *,
the limits the schema declares, and the cases schemathesis found (tests/test_api_fuzz.py)."""
from __future__ import annotations

import pytest

from registry.api.errors import MAX_URL_BYTES
from test_api_practices import OWN, VALID, assert_error, auth, post, token_for  # noqa: F401

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


# -- (a) over-long URLs: the API's JSON 414, below the servers' own limits -------------------

def _query_of_length(total: int, path: str = "/api/v1/practices") -> str:
    """A search URL exactly `total` bytes long (path, "?q=", then ASCII letters)."""
    return path + "?q=" + "a" * (total - len(path) - 3)


def test_url_over_the_limit_is_json_414(client):
    error = assert_error(client.get(_query_of_length(MAX_URL_BYTES + 1)), 414, "uri_too_long")
    assert str(MAX_URL_BYTES) in error["message"] and "url" in error["fields"]
    # Percent-encoded bytes count as sent: 1,400 "ộ" are 4,200 bytes after encoding.
    assert_error(client.get("/api/v1/practices", query_string={"q": "ộ" * 1400}), 414)
    # Any API URL, unknown ones and writes included, before authentication or routing.
    assert_error(client.get(_query_of_length(MAX_URL_BYTES + 1, "/api/v1/khong-co")), 414)
    assert_error(client.post(_query_of_length(MAX_URL_BYTES + 1, "/api/v1/practices"),
                             json=VALID), 414)


def test_url_at_the_limit_is_answered_normally(client):
    assert client.get(_query_of_length(MAX_URL_BYTES)).status_code == 200


def test_long_urls_outside_the_api_are_not_the_apis_business(client):
    response = client.get("/tim-kiem?q=" + "a" * (MAX_URL_BYTES + 10))
    assert response.status_code != 414


def test_every_operation_documents_414(document):
    for path, method, operation in _operations(document):
        assert operation["responses"]["414"] == {"$ref": "#/components/responses/UriTooLong"}, \
            f"{method} {path}"
    assert str(MAX_URL_BYTES) in document["components"]["responses"]["UriTooLong"][
        "description"]


def test_gunicorn_accepts_longer_request_lines_than_the_api():
    from registry import gunicorn_conf
    assert gunicorn_conf.limit_request_line > MAX_URL_BYTES + len("DELETE  HTTP/1.1")


# -- (b) If-Match: * matches the current representation but names no version -----------------

def test_if_match_star_lets_the_body_version_decide(client, token_for):
    token = token_for()
    body = post(client, token, VALID).get_json()
    url = f"/api/v1/practices/{body['id']}"
    star = auth(token, **{"If-Match": "*"})
    saved = client.put(url, json=dict(body, summary="Sửa với If-Match: *"), headers=star)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["version"] == body["version"] + 1
    # The body's stale version decides: 409 (as without If-Match), not 412.
    error = assert_error(client.patch(url, json={"summary": "cũ", "version": body["version"]},
                                      headers=star), 409, "version_conflict")
    assert "version" in error["fields"]
    # No version at all: still 428, and the message says why * is not enough.
    error = assert_error(client.patch(url, json={"summary": "không phiên bản"}, headers=star),
                         428, "precondition_required")
    assert "*" in error["message"]


def test_if_match_star_archives(client, token_for):
    token = token_for()
    body = post(client, token, VALID).get_json()
    url = f"/api/v1/practices/{body['id']}"
    assert client.delete(url, headers=auth(token, **{"If-Match": "*"})).status_code == 204
    assert client.get(url, headers=auth(token)).get_json()["status"] == "archived"


def test_if_match_star_on_a_missing_model_is_404(client, token_for):
    assert_error(client.put("/api/v1/practices/999999", json=VALID,
                            headers=auth(token_for(), **{"If-Match": "*"})), 404)


def test_every_if_match_parameter_documents_the_star(document):
    described = document["components"]["parameters"]["IfMatch"]["description"]
    assert "`*`" in described and "428" in described and "RFC 9110" in described
    with_if_match = set()
    for path, method, operation in _operations(document):
        refs = [p.get("$ref") for p in operation.get("parameters", [])]
        if "#/components/parameters/IfMatch" in refs:
            with_if_match.add((method, path))
            if method in ("put", "patch"):
                assert "428" in operation["responses"], (method, path)
    assert with_if_match == {(m, "/api/v1/practices/{practice_id}")
                             for m in ("put", "patch", "delete")}


# -- (c) the limits the schema declares are the server's ------------------------------------

def test_facet_values_count_repeats_as_maxitems_does(client, document):
    parameter = next(p for p in document["paths"]["/api/v1/practices"]["get"]["parameters"]
                     if p["name"] == "domain")
    limit = parameter["schema"]["maxItems"]
    at_limit = client.get("/api/v1/practices", query_string=[("domain", "pc-toi-pham")] * limit)
    assert at_limit.status_code == 200
    over = client.get("/api/v1/practices",
                      query_string=[("domain", "pc-toi-pham")] * (limit + 1))
    assert "domain" in assert_error(over, 400, "invalid_parameters")["fields"]


# -- found by schemathesis --------------------------------------------------------------------

def test_nomination_with_a_non_string_period_is_400_not_500(client, token_for, make_practice):
    """schemathesis, officer: POST /nominations {"periods": [{}]} was a 500 (a dict is not
    hashable in the set of known periods)."""
    practice_id = make_practice(outcomes=[{"period": "2024-H1", "tips_reported": 1}])
    for periods in ([{}], [["2024-H1"]], [1]):
        response = client.post("/api/v1/nominations", headers=auth(token_for()), json={
            "practice_id": practice_id, "level": "province", "reason": "Điển hình.",
            "periods": periods})
        assert "periods" in assert_error(response, 400, "validation_error")["fields"]


def test_workflow_posts_document_415_and_413(document, client, token_for, make_practice):
    """schemathesis, admin: a workflow POST without a JSON body answered 415, undocumented."""
    for path, method, operation in _operations(document):
        if method == "post" and "requestBody" in operation:
            assert {"413", "415"} <= set(operation["responses"]), path
    practice_id = make_practice()
    response = client.post(f"/api/v1/practices/{practice_id}/actions/submit",
                           headers=auth(token_for("admin", "national")), data="x",
                           content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_commendation_with_an_object_as_level_is_400_not_500(client, token_for, make_practice):
    """schemathesis, admin: POST …/commendations {"level": {}} was a 500 (unhashable in the
    set of levels); the same for every workflow choice sent as an object or a list."""
    practice_id = make_practice()
    admin = auth(token_for("admin", "national"))
    body = {"kind": "khen_thuong", "level": {}, "decided_on": "2020-01-01",
            "decision_number": "12/QĐ-UBND"}
    response = client.post(f"/api/v1/practices/{practice_id}/commendations", json=body,
                           headers=admin)
    assert "level" in assert_error(response, 400, "validation_error")["fields"]
    response = client.post(f"/api/v1/practices/{practice_id}/commendations",
                           json=dict(body, level="commune", kind=["khen_thuong"]), headers=admin)
    assert "kind" in assert_error(response, 400, "validation_error")["fields"]
    response = client.post("/api/v1/nominations", headers=admin, json={
        "practice_id": practice_id, "level": {}, "reason": "Điển hình.", "periods": ["2024"]})
    assert "level" in assert_error(response, 400, "validation_error")["fields"]


def test_nomination_of_an_id_past_the_integer_range_is_400_not_500(client, token_for, document):
    """schemathesis, officer: POST /nominations {"practice_id": 129076027725913118137823264768}
    was a 500 (the id overflowed the database integer)."""
    from registry.routing import MAX_ID
    declared = document["components"]["schemas"]["NominationRequest"]["properties"][
        "practice_id"]
    assert (declared["minimum"], declared["maximum"]) == (1, MAX_ID)
    for practice_id in (129076027725913118137823264768, MAX_ID + 1, 0, -5):
        response = client.post("/api/v1/nominations", headers=auth(token_for()), json={
            "practice_id": practice_id, "level": "province", "reason": "Điển hình.",
            "periods": ["2024"]})
        assert "practice_id" in assert_error(response, 400, "validation_error")["fields"]


def test_timeline_times_carry_their_offset(client, token_for, make_practice, document):
    """schemathesis, admin: GET …/timeline answered "at": "2026-12-05T16:13:29.094514", not
    an RFC 3339 date-time (SQLite gives stored UTC times back without a zone)."""
    from datetime import datetime
    practice_id = make_practice()
    client.post(f"/api/v1/practices/{practice_id}/commendations",
                headers=auth(token_for("admin", "national")),
                json={"kind": "khen_thuong", "level": "commune", "decided_on": "2020-01-01",
                      "decision_number": "12/QĐ-UBND"})
    events = client.get(f"/api/v1/practices/{practice_id}/timeline").get_json()["events"]
    assert events
    for event in events:
        assert datetime.fromisoformat(event["at"]).utcoffset() is not None, event["at"]
    schema = document["components"]["schemas"]["Timeline"]["properties"]["events"]["items"]
    assert schema["properties"]["at"]["format"] == "date-time"


# -- (d) what the schema allows the server accepts ----------------------------------------------

def test_an_integral_json_number_is_an_integer_version(client, token_for):
    """schemathesis (positive data): "version": 3.0 is an integer for JSON Schema; the server
    took it for a wrong type."""
    token = token_for()
    body = post(client, token, VALID).get_json()
    saved = client.patch(f"/api/v1/practices/{body['id']}",
                         json={"summary": "Đổi", "version": float(body["version"])},
                         headers=auth(token))
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert_error(client.patch(f"/api/v1/practices/{body['id']}",
                              json={"summary": "x", "version": 1.5}, headers=auth(token)), 400)


def test_workflow_requests_declare_what_the_server_requires(document):
    """schemathesis (positive data): an empty nomination reason or decision number was valid
    by the schema and refused by the server."""
    schemas = document["components"]["schemas"]
    nomination = schemas["NominationRequest"]["properties"]
    assert nomination["reason"]["minLength"] == 1 and nomination["reason"]["pattern"] == r"\S"
    outcome_period = schemas["Outcome"]["properties"]["period"]["pattern"]
    assert nomination["periods"]["items"]["pattern"] == outcome_period
    commendation = schemas["CommendationRequest"]["properties"]
    assert commendation["decision_number"]["minLength"] == 1
    assert commendation["decision_number"]["maxLength"] == 100


def test_commendation_with_a_list_as_note_is_400_not_500(client, token_for, make_practice):
    """scripts/fuzz, admin: POST …/commendations {"note": [null, null]} was a 500 (the list
    reached the event's reason column)."""
    practice_id = make_practice()
    for key, value in (("note", [None, None]), ("member_name", {"ten": "An"}), ("decision_number", 12)):
        body = {"kind": "khen_thuong", "level": "commune", "decided_on": "2020-01-01",
                "decision_number": "12/QĐ-UBND", key: value}
        response = client.post(f"/api/v1/practices/{practice_id}/commendations", json=body,
                               headers=auth(token_for("admin", "national")))
        assert assert_error(response, 400, "validation_error")["fields"] == {
            key: "phải là một chuỗi"}


def test_path_ids_declare_the_range_the_routes_accept(client, document):
    from registry.routing import MAX_ID
    practice = document["components"]["parameters"]["PracticeId"]["schema"]
    nomination = document["paths"]["/api/v1/nominations/{nomination_id}"]["parameters"][0]
    for schema in (practice, nomination["schema"]):
        assert (schema["minimum"], schema["maximum"]) == (0, MAX_ID)
    assert_error(client.get(f"/api/v1/practices/{MAX_ID + 1}"), 404)
    assert_error(client.get(f"/api/v1/nominations/{MAX_ID + 1}"), 404)
