"""The transition table, exhaustively: every state × action × role × scope, through the
executor (registry.services.workflow.perform) and through the API.

The expectation is written here as small tables — who may see, whose rule allows, which
states an action starts from — and composed cell by cell; it never asks the code under test:

- the caller may not see the model (or the nomination) → 404;
- may see it, but the action's rule leaves them out → 403;
- the rule allows it, but the state is not one the action starts from → 409
  (`not_allowed_in_state`, with `state` and `allowed_actions`);
- else it succeeds; an action needing a reason refuses an empty one (400) and every action
  refuses a stale version (409 `version_conflict`).

Through the API an anonymous caller is always 401 (the action endpoints need a token).

A user's grant is anchored on Phường Hoàn Kiếm (00070, Hà Nội 01); models sit in that
commune ("own"), in another commune of Hà Nội ("same": Phường Ba Đình, 00004) or in another
province ("other": Phường Vũng Tàu, 26506, TP Hồ Chí Minh 79).
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest

from registry.extensions import db
from registry.models.accounts import User

SCOPES = {"own": "00070", "same": "00004", "other": "26506"}
SCOPE_NAMES = tuple(SCOPES)

WHO = {
    "officer": ("officer", "00070"),
    "committee_commune": ("committee", "00070"),
    "committee_province": ("committee", "01"),
    "committee_national": ("committee", "national"),
    "reviewer_province": ("reviewer", "01"),
    "trainer": ("trainer", "national"),
    "admin": ("admin", "national"),
    "committee_other": ("committee", "79"),
    "anonymous": None,
}

# --- models ----------------------------------------------------------------------------------

# Per role, for the scopes (own, same, other): 1 yes, 0 no.
#   see: non-public models (draft, submitted, returned, archived); public ones everyone sees
#   manage: submit, archive          verify: verify, return          restore: restore
#   withdraw: withdraw the recognition of a model recognised at province level
#   nominate / commend: offered among a public model's `actions`
PRACTICE_RULES = {
    #                     see    manage verify restore withdraw nominate commend
    "officer":            ("100", "100", "000", "000", "000",   "100",   "000"),
    "committee_commune":  ("100", "000", "100", "100", "000",   "100",   "100"),
    "committee_province": ("110", "000", "110", "110", "110",   "110",   "110"),
    "committee_national": ("111", "000", "111", "111", "000",   "111",   "111"),
    "reviewer_province":  ("110", "000", "000", "000", "000",   "000",   "000"),
    "trainer":            ("000", "000", "000", "000", "000",   "000",   "000"),
    "admin":              ("111", "111", "111", "111", "111",   "111",   "111"),
    "committee_other":    ("001", "000", "001", "001", "001",   "001",   "001"),
    "anonymous":          ("000", "000", "000", "000", "000",   "000",   "000"),
}
PRACTICE_RULE_NAMES = ("see", "manage", "verify", "restore", "withdraw", "nominate", "commend")
# Only an administrator withdraws a recognition no level gave (the model was not recognised).
# Replication (a new model in another commune) is offered on approved models to whoever may
# register models in a commune other than the model's: administrators, and the officer when
# the model is not of their own commune.
REPLICATES = {"admin": "111", "officer": "011"}

PUBLIC = {"registered", "nominated", "approved"}
PRACTICE_STATES = ("draft", "submitted", "returned", "registered", "nominated", "approved",
                   "archived")
# action: (rule, from states, state after, needs a reason)
PRACTICE_ACTIONS = {
    "submit": ("manage", {"draft", "returned"}, "submitted", False),
    "verify": ("verify", {"submitted"}, "registered", False),
    "return": ("verify", {"submitted"}, "returned", True),
    "archive": ("manage", {"draft", "submitted", "returned", "registered", "nominated",
                           "approved"}, "archived", True),
    # Archived without an earlier archive event, not recognised: back to registered.
    "restore": ("restore", {"archived"}, "registered", True),
    "withdraw_recognition": ("withdraw", {"approved"}, "registered", True),
}
# The models of the table: approved ones are recognised at province level, others not.
RECOGNITION = {"approved": "province"}


def rule(table: dict, names: tuple, who: str, name: str, scope: str) -> bool:
    return table[who][names.index(name)][SCOPE_NAMES.index(scope)] == "1"


def practice_rule(who, name, scope, state) -> bool:
    if name == "withdraw" and RECOGNITION.get(state) != "province":
        return who == "admin"
    return rule(PRACTICE_RULES, PRACTICE_RULE_NAMES, who, name, scope)


def practice_expected(who: str, state: str, action: str, scope: str) -> int:
    name, sources, _, _ = PRACTICE_ACTIONS[action]
    if state not in PUBLIC and not practice_rule(who, "see", scope, state):
        return 404
    if not practice_rule(who, name, scope, state):
        return 403
    if state not in sources:
        return 409
    return 200


def practice_offered(who: str, state: str, scope: str) -> set[str]:
    """What GET /practices/{id} offers this caller: the actions that succeed, plus
    nominating, commending and replicating a public model."""
    offered = {a for a in PRACTICE_ACTIONS if practice_expected(who, state, a, scope) == 200}
    if state in PUBLIC:
        if practice_rule(who, "nominate", scope, state):
            offered.add("nominate")
        if practice_rule(who, "commend", scope, state):
            offered.add("commend")
    if state == "approved" and REPLICATES.get(who, "000")[SCOPE_NAMES.index(scope)] == "1":
        offered.add("replicate")
    return offered


# --- nominations -----------------------------------------------------------------------------

# Per role, for the scopes (own, same, other):
#   see: the nomination's file          nominate: resubmit, withdraw (those who may nominate)
#   decide_province / decide_national: assign reviewers, approve, reject, ask for changes,
#   escalate — at the level of the nomination
#   review: submit or decline a review — only while holding an open assignment (below)
NOMINATION_RULES = {
    #                     see    nominate decide_province decide_national review
    "officer":            ("100", "100",   "000",          "000",          "000"),
    "committee_commune":  ("100", "100",   "000",          "000",          "000"),
    "committee_province": ("110", "110",   "110",          "000",          "000"),
    "committee_national": ("111", "111",   "000",          "111",          "000"),
    "reviewer_province":  ("110", "000",   "000",          "000",          "110"),
    "trainer":            ("000", "000",   "000",          "000",          "000"),
    "admin":              ("111", "111",   "111",          "111",          "000"),
    "committee_other":    ("001", "001",   "001",          "000",          "000"),
    "anonymous":          ("000", "000",   "000",          "000",          "000"),
}
NOMINATION_RULE_NAMES = ("see", "nominate", "decide_province", "decide_national", "review")

# The nominations of the table, each reached through the service:
#   situation: (state, the province reviewer holds an open assignment, reviews complete)
SITUATIONS = {
    "review_pending": ("review", True, False),
    "review_complete": ("review", False, True),
    "changes_requested": ("changes_requested", True, False),
    "approved": ("approved", False, True),
    "rejected": ("rejected", True, False),
    "withdrawn": ("withdrawn", True, False),
}
LEVELS = ("province", "national")
# action: (rule, from states, state after (None: unchanged), needs a reason)
NOMINATION_ACTIONS = {
    "assign_reviewer": ("decide", {"review"}, None, False),
    "review": ("review", {"review"}, None, False),
    "decline_review": ("review", {"review"}, None, True),
    "approve": ("decide", {"review"}, "approved", True),
    "reject": ("decide", {"review"}, "rejected", True),
    "request_changes": ("decide", {"review"}, "changes_requested", True),
    "resubmit": ("nominate", {"changes_requested"}, "review", True),
    "escalate": ("decide", {"approved"}, None, True),
    "withdraw": ("nominate", {"review", "changes_requested"}, "withdrawn", True),
}


def nomination_rule(who, name, scope, level, situation) -> bool:
    if name == "decide":
        name = f"decide_{level}"
    if name == "review" and not SITUATIONS[situation][1]:
        return False  # no open assignment: nobody may review
    if name == "review" and scope == "other":
        return False  # the province reviewer is assigned only where their grant covers
    return rule(NOMINATION_RULES, NOMINATION_RULE_NAMES, who, name, scope)


def nomination_expected(who, situation, level, action, scope) -> int:
    name, sources, _, _ = NOMINATION_ACTIONS[action]
    state, _, complete = SITUATIONS[situation]
    if not nomination_rule(who, "see", scope, level, situation):
        return 404
    if not nomination_rule(who, name, scope, level, situation):
        return 403
    if state not in sources:
        return 409
    if action == "approve" and not complete:
        return 400  # approval waits for every assigned review
    if action == "escalate" and level == "national":
        return 409  # nothing above the national level
    return 200


def nomination_offered(who, situation, level, scope) -> set[str]:
    """The nomination's `actions` for this caller: those that succeed, and approval while
    reviews are awaited (the refusal says which are missing)."""
    return {a for a in NOMINATION_ACTIONS
            if nomination_expected(who, situation, level, a, scope) == 200
            or (a == "approve" and nomination_expected(who, situation, level, a, scope) == 400)}


SCORES = {"hieu-qua": 4, "hop-long-dan": 5, "xa-hoi-hoa": 3, "long-ghep": 4, "ben-vung": 4,
          "nhan-rong": 5}


# --- the world -------------------------------------------------------------------------------

class World:
    """The cast (with API tokens), and builders of models and nominations in any situation."""

    def __init__(self, app, make_practice, make_user):
        from registry.accounts.tokens import create_token
        self.app, self.make_practice = app, make_practice
        self.ids, self.tokens = {}, {}
        extra = {"helper_a": ("reviewer", "national"), "helper_b": ("reviewer", "national"),
                 "spare": ("reviewer", "national")}
        for who, grant in {**WHO, **extra}.items():
            if grant is None:
                continue
            self.ids[who] = make_user(grant[0], grant[1], email=f"{who}@example.vn")
            with app.app_context():
                _, self.tokens[who] = create_token(db.session.get(User, self.ids[who]), "thử")
                db.session.commit()

    def user(self, who):
        return db.session.get(User, self.ids[who]) if who in self.ids else None

    def practice(self, state: str, scope: str) -> int:
        return self.make_practice(
            name=f"Mô hình {state} {scope}", commune_code=SCOPES[scope], status=state,
            recognition_level=RECOGNITION.get(state, "none"), summary="Tóm tắt.",
            domains=["pc-toi-pham"], outcomes=[{"period": "2024-H1", "tips_reported": 3}])

    def nomination(self, situation: str, level: str, scope: str) -> int:
        """A nomination in this situation, reached through the service (the administrator
        nominates and decides), in one unit of work."""
        from registry.services import workflow
        from registry.services.uow import unit_of_work
        pid = self.practice("registered", scope)
        state, _, complete = SITUATIONS[situation]
        ours = ["reviewer_province"] if scope != "other" else []
        with self.app.app_context():
            admin = self.user("admin")
            with unit_of_work(admin):
                nomination = workflow.nominate(admin, pid, level=level, reason="Đề cử.",
                                               periods=["2024-H1"])

                def step(action, by=admin, **payload):
                    workflow.perform(by, "nomination", nomination.id, action,
                                     version=nomination.version, reason="Lý do.",
                                     payload=payload)

                if complete:
                    for who in (ours + ["helper_a", "helper_b"])[:2]:
                        step("assign_reviewer", reviewer=f"{who}@example.vn")
                        step("review", by=self.user(who), scores=SCORES)
                else:
                    step("assign_reviewer", reviewer=f"{(ours + ['helper_a'])[0]}@example.vn")
                if state != "review":
                    step({"changes_requested": "request_changes", "approved": "approve",
                          "rejected": "reject", "withdrawn": "withdraw"}[state])
                assert nomination.state == state
                return nomination.id


@pytest.fixture
def world(app, make_practice, make_user):
    return World(app, make_practice, make_user)


def payload_for(action: str) -> dict:
    if action == "assign_reviewer":
        return {"reviewer": "spare@example.vn"}
    if action == "review":
        return {"scores": SCORES}
    return {}


def check(failures: list, cell, got, wanted) -> None:
    if got != wanted:
        failures.append(f"{cell}: got {got!r}, expected {wanted!r}")


def report(failures: list) -> None:
    assert not failures, f"{len(failures)} cells differ:\n" + "\n".join(failures[:60])


# --- through the executor --------------------------------------------------------------------

@contextmanager
def attempt():
    """Run one action and roll it back whatever happened: (status, error or subject)."""
    from registry.domain.errors import DomainError
    outcome = {}
    try:
        yield outcome
        outcome.setdefault("status", 200)
    except DomainError as error:
        outcome.update(status=error.status, error=error)
    finally:
        db.session.rollback()


def perform_cell(user, kind, subject_id, action, *, version, reason, payload=None):
    from registry.services.workflow import perform, state_of
    with attempt() as outcome:
        subject = perform(user, kind, subject_id, action, version=version, reason=reason,
                          payload=payload, source="test")
        outcome["state"] = state_of(subject)
    return outcome


def version_of(model, subject_id) -> int:
    return db.session.get(model, subject_id).version


def check_executor_cell(failures, cell, user, kind, model, sid, action, wanted, state,
                        offered, needs_reason, to_state, payload=None):
    version = version_of(model, sid)
    got = perform_cell(user, kind, sid, action, version=version, reason="Lý do thử.",
                       payload=payload)
    check(failures, cell, got["status"], wanted)
    if wanted == 409 and got["status"] == 409 and state is not None:
        error = got["error"]
        check(failures, (*cell, "state"), getattr(error, "state", None), state)
        check(failures, (*cell, "allowed"), set(getattr(error, "allowed", ())), offered)
    if wanted == 200 and got["status"] == 200:
        check(failures, (*cell, "to"), got["state"], to_state or state)
        stale = perform_cell(user, kind, sid, action, version=version + 7,
                             reason="Lý do thử.", payload=payload)
        check(failures, (*cell, "stale"), (stale["status"], getattr(
            stale.get("error"), "code", None)), (409, "version_conflict"))
        if needs_reason:
            bare = perform_cell(user, kind, sid, action, version=version, reason="  ",
                                payload=payload)
            check(failures, (*cell, "no reason"), (bare["status"], [
                e.field for e in getattr(bare.get("error"), "errors", [])]), (400, ["reason"]))


def test_practice_table_through_the_executor(app, world):
    from registry.models.practices import Practice
    models = {(state, scope): world.practice(state, scope)
              for state in PRACTICE_STATES for scope in SCOPES}
    failures = []
    with app.app_context():
        for who in WHO:
            for (state, scope), pid in models.items():
                for action, (_, _, to_state, needs_reason) in PRACTICE_ACTIONS.items():
                    wanted = practice_expected(who, state, action, scope)
                    check_executor_cell(failures, (who, state, scope, action),
                                        world.user(who), "practice", Practice, pid, action,
                                        wanted, state, practice_offered(who, state, scope),
                                        needs_reason, to_state)
    report(failures)


def test_nomination_table_through_the_executor(app, world):
    from registry.models.workflow import Nomination
    nominations = {(situation, level, scope): world.nomination(situation, level, scope)
                   for situation in SITUATIONS for level in LEVELS for scope in SCOPES}
    failures = []
    with app.app_context():
        for who in WHO:
            for (situation, level, scope), nid in nominations.items():
                state = SITUATIONS[situation][0]
                for action, (_, _, to_state, needs_reason) in NOMINATION_ACTIONS.items():
                    wanted = nomination_expected(who, situation, level, action, scope)
                    check_executor_cell(
                        failures, (who, situation, level, scope, action), world.user(who),
                        "nomination", Nomination, nid, action, wanted, state,
                        nomination_offered(who, situation, level, scope), needs_reason,
                        to_state, payload_for(action))
    report(failures)


# --- through the API -------------------------------------------------------------------------

class Fresh:
    """One subject per situation, replaced by a new one once an action changed it."""

    def __init__(self, build):
        self.build, self.ids = build, {}

    def get(self, key) -> int:
        if key not in self.ids:
            self.ids[key] = self.build(*key)
        return self.ids[key]

    def spent(self, key) -> None:
        self.ids.pop(key, None)


def api_cell(client, world, who, path, body):
    headers = {"Authorization": f"Bearer {world.tokens[who]}"} if who in world.tokens else {}
    response = client.post(path, json=body, headers=headers)
    return response.status_code, response.get_json()


def check_api_cell(failures, cell, client, world, who, path, body, wanted, ok_status,
                   state, offered, needs_reason, field, to_state, version):
    """One cell through the API; the error cells first, then (when it should succeed) the
    stale version and the missing reason, then the success that spends the subject."""
    if who == "anonymous":
        status, _ = api_cell(client, world, who, path, {**body, "version": version})
        check(failures, cell, status, 401)
        return False
    if wanted == 200:
        status, answer = api_cell(client, world, who, path, {**body, "version": version + 7})
        check(failures, (*cell, "stale"), (status, (answer or {}).get("error", {}).get(
            "code")), (409, "version_conflict"))
        if needs_reason:
            status, answer = api_cell(client, world, who, path,
                                      {**body, "version": version, "reason": ""})
            check(failures, (*cell, "no reason"), (status, sorted(
                (answer or {}).get("error", {}).get("fields", {}))), (400, ["reason"]))
    status, answer = api_cell(client, world, who, path, {**body, "version": version})
    check(failures, cell, status, ok_status if wanted == 200 else wanted)
    if wanted == 409 and status == 409:
        error = answer["error"]
        check(failures, (*cell, "code"), error["code"], "not_allowed_in_state")
        check(failures, (*cell, "state"), error.get("state"), state)
        check(failures, (*cell, "allowed"), set(error.get("allowed_actions", ())), offered)
    if wanted == 200 and status == ok_status:
        check(failures, (*cell, "to"), answer[field], to_state or state)
    return status == ok_status


def test_practice_table_through_the_api(app, world):
    from registry.models.practices import Practice
    client = app.test_client()
    fresh = Fresh(world.practice)
    failures = []
    for who in WHO:
        for state in PRACTICE_STATES:
            for scope in SCOPES:
                for action, (_, _, to_state, needs_reason) in PRACTICE_ACTIONS.items():
                    pid = fresh.get((state, scope))
                    with app.app_context():
                        version = version_of(Practice, pid)
                    wanted = practice_expected(who, state, action, scope)
                    changed = check_api_cell(
                        failures, (who, state, scope, action), client, world, who,
                        f"/api/v1/practices/{pid}/actions/{action}", {"reason": "Lý do."},
                        wanted, 200, state, practice_offered(who, state, scope), needs_reason,
                        "status", to_state, version)
                    if changed:
                        fresh.spent((state, scope))
    report(failures)


NOMINATION_PATHS = {"assign_reviewer": ("reviewers", 201), "review": ("reviews", 201)}
# The API is asked every cell of province nominations; of national ones, the rows whose rules
# change with the level (the deciding committees, the administrator). The executor test has
# every row at both levels; this keeps the API run bounded.
LEVEL_ROWS = {"province": tuple(WHO), "national": ("committee_province", "committee_national",
                                                   "committee_other", "admin")}


def test_nomination_table_through_the_api(app, world):
    """Assigning and reviewing through the reviewers/reviews endpoints, every other action
    through the action endpoint (the action endpoint's own assign_reviewer and review: the
    next test)."""
    from registry.models.workflow import Nomination
    client = app.test_client()
    fresh = Fresh(world.nomination)
    failures = []
    routes = [(action, NOMINATION_PATHS.get(action, (f"actions/{action}", 200)))
              for action in NOMINATION_ACTIONS]
    for level, rows in LEVEL_ROWS.items():
        for who in rows:
            for situation, (state, _, _) in SITUATIONS.items():
                for scope in SCOPES:
                    for action, (route, ok_status) in routes:
                        _, _, to_state, needs_reason = NOMINATION_ACTIONS[action]
                        key = (situation, level, scope)
                        nid = fresh.get(key)
                        with app.app_context():
                            version = version_of(Nomination, nid)
                        wanted = nomination_expected(who, situation, level, action, scope)
                        changed = check_api_cell(
                            failures, (who, situation, level, scope, route), client, world,
                            who, f"/api/v1/nominations/{nid}/{route}",
                            {"reason": "Lý do.", **payload_for(action)}, wanted, ok_status,
                            state, nomination_offered(who, situation, level, scope),
                            needs_reason, "state", to_state, version)
                        if changed:
                            fresh.spent(key)
    report(failures)


@pytest.mark.parametrize("action", list(NOMINATION_PATHS))
def test_assign_and_review_through_the_action_endpoint(app, world, action):
    """POST /nominations/{id}/actions/assign_reviewer|review answers as the dedicated
    endpoints do: 404, 403, 409 and success, for every role on own-commune nominations."""
    from registry.models.workflow import Nomination
    client = app.test_client()
    fresh = Fresh(world.nomination)
    failures = []
    for who in WHO:
        for situation, (state, _, _) in SITUATIONS.items():
            key = (situation, "province", "own")
            nid = fresh.get(key)
            with app.app_context():
                version = version_of(Nomination, nid)
            wanted = nomination_expected(who, situation, "province", action, "own")
            if check_api_cell(failures, (who, situation, action), client, world, who,
                              f"/api/v1/nominations/{nid}/actions/{action}",
                              payload_for(action), wanted, 200, state,
                              nomination_offered(who, situation, "province", "own"), False,
                              "state", None, version):
                fresh.spent(key)
    report(failures)


def test_not_allowed_message_names_the_state_of_its_own_subject():
    """"approved" is a state of models and of nominations, with different labels."""
    from registry.domain.errors import NotAllowedInState
    assert "(“Đã công nhận”)" in str(NotAllowedInState("Không công nhận", "approved", [],
                                                       "nomination"))
    assert "(“Được công nhận nhân rộng”)" in str(NotAllowedInState("Nhân rộng", "approved", []))
