"""F7, F8: sign-out and password changes end sessions on the server (a saved cookie no longer
signs in) and a password change or reset revokes the account's API tokens."""
from __future__ import annotations

import re

from conftest import TEST_PASSWORD
from sqlalchemy import select, text

from registry.extensions import db
from registry.models.accounts import ApiToken, User

NEW_PASSWORD = "một mật khẩu mới dài"
TOKEN = re.compile(r'<code class="token">(rg_[A-Za-z0-9_-]+)</code>')


def saved_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def with_cookie(app, value: str):
    """A new browser holding only a copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def signed_in(client) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def new_token(client) -> str:
    response = client.post("/account/tokens", data={"name": "Hệ thống tỉnh"})
    assert response.status_code == 200
    return TOKEN.findall(response.get_data(as_text=True))[0]


def api_write(client, token: str) -> int:
    """A token-only API request: 401 for a bad token, else 4xx about the (empty) body."""
    return client.post("/api/v1/practices", data="{}", content_type="application/json",
                       headers={"Authorization": f"Bearer {token}"}).status_code


def test_cookie_saved_before_sign_out_no_longer_opens_the_account(app, client, make_user,
                                                                   login):
    login(client, make_user())
    saved = saved_cookie(client)
    assert signed_in(with_cookie(app, saved))  # a copy works while the session lasts
    assert client.post("/logout").status_code == 302
    replay = with_cookie(app, saved)
    response = replay.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert not signed_in(client)


def test_sign_out_ends_the_accounts_other_sessions_too(app, make_user, login):
    user_id = make_user()
    phone, desk = app.test_client(), app.test_client()
    login(phone, user_id)
    login(desk, user_id)
    desk.post("/logout")
    assert not signed_in(phone)
    login(phone, user_id)  # signing in again works, and does not end other new sessions
    login(desk, user_id)
    assert signed_in(phone) and signed_in(desk)


def test_sign_out_of_one_account_leaves_others_signed_in(app, make_user, login):
    first, second = app.test_client(), app.test_client()
    login(first, make_user())
    login(second, make_user())
    first.post("/logout")
    assert signed_in(second)


def test_cookie_saved_before_password_change_no_longer_works(app, client, make_user, login):
    login(client, make_user(email="doi@example.vn"))
    saved = saved_cookie(client)
    response = client.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in(client)  # the session that changed it goes on
    assert not signed_in(with_cookie(app, saved))


def test_stamp_is_rotated_in_the_database(app, client, make_user, login):
    user_id = make_user()

    def stamp():
        with app.app_context():
            return db.session.get(User, user_id).session_stamp
    first = stamp()
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    login(client, user_id)
    assert stamp() == first  # signing in does not end the other sessions
    client.post("/logout")
    assert stamp() != first


def test_password_change_revokes_api_tokens(app, client, make_user, login):
    user_id = make_user()
    login(client, user_id)
    token, other = new_token(client), new_token(client)
    assert api_write(client, token) != 401
    response = client.post("/account/password", data={
        "current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}, follow_redirects=True)
    assert "2 mã truy cập API cũ đã bị thu hồi" in response.get_data(as_text=True)
    assert api_write(client, token) == 401
    assert api_write(client, other) == 401
    with app.app_context():
        rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)).all()
        assert rows and all(row.revoked_at is not None for row in rows)
    fresh = new_token(client)  # new tokens after the change work
    assert api_write(client, fresh) != 401


def test_administrator_reset_revokes_api_tokens(app, make_user, login):
    admin, person = app.test_client(), app.test_client()
    login(admin, make_user(role="admin", unit="national"))
    user_id = make_user()
    login(person, user_id)
    token = new_token(person)
    assert admin.post(f"/users/{user_id}/reset-password",
                      data={"password": "tạm thời 12345"}).status_code == 302
    assert api_write(person, token) == 401


def test_cli_reset_revokes_api_tokens(app, runner, client, make_user, login):
    login(client, make_user(email="cli@example.vn"))
    token = new_token(client)
    result = runner.invoke(args=["users", "reset-password", "cli@example.vn"],
                           input="tạm thời 12345\n")
    assert result.exit_code == 0, result.output
    assert "1 mã truy cập API đã bị thu hồi" in result.output
    assert api_write(client, token) == 401
    assert not signed_in(client)


def test_other_accounts_tokens_survive_a_password_change(app, make_user, login):
    mine, theirs = app.test_client(), app.test_client()
    login(mine, make_user())
    login(theirs, make_user())
    their_token = new_token(theirs)
    mine.post("/account/password", data={"current_password": TEST_PASSWORD,
                                         "new_password": NEW_PASSWORD,
                                         "confirm": NEW_PASSWORD})
    assert api_write(theirs, their_token) != 401


def test_empty_stamp_never_matches(app, client, make_user, login):
    """A row without a stamp (the column's server default) has no valid session at all."""
    user_id = make_user()
    login(client, user_id)
    with app.app_context():
        db.session.execute(text('UPDATE "user" SET session_stamp = \'\' WHERE id = :id'),
                           {"id": user_id})
        db.session.commit()
    with client.session_transaction() as session:
        session["stamp"] = ""
    assert not signed_in(client)


def test_migration_gives_every_existing_account_its_own_stamp(empty_database, app_on):
    from flask_migrate import upgrade
    other = app_on(empty_database())
    with other.app_context():
        upgrade(revision="0002")
        for n in (1, 2):
            db.session.execute(text(
                'INSERT INTO "user" (id, email, name, password_hash, active, '
                "must_change_password, created_at) VALUES (:id, :email, 'Người cũ', 'x', "
                "true, false, CURRENT_TIMESTAMP)"), {"id": n, "email": f"cu{n}@example.vn"})
        db.session.execute(text(
            "INSERT INTO api_token (id, user_id, name, prefix, token_hash, created_at) "
            "VALUES (1, 1, 'cũ', 'rg_abcdefgh', :hash, CURRENT_TIMESTAMP)"), {"hash": "0" * 64})
        db.session.commit()
        upgrade()
        stamps = db.session.execute(text('SELECT session_stamp FROM "user"')).scalars().all()
        assert len(stamps) == 2 and len(set(stamps)) == 2
        assert all(re.fullmatch(r"[0-9a-f]{32}", stamp) for stamp in stamps)
        assert db.session.execute(text("SELECT count(*) FROM api_token")).scalar() == 1
