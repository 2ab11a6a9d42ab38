"""The hostile API test: schemathesis against the served OpenAPI document, as an anonymous
caller, an officer and an administrator (tests/api_fuzz.py serves the app on a real port with
a throwaway SQLite database of demo data). Any server error, undocumented status, wrong
content type or response outside its schema fails the test.

Bounded for the suite (REGISTRY_FUZZ_EXAMPLES, default 20 per operation: about 20 s per
role on 2 cores); scripts/fuzz runs longer. The database is SQLite only: the point is the
HTTP contract, which the engine-parametrised tests check on PostgreSQL too.
"""
from __future__ import annotations

import os

import pytest

from api_fuzz import ROLES, SCHEMATHESIS, Server, run_schemathesis

EXAMPLES = int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not SCHEMATHESIS.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{SCHEMATHESIS} missing in CI (dev extra)")
        pytest.skip("schemathesis is not installed (dev extra)")
    with Server(tmp_path_factory.mktemp("fuzz")) as server:
        yield server


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_nothing(served, role):
    result = run_schemathesis(served, role, EXAMPLES)
    assert result.returncode == 0, f"schemathesis as {role}:\n{result.stdout[-20000:]}" \
                                   f"\n{result.stderr[-2000:]}"


def test_served_api_answers_long_urls_with_json_414(served):
    """On a real server (Werkzeug's, like gunicorn's below its limit_request_line) the API's
    own 414 answers an over-long URL with the JSON error body, not the server's page."""
    import json
    import urllib.error
    import urllib.request

    from registry.api.errors import MAX_URL_BYTES
    url = f"{served.url}/api/v1/practices?q=" + "a" * MAX_URL_BYTES
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=20)
    assert caught.value.code == 414
    assert caught.value.headers.get_content_type() == "application/json"
    assert json.loads(caught.value.read())["error"]["code"] == "uri_too_long"
