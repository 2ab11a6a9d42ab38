"""The path of a model through the API: registration, return, verification, nomination, blind
review, changes, approval, escalation, national approval, replication; errors of the executor.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.extensions import db

OWN = "00070"          # Phường Hoàn Kiếm, Hà Nội (01)
ELSEWHERE = "26506"    # Phường Vũng Tàu, TP Hồ Chí Minh (79)

RECORD = {
    "name": "Tổ tự quản an ninh trật tự khu phố 3",
    "kind": "tu-phong-tu-quan-tu-bao-ve",
    "summary": "Các hộ gia đình cùng tuần tra, hòa giải mâu thuẫn.",
    "commune_code": OWN,
    "forms": ["tu-quan"],
    "domains": ["pc-toi-pham"],
    "outcomes": [{"period": "2024-H1", "tips_reported": 12},
                 {"period": "2024-H2", "tips_reported": 15}],
}
SCORES = {"hieu-qua": 4, "hop-long-dan": 5, "xa-hoi-hoa": 3, "long-ghep": 4, "ben-vung": 4,
          "nhan-rong": 5}


@pytest.fixture
def people(app, make_user):
    """Everyone of the journey, each with an API token."""
    from registry.accounts.tokens import create_token
    from registry.models.accounts import User
    cast = {
        "officer": ("officer", OWN), "commune_committee": ("committee", OWN),
        "province_committee": ("committee", "01"), "national_committee": ("committee",
                                                                          "national"),
        "reviewer_a": ("reviewer", "01"), "reviewer_b": ("reviewer", "01"),
        "reviewer_conflicted": ("reviewer", "01"),
        "national_reviewer_a": ("reviewer", "national"),
        "national_reviewer_b": ("reviewer", "national"),
        "other_officer": ("officer", ELSEWHERE), "other_committee": ("committee", ELSEWHERE),
        "trainer": ("trainer", "national"),
    }
    tokens = {}
    for who, (role, unit) in cast.items():
        grants = [("officer", OWN)] if who == "reviewer_conflicted" else []
        user_id = make_user(role, unit, email=f"{who}@example.vn", grants=grants)
        with app.app_context():
            _, tokens[who] = create_token(db.session.get(User, user_id), "thử")
            db.session.commit()
    return tokens


class Api:
    def __init__(self, client, tokens):
        self.client, self.tokens = client, tokens

    def call(self, who, method, path, body=None):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.open(path, method=method, json=body, headers=headers)

    def ok(self, who, method, path, body=None, status=200):
        response = self.call(who, method, path, body)
        assert response.status_code == status, (path, response.get_json())
        return response.get_json()

    def act(self, who, practice, action, reason="", status=200):
        version = self.ok(who or "officer", "GET", f"/api/v1/practices/{practice}")["version"]
        return self.call(who, "POST", f"/api/v1/practices/{practice}/actions/{action}",
                         {"version": version, "comment": reason})

    def decide(self, who, nomination, action, reason="Đủ căn cứ."):
        version = self.ok(who, "GET", f"/api/v1/nominations/{nomination}")["version"]
        return self.call(who, "POST", f"/api/v1/nominations/{nomination}/actions/{action}",
                         {"version": version, "reason": reason})


@pytest.fixture
def api(client, people):
    return Api(client, people)


def registered(api) -> int:
    practice = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)
    assert practice["status"] == "submitted"
    assert api.act("commune_committee", practice["id"], "verify").status_code == 200
    return practice["id"]


def test_the_whole_path_through_the_api(app, api):
    # Registration: submitted, returned with a comment, edited, resubmitted, verified.
    practice = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)
    pid = practice["id"]
    assert practice["status"] == "submitted" and "submit" not in practice["actions"]
    committee_view = api.ok("commune_committee", "GET", f"/api/v1/practices/{pid}")
    assert {"verify", "return"} <= set(committee_view["actions"])
    assert api.act("commune_committee", pid, "return", "").status_code == 400  # no reason
    returned = api.act("commune_committee", pid, "return", "Bổ sung quy chế hoạt động.")
    assert returned.get_json()["status"] == "returned"
    edited = api.call("officer", "PATCH", f"/api/v1/practices/{pid}",
                      {"version": returned.get_json()["version"],
                       "description": "Quy chế: họp hằng tháng."})
    assert edited.status_code == 200
    assert api.act("officer", pid, "submit").get_json()["status"] == "submitted"
    assert api.act("commune_committee", pid, "verify").get_json()["status"] == "registered"
    assert api.ok(None, "GET", f"/api/v1/practices/{pid}")["status"] == "registered"

    # Nomination at province level, two reviewers, blind scores.
    nomination = api.ok("officer", "POST", "/api/v1/nominations",
                        {"practice_id": pid, "level": "province",
                         "reason": "Kết quả rõ rệt hai kỳ liền.",
                         "periods": ["2024-H1", "2024-H2"]}, 201)
    nid = nomination["id"]
    assert api.ok(None, "GET", f"/api/v1/practices/{pid}")["status"] == "nominated"
    # A second open nomination at the same level is refused.
    again = api.call("officer", "POST", "/api/v1/nominations",
                     {"practice_id": pid, "level": "province", "reason": "Lần nữa",
                      "periods": ["2024-H1"]})
    assert again.status_code == 409
    # The commune committee is not the committee of the province level.
    assert api.call("commune_committee", "POST", f"/api/v1/nominations/{nid}/reviewers",
                    {"reviewer": "reviewer_a@example.vn"}).status_code == 403
    conflicted = api.call("province_committee", "POST", f"/api/v1/nominations/{nid}/reviewers",
                          {"reviewer": "reviewer_conflicted@example.vn"})
    assert conflicted.status_code == 400
    assert "xung đột" in conflicted.get_json()["error"]["fields"]["reviewer"]
    for reviewer in ("reviewer_a", "reviewer_b"):
        api.ok("province_committee", "POST", f"/api/v1/nominations/{nid}/reviewers",
               {"reviewer": f"{reviewer}@example.vn", "due": "2099-01-31"}, 201)
    # Approval needs the reviews first.
    assert api.decide("province_committee", nid, "approve").status_code == 400
    api.ok("reviewer_a", "POST", f"/api/v1/nominations/{nid}/reviews",
           {"scores": SCORES, "comment": "Tốt."}, 201)
    # Blind: B sees nobody's scores before sending their own, A's only after.
    before = api.ok("reviewer_b", "GET", f"/api/v1/nominations/{nid}")["reviews"]
    assert before["visible"] == "own"
    assert all(item["scores"] == {} for item in before["items"])
    bad = api.call("reviewer_b", "POST", f"/api/v1/nominations/{nid}/reviews",
                   {"scores": {**SCORES, "hieu-qua": 9}})
    assert bad.status_code == 400 and "scores.hieu-qua" in bad.get_json()["error"]["fields"]
    api.ok("reviewer_b", "POST", f"/api/v1/nominations/{nid}/reviews",
           {"scores": {**SCORES, "hieu-qua": 2}, "comment": "Cần thêm số liệu."}, 201)
    after = api.ok("reviewer_b", "GET", f"/api/v1/nominations/{nid}")["reviews"]
    assert after["visible"] == "all" and len(after["items"]) == 2
    committee = api.ok("province_committee", "GET", f"/api/v1/nominations/{nid}")["reviews"]
    assert committee["means"]["hieu-qua"] == 3.0
    # A reviewer cannot review twice.
    assert api.call("reviewer_a", "POST", f"/api/v1/nominations/{nid}/reviews",
                    {"scores": SCORES}).status_code == 403

    # Changes requested, resubmitted (round 2), reviewed again, approved.
    changes = api.decide("province_committee", nid, "request_changes", "Bổ sung số liệu 2024.")
    assert changes.get_json()["state"] == "changes_requested"
    assert api.decide("officer", nid, "resubmit", "Đã bổ sung.").get_json()["round"] == 2
    for reviewer in ("reviewer_a", "reviewer_b"):
        api.ok("province_committee", "POST", f"/api/v1/nominations/{nid}/reviewers",
               {"reviewer": f"{reviewer}@example.vn"}, 201)
        api.ok(reviewer, "POST", f"/api/v1/nominations/{nid}/reviews", {"scores": SCORES}, 201)
    approved = api.decide("province_committee", nid, "approve", "Đạt các tiêu chí.")
    assert approved.get_json()["state"] == "approved"
    source = api.ok(None, "GET", f"/api/v1/practices/{pid}")
    assert source["status"] == "approved"
    assert source["recognition"]["level"] == "province"
    # Earlier rounds and reasons are kept.
    history = api.ok("province_committee", "GET", f"/api/v1/nominations/{nid}")
    assert {item["round"] for item in history["reviews"]["items"]} == {1, 2}

    # Escalation to the national level and the national decision.
    escalated = api.decide("province_committee", nid, "escalate", "Đề nghị nhân rộng toàn quốc.")
    national = escalated.get_json()
    assert national["state"] == "approved"
    timeline = api.ok("province_committee", "GET", f"/api/v1/nominations/{nid}/timeline")
    national_id = [e for e in timeline["events"] if e["action"] == "escalate"][0]["data"][
        "national_nomination"]
    assert api.call("province_committee", "POST",
                    f"/api/v1/nominations/{national_id}/reviewers",
                    {"reviewer": "national_reviewer_a@example.vn"}).status_code == 403
    for reviewer in ("national_reviewer_a", "national_reviewer_b"):
        api.ok("national_committee", "POST", f"/api/v1/nominations/{national_id}/reviewers",
               {"reviewer": f"{reviewer}@example.vn"}, 201)
        api.ok(reviewer, "POST", f"/api/v1/nominations/{national_id}/reviews",
               {"scores": SCORES}, 201)
    assert api.decide("national_committee", national_id, "approve").status_code == 200
    assert api.ok(None, "GET", f"/api/v1/practices/{pid}")["recognition"]["level"] == "national"

    # Replication in another province, verified there, shown on the source with its results.
    copy = api.ok("other_officer", "POST", f"/api/v1/practices/{pid}/replications",
                  {"commune_code": ELSEWHERE, "copy": ["summary", "forms", "domains"]}, 201)
    assert copy["status"] == "draft" and copy["summary"] == RECORD["summary"]
    assert copy["replicated_from_id"] == pid
    api.call("other_officer", "POST", f"/api/v1/practices/{copy['id']}/outcomes",
             {"period": "2025-H1", "tips_reported": 7})
    assert api.act("other_officer", copy["id"], "submit").status_code == 200
    assert api.act("other_committee", copy["id"], "verify").status_code == 200
    shown = api.ok(None, "GET", f"/api/v1/practices/{pid}")["replications"]
    assert [(r["id"], r["latest_outcome"]["period"]) for r in shown] == [(copy["id"],
                                                                          "2025-H1")]
    # Every step is on the model's timeline, with its reason.
    steps = api.ok("officer", "GET", f"/api/v1/practices/{pid}/timeline")["events"]
    actions = [e["action"] for e in steps]
    for expected in ("return", "submit", "verify", "nominate", "assign_reviewer", "review",
                     "request_changes", "resubmit", "approve", "escalate", "replicated"):
        assert expected in actions, expected
    assert [e["reason"] for e in steps if e["action"] == "return"] == [
        "Bổ sung quy chế hoạt động."]
    # The public sees the steps but not who took them.
    public = api.ok(None, "GET", f"/api/v1/practices/{pid}/timeline")["events"]
    assert public and all(e["actor"] is None for e in public)


def test_wrong_state_is_409_with_the_allowed_actions(api):
    pid = registered(api)
    response = api.act("commune_committee", pid, "verify")
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "not_allowed_in_state" and error["state"] == "registered"
    assert "archive" not in error["allowed_actions"]  # archiving is the officers'
    assert "commend" in error["allowed_actions"]


def test_not_for_this_caller_is_403_and_unseen_is_404(api):
    practice = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)
    pid = practice["id"]
    assert api.act("officer", pid, "verify").status_code == 403
    # The other province's committee may not even see the submitted model.
    version = practice["version"]
    hidden = api.call("other_committee", "POST", f"/api/v1/practices/{pid}/actions/verify",
                      {"version": version})
    assert hidden.status_code == 404
    assert api.call("officer", "POST", f"/api/v1/practices/{pid}/actions/fly",
                    {"version": version}).status_code == 404


def test_stale_version_is_409(api):
    pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
    stale = api.call("commune_committee", "POST", f"/api/v1/practices/{pid}/actions/verify",
                     {"version": 99})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "version_conflict"


def test_archive_and_restore_need_a_reason(api):
    pid = registered(api)
    assert api.act("officer", pid, "archive").status_code == 400
    assert api.act("officer", pid, "archive", "Ngừng hoạt động.").get_json()[
        "status"] == "archived"
    assert api.act("officer", pid, "restore", "Hoạt động lại.").status_code == 403
    restored = api.act("province_committee", pid, "restore", "Hoạt động lại.")
    assert restored.get_json()["status"] == "registered"


def test_commendation_is_shown_with_the_model_and_member_names_only_to_the_entitled(api):
    pid = registered(api)
    body = {"kind": "khen_thuong", "level": "province", "decided_on": "2025-08-19",
            "decision_number": "123/QĐ-UBND", "member_name": "Nguyễn Văn An"}
    assert api.call("officer", "POST", f"/api/v1/practices/{pid}/commendations",
                    body).status_code == 403
    api.ok("province_committee", "POST", f"/api/v1/practices/{pid}/commendations", body, 201)
    public = api.ok(None, "GET", f"/api/v1/practices/{pid}")["recognition"]["commendations"]
    assert public[0]["decision_number"] == "123/QĐ-UBND" and "member_name" not in public[0]
    own = api.ok("officer", "GET", f"/api/v1/practices/{pid}")["recognition"]["commendations"]
    assert own[0]["member_name"] == "Nguyễn Văn An"


def test_inbox_lists_what_awaits_each_person(api):
    pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
    inbox = api.ok("commune_committee", "GET", "/api/v1/inbox")
    assert [i["practice_id"] for i in inbox["sections"]["verify"]["items"]] == [pid]
    assert api.ok("other_committee", "GET", "/api/v1/inbox")["total"] == 0
    api.act("commune_committee", pid, "return", "Thiếu quy chế.")
    assert [i["practice_id"] for i in api.ok("officer", "GET", "/api/v1/inbox")[
        "sections"]["returned"]["items"]] == [pid]


def test_events_cannot_be_changed_or_deleted(app, api):
    from sqlalchemy import text
    registered(api)
    with app.app_context():
        from registry.models.workflow import Event
        event_id = db.session.scalar(select(Event.id))
        for statement in ("UPDATE event SET reason = 'sửa' WHERE id = :id",
                          "DELETE FROM event WHERE id = :id"):
            with pytest.raises(Exception) as refused:
                db.session.execute(text(statement), {"id": event_id})
                db.session.flush()
            assert "append-only" in str(refused.value)
            db.session.rollback()
        assert db.session.get(Event, event_id).reason == ""


def test_docs_show_the_table_the_code_runs():
    """docs/workflow.md carries the transition tables generated from TRANSITIONS."""
    from pathlib import Path

    from registry.api.openapi_workflow import action_table
    doc = (Path(__file__).resolve().parent.parent / "docs" / "workflow.md").read_text()
    assert action_table("practice") in doc and action_table("nomination") in doc


def test_a_model_sent_with_its_creation_is_on_the_timeline_and_told(app, api):
    """POST /api/v1/practices sends the model for verification: a "submit" step, and the
    covering committees get mail."""
    from registry.models.workflow import OutboxMessage
    pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
    steps = api.ok("officer", "GET", f"/api/v1/practices/{pid}/timeline")["events"]
    assert [(e["action"], e["to"]) for e in steps] == [("submit", "submitted")]
    with app.app_context():
        told = set(db.session.scalars(select(OutboxMessage.to_address)))
    assert {"commune_committee@example.vn", "province_committee@example.vn"} <= told
    assert "officer@example.vn" not in told
