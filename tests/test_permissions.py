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


def practice_state(app, practice_id: int) -> tuple[str, str]:
    with app.app_context():
        practice = db.session.get(Practice, practice_id)
        return practice.status, practice.summary


def practice_total(app) -> int:
    from sqlalchemy import func, select
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Practice))


def web_form(commune: str, province: str, who: str) -> dict:
    """The editing page's model form; only administrators' forms have a province select."""
    data = {"name": "Tổ tự quản mới", "kind": "tu-phong-tu-quan-tu-bao-ve", "summary": "",
            "description": "", "commune_code": commune, "hamlet": "", "setting": "",
            "forms": ["tu-quan"], "domains": [], "target_groups": [], "lead_organisation": "",
            "founded_on": "15/08/2020", "participants": "40", "households": "12",
            "action": "draft"}
    if who == "admin":
        data["province_code"] = province
    return data


@pytest.mark.parametrize("who", list(WHO))
def test_permission_table_web_writes(app, world, make_user, login, who):
    """Edit and archive pages, and registering a model in a commune, through the web."""
    user_id = user_for(app, make_user, who)
    client = app.test_client()
    if user_id:
        login(client, user_id)
    denied = 302 if user_id is None else 403  # anonymous users are sent to sign in
    for scope, (commune, province) in SCOPES.items():
        practice_id = world[scope, "registered"]
        for action, path in (("edit", f"/practices/{practice_id}/edit"),
                             ("archive", f"/practices/{practice_id}/archive")):
            status = client.get(path).status_code
            assert status == (200 if expected(who, action, scope) else denied), (action, scope)

        before = practice_total(app)
        response = client.post("/practices/new", data=web_form(commune, province, who))
        if expected(who, "create", scope):
            assert response.status_code == 302, scope
            assert practice_total(app) == before + 1
        else:
            # Officers are offered only their own commune (400: not a choice); others 403.
            assert response.status_code in (denied, 400), scope
            assert practice_total(app) == before

        response = client.post(f"/practices/{practice_id}/archive")
        if expected(who, "archive", scope):
            assert response.status_code == 302
            assert practice_state(app, practice_id)[0] == "archived"
        else:
            assert response.status_code == denied
            assert practice_state(app, practice_id)[0] == "registered"


@pytest.mark.parametrize("who", list(WHO))
def test_permission_table_api_writes(app, world, make_user, who):
    """PATCH, DELETE (archive) and POST (create in a commune) with the user's token."""
    from registry.accounts.tokens import create_token
    user_id = user_for(app, make_user, who)
    headers = {}
    if user_id:
        with app.app_context():
            _, plain = create_token(db.session.get(User, user_id), "thử")
            db.session.commit()
        headers = {"Authorization": f"Bearer {plain}"}
    denied = 401 if user_id is None else 403
    client = app.test_client()
    for scope, (commune, _province) in SCOPES.items():
        practice_id = world[scope, "registered"]
        url = f"/api/v1/practices/{practice_id}"
        etag = client.get(url).headers["ETag"]
        patched = client.patch(url, json={"summary": "Sửa qua API."},
                               headers={**headers, "If-Match": etag})
        if expected(who, "edit", scope):
            assert patched.status_code == 200, patched.get_data(as_text=True)
            assert practice_state(app, practice_id)[1] == "Sửa qua API."
        else:
            assert patched.status_code == denied, scope
            assert practice_state(app, practice_id)[1] == ""
            assert patched.get_json()["error"]["code"] in ("forbidden", "unauthorized")

        before = practice_total(app)
        created = client.post("/api/v1/practices", headers=headers, json={
            "name": "Mô hình qua API", "kind": "tu-phong-tu-quan-tu-bao-ve",
            "commune_code": commune, "forms": ["tu-quan"], "founded_on": "2020-01-01"})
        if expected(who, "create", scope):
            assert created.status_code == 201, created.get_data(as_text=True)
            assert practice_total(app) == before + 1
        else:
            assert created.status_code == denied, scope
            assert practice_total(app) == before

        archived = client.delete(url, headers=headers)
        if expected(who, "archive", scope):
            assert archived.status_code == 204
            assert practice_state(app, practice_id)[0] == "archived"
        else:
            assert archived.status_code == denied, scope
            assert practice_state(app, practice_id)[0] == "registered"
