"""The hostile API test: schemathesis against the served OpenAPI document, as an anonymous
caller, an officer and an administrator (tests/api_fuzz.py serves the app on a real port with
a throwaway SQLite database of demo data). Any server error, undocumented status, wrong
content type or response outside its schema fails the test.

Bounded for the suite (REGISTRY_FUZZ_EXAMPLES, default 10 per operation: about 20 s per
role on 2 cores); scripts/fuzz runs longer. The database is SQLite only: the point is the
HTTP contract, which the engine-parametrised tests check on PostgreSQL too.
"""
from __future__ import annotations

import os

import pytest

from api_fuzz import ROLES, SCHEMATHESIS, Server, run_schemathesis

EXAMPLES = int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "10"))


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
    result = run_schemathesis(served.url, served.tokens.get(role), EXAMPLES)
    assert result.returncode == 0, f"schemathesis as {role}:\n{result.stdout[-20000:]}" \
                                   f"\n{result.stderr[-2000:]}"
