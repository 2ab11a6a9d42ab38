"""The OpenAPI document: valid, and describing exactly the routes under /api/v1/."""
from __future__ import annotations

import re

import pytest

from registry.domain.records import IGNORED_KEYS, OUTCOME_KEYS, RECORD_KEYS

API_PREFIX = "/api/v1"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
IMPLICIT = {"head", "options"}  # added by Flask to every route


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def routes(app) -> dict[str, set[str]]:
    """Every route under the API prefix as an OpenAPI path → its methods."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule == API_PREFIX or rule.rule.startswith(API_PREFIX + "/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            found.setdefault(path, set()).update(m.lower() for m in rule.methods)
    return {path: methods - IMPLICIT for path, methods in found.items()}


def described(document) -> dict[str, set[str]]:
    return {path: {m for m in item if m in HTTP_METHODS}
            for path, item in document["paths"].items()}


def test_every_route_is_described_and_nothing_else(app, document):
    assert described(document) == routes(app)


def test_document_is_valid_openapi(document):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_structure(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    for ref in _refs(document):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"dangling $ref {ref}"
            node = node[part]
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer"}
    errors = {"$ref": "#/components/schemas/Error"}
    for path, item in document["paths"].items():
        declared = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["responses"], f"{method} {path}"
            assert operation.get("operationId")
            params = item.get("parameters", []) + operation.get("parameters", [])
            components = document["components"]["parameters"]
            names = {(p if "name" in p else components[p["$ref"].rsplit("/", 1)[-1]])["name"]
                     for p in params}
            assert declared <= names, f"path parameters of {path}"
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response.get("$ref")
                    target = (document["components"]["responses"][ref.rsplit("/", 1)[-1]]
                              if ref else response)
                    assert target["content"]["application/json"]["schema"] == errors
            if method in ("post", "put", "patch", "delete") and path != "/api/v1/openapi.json":
                assert operation["security"] == [{"bearerAuth": []}], f"{method} {path}"


def test_record_schema_matches_the_interchange_format(document):
    schemas = document["components"]["schemas"]
    from registry.api.practices import ENVELOPE_KEYS
    assert set(schemas["PracticeRecord"]["properties"]) == \
        set(RECORD_KEYS) | set(IGNORED_KEYS) | set(ENVELOPE_KEYS)
    assert set(schemas["Outcome"]["properties"]) == set(OUTCOME_KEYS)


def _validator(document, name: str):
    jsonschema = pytest.importorskip("jsonschema")
    root = {**document["components"]["schemas"][name], "components": document["components"]}
    return jsonschema.Draft202012Validator(root)


def test_real_responses_match_their_schemas(client, document, make_practice):
    practice_id = make_practice(domains=["pc-toi-pham"], core_members=[
        {"name": "Nguyễn Văn An", "phone": "0912 345 678"}],
        outcomes=[{"period": "2024-H1", "tips_reported": 3, "narrative": "Sơ kết."}])
    practice = client.get(f"/api/v1/practices/{practice_id}").get_json()
    _validator(document, "Practice").validate(practice)
    error = client.get("/api/v1/practices/999999").get_json()
    _validator(document, "Error").validate(error)
    bad = client.post("/api/v1/practices", json={})
    _validator(document, "Error").validate(bad.get_json())


def test_search_response_matches_its_schema(client, document, make_practice):
    make_practice(name="Xóm đạo bình yên", domains=["pc-toi-pham"],
                  core_members=[{"name": "Nguyễn Văn An", "phone": "0912 345 678"}])
    search = client.get("/api/v1/practices", query_string={"q": "xom dao", "domain":
                                                            "pc-toi-pham"})
    assert search.status_code == 200
    _validator(document, "SearchResponse").validate(search.get_json())
    assert search.get_json()["total"] == 1
    _validator(document, "Error").validate(
        client.get("/api/v1/practices", query_string={"colour": "đỏ"}).get_json())


def test_record_schema_states_the_validators_limits(document):
    """Lengths, integer ranges and list sizes come from registry.domain.fields, as the
    validator's do: what the document allows, the server accepts, and no more."""
    from registry.domain.fields import MAX_INTEGER, MAX_ITEMS, MAX_LENGTH, PERIOD_YEARS
    schemas = document["components"]["schemas"]
    record = schemas["PracticeRecord"]["properties"]
    for key in ("external_id", "name", "summary", "description", "address", "hamlet"):
        assert record[key]["maxLength"] == MAX_LENGTH[key], key
    for key, limit in MAX_ITEMS.items():
        assert record[key]["maxItems"] == limit, key
    for key in ("participants", "households"):
        assert (record[key]["minimum"], record[key]["maximum"]) == (0, MAX_INTEGER)
    member = schemas["CoreMember"]["properties"]
    assert member["name"]["maxLength"] == MAX_LENGTH["member.name"]
    assert member["phone"]["maxLength"] == MAX_LENGTH["member.phone"]
    outcome = schemas["Outcome"]["properties"]
    assert outcome["narrative"]["maxLength"] == MAX_LENGTH["narrative"]
    period = re.compile(outcome["period"]["pattern"])
    low, high = PERIOD_YEARS
    assert period.match(f"{low}-H1") and period.match(str(high))
    assert not period.match(f"{low - 1}") and not period.match(f"{high + 1}-H2")


def test_values_at_the_documented_limits_are_accepted_and_beyond_refused(app):
    """The validator against the document's numbers (the record from test_import.model)."""
    from registry.domain.errors import Invalid
    from registry.domain.fields import MAX_INTEGER, MAX_ITEMS
    from registry.extensions import db
    from registry.services.reference import check_record
    base = {"name": "Mô hình", "kind": "xom-dao-binh-yen", "commune_code": "00070"}
    at_limit = {"participants": MAX_INTEGER, "core_members": [{"name": "A"}] * 200,
                "outcomes": [{"period": f"{1990 + i // 2}-H{1 + i % 2}"}
                             for i in range(MAX_ITEMS["outcomes"])],
                "domains": ["pc-toi-pham"] * MAX_ITEMS["domains"]}
    with app.app_context():
        for key, value in at_limit.items():
            check_record({**base, key: value})
            over = value + 1 if key == "participants" else value + value[:1]
            with pytest.raises(Invalid) as caught:
                check_record({**base, key: over})
            assert [e.field for e in caught.value.errors] == [key]
        db.session.rollback()
