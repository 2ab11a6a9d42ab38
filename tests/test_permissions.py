"""The permission table: every role × scope × action, asked of registry.permissions, the web
pages and the API alike.

A user's grant is anchored on Phường Hoàn Kiếm (00070, Hà Nội) or on Hà Nội (01); the model
sits in that commune ("own"), in another commune of Hà Nội ("same province": Phường Ba Đình,
00004) or in another province ("other": Phường Vũng Tàu, 26506, TP Hồ Chí Minh).
"""
from __future__ import annotations

import pytest

from registry import permissions
from registry.extensions import db
from registry.models.accounts import User
from registry.models.practices import Practice

SCOPES = {"own": ("00070", "01"), "same_province": ("00004", "01"), "other": ("26506", "79")}

# Who: the grant each test user holds (None: not signed in; () : signed in without grants).
WHO = {
    "officer": ("officer", "00070"),
    "committee_commune": ("committee", "00070"),
    "committee_province": ("committee", "01"),
    "committee_national": ("committee", "national"),
    "reviewer_province": ("reviewer", "01"),
    "trainer": ("trainer", "national"),
    "admin": ("admin", "national"),
    "no_grant": (),
    "anonymous": None,
}

# Expected answers per action, for the scopes (own, same_province, other): 1 allow, 0 deny.
EXPECTED = {
    #                      view draft  personal data  edit   archive  create
    "officer":            ("100",      "100",         "100", "100",   "100"),
    "committee_commune":  ("100",      "100",         "000", "000",   "000"),
    "committee_province": ("110",      "110",         "000", "000",   "000"),
    "committee_national": ("111",      "111",         "000", "000",   "000"),
    "reviewer_province":  ("110",      "000",         "000", "000",   "000"),
    "trainer":            ("000",      "000",         "000", "000",   "000"),
    "admin":              ("111",      "111",         "111", "111",   "111"),
    "no_grant":           ("000",      "000",         "000", "000",   "000"),
    "anonymous":          ("000",      "000",         "000", "000",   "000"),
}
ACTIONS = ("view_draft", "personal_data", "edit", "archive", "create")

MEMBER_NAME = "Trần Thị Bình"
MEMBER_PHONE = "0912 345 678"


def expected(who: str, action: str, scope: str) -> bool:
    return EXPECTED[who][ACTIONS.index(action)][list(SCOPES).index(scope)] == "1"


@pytest.fixture
def world(app, make_practice, make_user):
    """A draft and a registered model (with a core member) in each scope."""
    models = {}
    for scope, (commune, _province) in SCOPES.items():
        for status in ("draft", "registered"):
            models[scope, status] = make_practice(
                name=f"Mô hình {scope} {status}", commune_code=commune, status=status,
                core_members=[{"name": MEMBER_NAME, "phone": MEMBER_PHONE}])
    return models


def user_for(app, make_user, who: str) -> int | None:
    grant = WHO[who]
    if grant is None:
        return None
    if not grant:
        return make_user(role=None, email=f"{who}@example.vn")
    return make_user(role=grant[0], unit=grant[1], email=f"{who}@example.vn")


@pytest.mark.parametrize("who", list(WHO))
def test_permission_table_functions(app, world, make_user, who):
    """registry.permissions answers the table exactly, for every action and scope."""
    user_id = user_for(app, make_user, who)
    with app.app_context():
        user = db.session.get(User, user_id) if user_id else None
        actual, wanted = {}, {}
        for scope, (commune, province) in SCOPES.items():
            draft = db.session.get(Practice, world[scope, "draft"])
            registered = db.session.get(Practice, world[scope, "registered"])
            actual.update({
                ("view_draft", scope): permissions.can_view_practice(user, draft),
                ("personal_data", scope): permissions.can_view_personal_data(user, registered),
                ("edit", scope): permissions.can_edit_practice(user, registered),
                ("archive", scope): permissions.can_archive_practice(user, registered),
                ("create", scope): permissions.can_create_practice(user, commune, province),
            })
            # Registered models are public: everybody sees them.
            assert permissions.can_view_practice(user, registered)
            for action in ACTIONS:
                wanted[action, scope] = expected(who, action, scope)
        assert actual == wanted


@pytest.mark.parametrize("who", list(WHO))
def test_permission_table_web(app, world, make_user, login, who):
    """Model pages: drafts are 404 outside their area; core members only for the entitled."""
    user_id = user_for(app, make_user, who)
    client = app.test_client()
    if user_id:
        login(client, user_id)
    for scope in SCOPES:
        draft = client.get(f"/practices/{world[scope, 'draft']}")
        assert draft.status_code == (200 if expected(who, "view_draft", scope) else 404), scope
        page = client.get(f"/practices/{world[scope, 'registered']}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        shown = expected(who, "personal_data", scope)
        assert (MEMBER_NAME in html) is shown, scope
        assert (MEMBER_PHONE in html) is shown, scope


@pytest.mark.parametrize("who", list(WHO))
def test_permission_table_api(app, world, make_user, who):
    """GET /api/v1/practices/<id> with the user's token: the same table as the pages."""
    from registry.accounts.tokens import create_token
    user_id = user_for(app, make_user, who)
    headers = {}
    if user_id:
        with app.app_context():
            _, plain = create_token(db.session.get(User, user_id), "thử")
            db.session.commit()
        headers = {"Authorization": f"Bearer {plain}"}
    client = app.test_client()
    for scope in SCOPES:
        draft = client.get(f"/api/v1/practices/{world[scope, 'draft']}", headers=headers)
        assert draft.status_code == (200 if expected(who, "view_draft", scope) else 404), scope
        response = client.get(f"/api/v1/practices/{world[scope, 'registered']}",
                              headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        shown = expected(who, "personal_data", scope)
        assert ("core_members" in body) is shown, scope
        assert (MEMBER_PHONE in response.get_data(as_text=True)) is shown, scope
        if shown:
            assert body["core_members"][0]["name"] == MEMBER_NAME
