"""Accounts: sign-in and sign-out, password change, administrator resets, rate limiting, CSRF."""
from __future__ import annotations

from sqlalchemy import func, select

from registry.extensions import db
from registry.models.accounts import LoginAttempt, User
from conftest import TEST_PASSWORD


def test_sign_in_and_out(client, make_user, login):
    user_id = make_user(email="can.bo@example.vn", name="Nguyễn Văn An")
    login(client, "can.bo@example.vn")
    page = client.get("/account")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Nguyễn Văn An" in text and "Cán bộ xã, phường" in text and "Phường Hoàn Kiếm" in text
    assert "Đăng xuất" in client.get("/practices").get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302  # back to the sign-in page
    assert user_id
