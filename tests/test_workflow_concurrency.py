"""Two people deciding at the same moment, with real concurrent HTTP requests to a served app.

The application is served by Werkzeug's threaded server in a background thread (each request
in its own thread, with its own session and database connection); two client threads wait on
a barrier and then send their requests together, from the same version. Exactly one decision
is recorded; the other caller gets a 409 that says someone else changed it meanwhile. Each
race runs several times, on fresh subjects.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from werkzeug.serving import make_server

from registry.domain.workflow import nomination_state_label, state_label
from registry.extensions import db
from registry.models.accounts import User

OWN = "00070"  # Phường Hoàn Kiếm, Hà Nội (01)
ROUNDS = 6
SCORES = {"hieu-qua": 4, "hop-long-dan": 5, "xa-hoi-hoa": 3, "long-ghep": 4, "ben-vung": 4,
          "nhan-rong": 5}
CONFLICT_TEXT = "người khác thay đổi"


def assert_clear_conflict(error: dict, state_now: str, label=state_label) -> None:
    """The loser's 409: either its version is stale (the requests overlapped: the versioned
    UPDATE, or the version check, caught it), or it was read after the winner committed and
    the new state no longer allows the action (the executor checks the state first)."""
    if error["code"] == "version_conflict":
        assert CONFLICT_TEXT in error["message"]
        assert "version" in error["fields"]
    else:
        assert error["code"] == "not_allowed_in_state", error
        assert error["state"] == state_now and f"“{label(state_now)}”" in error["message"]


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def http(base: str, token: str | None, method: str, path: str, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode(errors="replace")[:2000]  # not JSON: shown in the failure


def together(*calls):
    """Run the calls at the same moment in threads; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def cast(app, make_user):
    from registry.accounts.tokens import create_token
    grants = {"admin": ("admin", "national"), "first": ("committee", "01"),
              "second": ("committee", "01"), "helper_a": ("reviewer", "national"),
              "helper_b": ("reviewer", "national")}
    ids, tokens = {}, {}
    for who, (role, unit) in grants.items():
        ids[who] = make_user(role, unit, email=f"{who}@example.vn")
        with app.app_context():
            _, tokens[who] = create_token(db.session.get(User, ids[who]), "thử")
            db.session.commit()
    return ids, tokens


def reviewed_nomination(app, make_practice, ids) -> int:
    """A province nomination under review with both reviews in: ready for a decision."""
    from registry.models.workflow import Nomination
    from registry.services import workflow
    from registry.services.uow import unit_of_work
    pid = make_practice(commune_code=OWN, status="registered", summary="Tóm tắt.",
                        domains=["pc-toi-pham"],
                        outcomes=[{"period": "2024-H1", "tips_reported": 3}])
    with app.app_context():
        admin = db.session.get(User, ids["admin"])
        with unit_of_work(admin):
            nid = workflow.nominate(admin, pid, level="province", reason="Đề cử.",
                                    periods=["2024-H1"]).id
        for who in ("helper_a", "helper_b"):
            for actor, action, payload in (
                    (admin, "assign_reviewer", {"reviewer": f"{who}@example.vn"}),
                    (db.session.get(User, ids[who]), "review", {"scores": SCORES})):
                version = db.session.get(Nomination, nid).version
                with unit_of_work(actor):
                    workflow.perform(actor, "nomination", nid, action, version=version,
                                     payload=payload)
    return nid


def test_approve_and_reject_at_once_record_one_decision(app, served, make_practice, cast):
    ids, tokens = cast
    for _ in range(ROUNDS):
        nid = reviewed_nomination(app, make_practice, ids)
        status, nomination = http(served, tokens["first"], "GET", f"/api/v1/nominations/{nid}")
        assert status == 200 and {"approve", "reject"} <= set(nomination["actions"])
        version = nomination["version"]

        def decide(who, action):
            return lambda: http(served, tokens[who], "POST",
                                f"/api/v1/nominations/{nid}/actions/{action}",
                                {"version": version, "reason": f"Quyết định {action}."})

        approve, reject = together(decide("first", "approve"), decide("second", "reject"))
        statuses = sorted([approve[0], reject[0]])
        assert statuses == [200, 409], (approve, reject)
        won, lost = (approve, reject) if approve[0] == 200 else (reject, approve)
        winner = "approved" if won is approve else "rejected"
        assert won[1]["state"] == winner
        assert_clear_conflict(lost[1]["error"], winner, nomination_state_label)

        status, now = http(served, tokens["first"], "GET", f"/api/v1/nominations/{nid}")
        assert now["state"] == winner and now["version"] == won[1]["version"]
        status, timeline = http(served, tokens["first"], "GET",
                                f"/api/v1/nominations/{nid}/timeline")
        decisions = [e for e in timeline["events"] if e["action"] in ("approve", "reject")]
        assert [(e["action"], e["to"]) for e in decisions] == [
            ("approve" if winner == "approved" else "reject", winner)]
        status, practice = http(served, None, "GET", f"/api/v1/practices/{now['practice_id']}")
        assert practice["status"] == ("approved" if winner == "approved" else "registered")


def test_two_verifications_at_once_register_the_model_once(app, served, make_practice, cast):
    ids, tokens = cast
    for _ in range(ROUNDS):
        pid = make_practice(commune_code=OWN, status="submitted", summary="Tóm tắt.",
                            domains=["pc-toi-pham"])
        versions = [http(served, tokens[who], "GET", f"/api/v1/practices/{pid}")[1]["version"]
                    for who in ("first", "second")]
        assert versions[0] == versions[1]

        def verify(who, version):
            return lambda: http(served, tokens[who], "POST",
                                f"/api/v1/practices/{pid}/actions/verify",
                                {"version": version})

        results = together(verify("first", versions[0]), verify("second", versions[1]))
        assert sorted(status for status, _ in results) == [200, 409], results
        won = next(body for status, body in results if status == 200)
        lost = next(body for status, body in results if status == 409)
        assert won["status"] == "registered"
        assert_clear_conflict(lost["error"], "registered")

        status, now = http(served, tokens["first"], "GET", f"/api/v1/practices/{pid}")
        assert now["status"] == "registered" and now["version"] == won["version"]
        status, timeline = http(served, tokens["first"], "GET",
                                f"/api/v1/practices/{pid}/timeline")
        assert [e["action"] for e in timeline["events"]].count("verify") == 1
