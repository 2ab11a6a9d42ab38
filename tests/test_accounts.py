"""Accounts: sign-in and sign-out, password change, administrator resets, the login rate
limit, cookies and CSRF, and the `registry users` commands."""
from __future__ import annotations

import pytest
from conftest import TEST_PASSWORD
from sqlalchemy import func, select

from registry import create_app
from registry.accounts.cli import DEMO_ACCOUNTS, DEMO_PASSWORD, create_demo_accounts
from registry.accounts.passwords import verify_password
from registry.extensions import db
from registry.models.accounts import Grant, LoginAttempt, User

WRONG = "Thư điện tử hoặc mật khẩu không đúng."
LIMITED = "Quá nhiều lần đăng nhập sai"
NEW_PASSWORD = "một mật khẩu mới dài"


def attempt(client, email, password, address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def user_row(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def failed_attempts(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LoginAttempt))


# --- sign-in, sign-out, cookies ---------------------------------------------------------------

def test_sign_in_and_out(client, make_user, login):
    make_user(email="can.bo@example.vn", name="Nguyễn Văn An")
    assert client.get("/account").status_code == 302  # sign-in required
    login(client, "Can.Bo@Example.vn ")  # e-mail matched without case or spaces
    page = client.get("/account")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Nguyễn Văn An" in text and "Cán bộ xã, phường" in text and "Phường Hoàn Kiếm" in text
    assert "Đăng xuất" in client.get("/practices").get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302
    assert "Đăng nhập" in client.get("/practices").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    make_user(email="a@example.vn")
    response = attempt(client, "a@example.vn", TEST_PASSWORD)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests; REGISTRY_SECURE_COOKIES=1 adds it


def test_secure_cookies_from_the_environment(monkeypatch, tmp_path):
    from registry.config import from_environment
    monkeypatch.setenv("REGISTRY_SECURE_COOKIES", "1")
    assert from_environment(tmp_path)["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("REGISTRY_SECURE_COOKIES", "")
    assert from_environment(tmp_path)["SESSION_COOKIE_SECURE"] is False


def test_wrong_password_and_unknown_email_read_the_same(app, client, make_user):
    make_user(email="a@example.vn")
    for email, password in (("a@example.vn", "sai mật khẩu rồi"), ("ai@example.vn", "x" * 12)):
        response = attempt(client, email, password)
        assert response.status_code == 401
        assert WRONG in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert failed_attempts(app) == 2


def test_inactive_account_cannot_sign_in(app, client, make_user):
    user_id = make_user(email="a@example.vn")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert attempt(client, "a@example.vn", TEST_PASSWORD).status_code == 401


@pytest.mark.parametrize("target, landing", [
    ("/account", "/account"), ("//evil.example/x", "/practices"),
    ("https://evil.example/", "/practices")])
def test_next_only_follows_local_paths(client, make_user, target, landing):
    make_user(email="a@example.vn")
    response = client.post("/login", query_string={"next": target},
                           data={"email": "a@example.vn", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_empty_form_is_rejected_with_messages(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Cần nhập thư điện tử." in text and "Cần nhập mật khẩu." in text


# --- rate limit ------------------------------------------------------------------------------

def test_rate_limit_per_account(app, client, make_user):
    make_user(email="a@example.vn")
    make_user(email="b@example.vn")
    for _ in range(5):
        assert attempt(client, "a@example.vn", "sai mật khẩu rồi").status_code == 401
    # The sixth attempt is refused even with the right password, from any address.
    refused = attempt(client, "a@example.vn", TEST_PASSWORD, address="10.9.9.9")
    assert refused.status_code == 429
    assert LIMITED in refused.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    # Another account from the same address is not affected.
    assert attempt(client, "b@example.vn", TEST_PASSWORD).status_code == 302


def test_rate_limit_per_address(app, client, make_user):
    make_user(email="victim@example.vn")
    for n in range(20):
        assert attempt(client, f"guess{n}@example.vn", "sai mật khẩu rồi").status_code == 401
    refused = attempt(client, "victim@example.vn", TEST_PASSWORD)
    assert refused.status_code == 429
    assert LIMITED in refused.get_data(as_text=True)
    assert attempt(client, "victim@example.vn", TEST_PASSWORD,
                   address="10.0.0.2").status_code == 302


def test_successful_sign_in_is_not_counted(app, client, make_user):
    make_user(email="a@example.vn")
    for _ in range(4):
        attempt(client, "a@example.vn", "sai mật khẩu rồi")
    assert attempt(client, "a@example.vn", TEST_PASSWORD).status_code == 302
    assert failed_attempts(app) == 4
    client.post("/logout")
    assert attempt(client, "a@example.vn", TEST_PASSWORD).status_code == 302


def test_old_attempts_fall_out_of_the_window(app, client, make_user):
    from datetime import timedelta

    from registry.models.practices import utcnow
    make_user(email="a@example.vn")
    with app.app_context():
        for _ in range(5):
            db.session.add(LoginAttempt(email="a@example.vn", address="10.0.0.1",
                                        at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    assert attempt(client, "a@example.vn", TEST_PASSWORD).status_code == 302


# --- password change and administrator reset -------------------------------------------------

def change(client, current, new, confirm=None):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "confirm": new if confirm is None else confirm})


def test_password_change(app, make_user, login):
    make_user(email="a@example.vn")
    client, other_session = app.test_client(), app.test_client()
    login(client, "a@example.vn")
    login(other_session, "a@example.vn")
    for current, new, confirm, message in (
            ("sai mật khẩu rồi", NEW_PASSWORD, None, "Mật khẩu hiện tại không đúng."),
            (TEST_PASSWORD, "ngắn quá", None, "Mật khẩu phải có ít nhất 10 ký tự."),
            (TEST_PASSWORD, NEW_PASSWORD, "khác hẳn nhau rồi", "không khớp"),
            (TEST_PASSWORD, TEST_PASSWORD, None, "phải khác mật khẩu hiện tại")):
        response = change(client, current, new, confirm)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert verify_password(user_row(app, "a@example.vn").password_hash, TEST_PASSWORD)
    assert change(client, TEST_PASSWORD, NEW_PASSWORD).status_code == 302
    assert client.get("/account").status_code == 200  # this session goes on
    assert other_session.get("/account").status_code == 302  # the other one has ended
    client.post("/logout")
    assert attempt(client, "a@example.vn", TEST_PASSWORD).status_code == 401
    assert attempt(client, "a@example.vn", NEW_PASSWORD).status_code == 302


def test_administrator_reset_forces_a_change(app, make_user, login):
    admin_id = make_user(role="admin", unit="national", email="admin@example.vn")
    user_id = make_user(email="a@example.vn")
    admin, person, bystander = app.test_client(), app.test_client(), app.test_client()
    login(admin, admin_id)
    login(person, user_id)
    assert "a@example.vn" in admin.get("/users").get_data(as_text=True)
    short = admin.post(f"/users/{user_id}/reset-password", data={"password": "ngắn"})
    assert short.status_code == 400
    assert "ít nhất 10 ký tự" in short.get_data(as_text=True)
    assert admin.post(f"/users/{user_id}/reset-password",
                      data={"password": "tạm thời 12345"}).status_code == 302
    assert user_row(app, "a@example.vn").must_change_password
    assert person.get("/account").status_code == 302  # the old session ended with the reset
    response = attempt(bystander, "a@example.vn", "tạm thời 12345")
    assert response.headers["Location"] == "/account/password"
    blocked = bystander.get("/practices")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/account/password"
    assert change(bystander, "tạm thời 12345", NEW_PASSWORD).status_code == 302
    assert not user_row(app, "a@example.vn").must_change_password
    assert bystander.get("/practices").status_code == 200


def test_only_administrators_reset_passwords(app, make_user, login):
    officer_id = make_user(email="o@example.vn")
    other_id = make_user(email="p@example.vn")
    client = app.test_client()
    login(client, officer_id)
    assert client.get("/users").status_code == 403
    assert client.post(f"/users/{other_id}/reset-password",
                       data={"password": "tạm thời 12345"}).status_code == 403
    assert not user_row(app, "p@example.vn").must_change_password


# --- CSRF --------------------------------------------------------------------------------------

def test_csrf_is_enforced_when_enabled(app, make_user):
    make_user(email="a@example.vn")
    strict = create_app({**app.config, "WTF_CSRF_ENABLED": True, "TESTING": True})
    client = strict.test_client()
    without = client.post("/login", data={"email": "a@example.vn", "password": TEST_PASSWORD})
    assert without.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    with_token = client.post("/login", data={"email": "a@example.vn", "password": TEST_PASSWORD,
                                             "csrf_token": token})
    assert with_token.status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 400
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200  # still signed in
    with strict.app_context():
        db.engine.dispose()


# --- the `registry users` commands ------------------------------------------------------------

def run(runner, *args, input=None):
    return runner.invoke(args=["users", *args], input=input)


def test_cli_create_and_sign_in(app, runner, client, login):
    result = run(runner, "create", "Lan@Example.vn", "--name", "Lê Thị Lan", "--role",
                 "committee", "--unit", "01", input="mật khẩu của Lan\n")
    assert result.exit_code == 0, result.output
    assert "Đã tạo tài khoản lan@example.vn" in result.output
    login(client, "lan@example.vn", "mật khẩu của Lan")
    with app.app_context():
        grants = db.session.execute(select(Grant.role, Grant.unit)).all()
    assert grants == [("committee", "01")]


@pytest.mark.parametrize("role, unit, password, message", [
    ("officer", "00070", "ngắn", "Mật khẩu phải có ít nhất 10 ký tự."),
    ("officer", "01", "mật khẩu đủ dài", "chỉ được giao trên một xã"),
    ("committee", "99999", "mật khẩu đủ dài", "Không có đơn vị hành chính mã 99999"),
    ("trainer", "01", "mật khẩu đủ dài", "chỉ được giao trên toàn quốc"),
    ("admin", "00070", "mật khẩu đủ dài", "chỉ được giao trên toàn quốc"),
    ("chairman", "national", "mật khẩu đủ dài", "Vai trò không hợp lệ: chairman"),
])
def test_cli_create_rejects_bad_input_and_writes_nothing(app, runner, role, unit, password,
                                                         message):
    result = run(runner, "create", "x@example.vn", "--name", "X", "--role", role, "--unit",
                 unit, input=password + "\n")
    assert result.exit_code == 1
    assert "Lỗi: " in result.output and message in result.output
    assert user_row(app, "x@example.vn") is None


def test_cli_refuses_a_second_account_with_the_same_email(runner, make_user):
    make_user(email="a@example.vn")
    result = run(runner, "create", "A@example.vn", "--name", "A", "--role", "trainer",
                 "--unit", "national", input="mật khẩu đủ dài\n")
    assert result.exit_code == 1 and "Đã có tài khoản" in result.output


def test_cli_grant_revoke_and_list(app, runner, make_user):
    make_user(email="a@example.vn", name="Phạm Văn Ba")
    assert run(runner, "grant", "a@example.vn", "--role", "reviewer",
               "--unit", "national").exit_code == 0
    listing = run(runner, "list").output
    assert "a@example.vn\tPhạm Văn Ba\tofficer:00070, reviewer:national" in listing
    assert run(runner, "revoke", "a@example.vn", "--role", "officer",
               "--unit", "00070").exit_code == 0
    again = run(runner, "revoke", "a@example.vn", "--role", "officer", "--unit", "00070")
    assert again.exit_code == 1 and "không giữ vai trò" in again.output
    unknown = run(runner, "grant", "ai@example.vn", "--role", "trainer", "--unit", "national")
    assert unknown.exit_code == 1 and "Không có tài khoản" in unknown.output
    assert "reviewer:national" in run(runner, "list").output
    assert "officer:00070" not in run(runner, "list").output


def test_cli_reset_password(app, runner, client, make_user):
    make_user(email="a@example.vn")
    assert run(runner, "reset-password", "a@example.vn", input="ngắn\n").exit_code == 1
    result = run(runner, "reset-password", "a@example.vn", input="tạm thời 12345\n")
    assert result.exit_code == 0
    assert user_row(app, "a@example.vn").must_change_password
    assert "[phải đổi mật khẩu]" in run(runner, "list").output
    response = attempt(client, "a@example.vn", "tạm thời 12345")
    assert response.headers["Location"] == "/account/password"


def test_demo_accounts(app, client):
    with app.app_context():
        create_demo_accounts(0)
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        create_demo_accounts(10)
        create_demo_accounts(10)  # idempotent
        rows = db.session.execute(select(User.email, Grant.role, Grant.unit).join(Grant)).all()
    assert sorted(rows) == sorted((e, r, u) for e, _n, r, u in DEMO_ACCOUNTS)
    for email, *_ in DEMO_ACCOUNTS:
        assert attempt(client, email, DEMO_PASSWORD).status_code == 302
        client.post("/logout")
