"""API tokens: created on the profile page and shown once, stored hashed, revoked; bearer
authentication of the API (registry.api.auth)."""
from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from registry import create_app
from registry.api.auth import current_api_user
from registry.api.errors import ApiError, error_response
from registry.extensions import db
from registry.models.accounts import ApiToken, User

TOKEN = re.compile(r'<code class="token">(rg_[A-Za-z0-9_-]+)</code>')


@pytest.fixture
def probe_app(app):
    """The test application's configuration and database, plus one token-protected route."""
    probe = create_app({**app.config})

    @probe.get("/api/v1/_whoami")
    def whoami():
        try:
            return {"email": current_api_user(required=True).email}
        except ApiError as error:
            return error_response(error.status, error.message, code=error.code)

    yield probe
    with probe.app_context():
        db.engine.dispose()


def new_token_via_profile(client, name="Hệ thống tỉnh"):
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    found = TOKEN.findall(response.get_data(as_text=True))
    assert len(found) == 1
    return found[0]


def token_rows(app):
    with app.app_context():
        rows = db.session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
        db.session.expunge_all()
        return rows


def test_token_is_shown_once_and_stored_hashed(app, client, make_user, login):
    login(client, make_user(email="a@example.vn"))
    plain = new_token_via_profile(client)
    (row,) = token_rows(app)
    assert row.name == "Hệ thống tỉnh"
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert row.prefix == plain[:11] and len(plain) > 40
    # The plain token is in no column of the table.
    with app.app_context():
        for values in db.session.execute(ApiToken.__table__.select()).all():
            assert all(plain not in str(value) for value in values)
    profile = client.get("/account").get_data(as_text=True)
    assert plain not in profile and row.prefix in profile and "Hệ thống tỉnh" in profile


def test_token_authenticates_the_api_and_records_use(app, probe_app, client, make_user,
                                                     login):
    login(client, make_user(email="a@example.vn"))
    plain = new_token_via_profile(client)
    assert token_rows(app)[0].last_used_at is None
    api = probe_app.test_client()
    response = api.get("/api/v1/_whoami", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200 and response.get_json() == {"email": "a@example.vn"}
    assert token_rows(app)[0].last_used_at is not None


def test_last_use_is_recorded_at_most_once_a_minute(app, probe_app, client, make_user, login):
    from datetime import timedelta
    login(client, make_user(email="a@example.vn"))
    plain = new_token_via_profile(client)
    api = probe_app.test_client()
    headers = {"Authorization": f"Bearer {plain}"}
    assert api.get("/api/v1/_whoami", headers=headers).status_code == 200
    first = token_rows(app)[0].last_used_at
    assert api.get("/api/v1/_whoami", headers=headers).status_code == 200
    assert token_rows(app)[0].last_used_at == first  # a read did not become a write
    with app.app_context():
        token = db.session.scalar(select(ApiToken))
        token.last_used_at = first - timedelta(minutes=2)
        db.session.commit()
    assert api.get("/api/v1/_whoami", headers=headers).status_code == 200
    assert token_rows(app)[0].last_used_at > first - timedelta(minutes=2)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer rg_notatoken", "Basic YTpi",
                                    "Bearer  "])
def test_missing_or_bad_token_is_401_json(probe_app, header):
    headers = {"Authorization": header} if header is not None else {}
    response = probe_app.test_client().get("/api/v1/_whoami", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.get_json()["error"]
    assert error["code"] == "unauthorized" and "mã truy cập" in error["message"].lower()
    assert error["fields"] == {}


def test_session_cookie_does_not_authenticate_the_api(app, probe_app, make_user, login):
    browser = probe_app.test_client()
    login(browser, make_user(email="a@example.vn"))
    assert browser.get("/account").status_code == 200
    assert browser.get("/api/v1/_whoami").status_code == 401


def test_revoked_token_is_refused(app, probe_app, client, make_user, login):
    login(client, make_user(email="a@example.vn"))
    plain = new_token_via_profile(client)
    keep = new_token_via_profile(client, "Giữ lại")
    revoked_id = token_rows(app)[0].id
    assert client.post(f"/account/tokens/{revoked_id}/revoke").status_code == 302
    rows = token_rows(app)
    assert rows[0].revoked_at is not None and rows[1].revoked_at is None
    assert "Đã thu hồi" in client.get("/account").get_data(as_text=True)
    api = probe_app.test_client()
    assert api.get("/api/v1/_whoami",
                   headers={"Authorization": f"Bearer {plain}"}).status_code == 401
    assert api.get("/api/v1/_whoami",
                   headers={"Authorization": f"Bearer {keep}"}).status_code == 200


def test_cannot_revoke_someone_elses_token(app, client, make_user, login):
    owner, other = app.test_client(), app.test_client()
    login(owner, make_user(email="a@example.vn"))
    login(other, make_user(email="b@example.vn"))
    new_token_via_profile(owner)
    token_id = token_rows(app)[0].id
    assert other.post(f"/account/tokens/{token_id}/revoke").status_code == 404
    assert token_rows(app)[0].revoked_at is None


def test_token_of_an_inactive_account_is_refused(app, probe_app, client, make_user, login):
    user_id = make_user(email="a@example.vn")
    login(client, user_id)
    plain = new_token_via_profile(client)
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert probe_app.test_client().get(
        "/api/v1/_whoami", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_token_name_is_limited(app, client, make_user, login):
    login(client, make_user(email="a@example.vn"))
    response = client.post("/account/tokens", data={"name": "x" * 101})
    assert response.status_code == 400
    assert "Tên tối đa 100 ký tự." in response.get_data(as_text=True)
    assert token_rows(app) == []


def test_cli_token_works_for_the_api(probe_app, runner, make_user):
    make_user(email="a@example.vn")
    result = runner.invoke(args=["users", "token", "a@example.vn", "--name", "Đồng bộ"])
    assert result.exit_code == 0
    plain = result.output.strip().splitlines()[-1]
    assert plain.startswith("rg_")
    response = probe_app.test_client().get("/api/v1/_whoami",
                                           headers={"Authorization": f"Bearer {plain}"})
    assert response.get_json() == {"email": "a@example.vn"}
    missing = runner.invoke(args=["users", "token", "ai@example.vn"])
    assert missing.exit_code == 1 and "Không có tài khoản" in missing.output
