"""What the API offers is what the executor accepts.

- Every action of the transition table is in the OpenAPI document's action enums (and no
  other), for models and for nominations.
- GET /api/v1/practices/{id} `actions` is exactly the set of actions the services accept
  from that user on that model now: each one tried (and rolled back) through the executor
  (`perform`) or, for nominating, commending and replicating, through its service function
  with valid input.
"""
from __future__ import annotations

import pytest

from registry.domain.errors import DomainError
from registry.domain.workflow import TRANSITIONS
from registry.extensions import db
from registry.models.accounts import User

# A sample: the officers' own commune and another province (the table test has them all).
SCOPES = {"own": "00070", "other": "26506"}
WHO = {
    "officer": ("officer", "00070"),
    "committee_commune": ("committee", "00070"),
    "committee_province": ("committee", "01"),
    "committee_national": ("committee", "national"),
    "reviewer_province": ("reviewer", "01"),
    "trainer": ("trainer", "national"),
    "admin": ("admin", "national"),
    "committee_other": ("committee", "79"),
    "officer_other": ("officer", "26506"),
    "anonymous": None,
}
STATES = ("draft", "submitted", "returned", "registered", "nominated", "approved", "archived")
ACTION_PATHS = {"practice": "/api/v1/practices/{practice_id}/actions/{action}",
                "nomination": "/api/v1/nominations/{nomination_id}/actions/{action}"}


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def action_enum(document, path: str) -> list[str]:
    item = document["paths"][path]
    parameters = item.get("parameters", []) + item["post"].get("parameters", [])
    return next(p["schema"]["enum"] for p in parameters if p.get("name") == "action")


@pytest.mark.parametrize("subject", list(ACTION_PATHS))
def test_every_action_is_in_the_openapi_enum(document, subject):
    enum = action_enum(document, ACTION_PATHS[subject])
    wanted = [t.action for t in TRANSITIONS if t.subject == subject]
    assert wanted and sorted(enum) == sorted(wanted)
    # Each action also appears in the operation's table of actions.
    description = document["paths"][ACTION_PATHS[subject]]["post"]["description"]
    for action in wanted:
        assert f"`{action}`" in description, action


def accepts(app, user, practice_id: int) -> set[str]:
    """The actions the services accept from `user` on the model now (each rolled back)."""
    from registry.services import workflow
    tries = {t.action: (lambda action=t.action: workflow.perform(
        user, "practice", practice_id, action, version=current_version(practice_id),
        reason="Lý do thử."))
        for t in TRANSITIONS if t.subject == "practice"}
    tries["nominate"] = lambda: any_of(
        lambda level=level: workflow.nominate(user, practice_id, level=level, reason="Đề cử.",
                                              periods=["2024-H1"])
        for level in ("province", "national"))
    tries["commend"] = lambda: workflow.commend(
        user, practice_id, kind="khen_thuong", level="province", decided_on="2025-01-15",
        decision_number="12/QĐ")
    tries["replicate"] = lambda: any_of(
        lambda commune=commune: workflow.replicate(user, practice_id, commune_code=commune)
        for commune in SCOPES.values())
    accepted = set()
    for action, attempt in tries.items():
        try:
            attempt()
            accepted.add(action)
        except DomainError:
            pass
        finally:
            db.session.rollback()
    return accepted


def current_version(practice_id: int) -> int:
    from registry.models.practices import Practice
    return db.session.get(Practice, practice_id).version


def any_of(attempts) -> None:
    """Succeeds if one of the attempts does (each tried in a savepoint); else the last
    refusal."""
    refusal = None
    for attempt in attempts:
        try:
            with db.session.begin_nested():
                attempt()
            return
        except DomainError as error:
            refusal = error
    raise refusal


def test_get_actions_are_what_the_executor_accepts(app, make_practice, make_user):
    from registry.accounts.tokens import create_token
    users, tokens = {}, {}
    for who, grant in WHO.items():
        if grant:
            users[who] = make_user(grant[0], grant[1], email=f"{who}@example.vn")
            with app.app_context():
                _, tokens[who] = create_token(db.session.get(User, users[who]), "thử")
                db.session.commit()
    models = {(state, scope): make_practice(
        commune_code=commune, status=state, summary="Tóm tắt.", domains=["pc-toi-pham"],
        recognition_level="province" if state == "approved" else "none",
        outcomes=[{"period": "2024-H1", "tips_reported": 2}])
        for state in STATES for scope, commune in SCOPES.items()}
    client = app.test_client()
    differences, offered_somewhere = [], set()
    for who in WHO:
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
        for (state, scope), pid in models.items():
            response = client.get(f"/api/v1/practices/{pid}", headers=headers)
            if response.status_code == 404:
                continue  # not visible: nothing offered, nothing accepted (the table test)
            offered = set(response.get_json()["actions"])
            offered_somewhere |= offered
            with app.app_context():
                user = db.session.get(User, users[who]) if who in users else None
                accepted = accepts(app, user, pid)
            if offered != accepted:
                differences.append(f"{who} on {state} ({scope}): offered {sorted(offered)}, "
                                   f"accepted {sorted(accepted)}")
    assert not differences, "\n".join(differences)
    # The sample is meaningful: every action was offered (and so accepted) somewhere.
    assert offered_somewhere == {t.action for t in TRANSITIONS if t.subject == "practice"} | {
        "nominate", "commend", "replicate"}
