"""Bearer-token authentication for the API: `api_user()`, the owner of the request's token.

The API is exempt from CSRF, so it trusts only `Authorization: Bearer <token>`, never the
browser's session cookie (a cookie would let another site send writes in a user's name).
"""
from __future__ import annotations

from flask import g, request

from registry.accounts.tokens import user_for_token
from registry.services.uow import unit_of_work

MISSING = ("Cần gửi mã truy cập hợp lệ trong tiêu đề Authorization: Bearer <mã truy cập> "
           "(tạo mã ở trang Tài khoản).")
INVALID = "Mã truy cập không hợp lệ, đã bị thu hồi hoặc tài khoản đã bị khóa."


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def api_user():
    """The User the request's bearer token belongs to, or None (no, bad or revoked token).

    The answer is kept for the request. Recording the token's last use (at most once a
    minute, see tokens.LAST_USE_RESOLUTION) is its own small transaction, committed before
    the view runs, so a view that fails and rolls back does not lose it and a read-only view
    need not commit.
    """
    if "api_user" not in g:
        plain = bearer_token()
        user = None
        if plain:
            with unit_of_work(source="api"):
                user = user_for_token(plain)
        g.api_user = user
    return g.api_user


def current_api_user(*, required: bool):
    """The token's owner; a bad token is always 401, a missing one only when required."""
    from registry.api.errors import ApiError
    user = api_user()
    sent = bool(request.headers.get("Authorization"))
    if user is None and (required or sent):
        raise ApiError(401, INVALID if sent else MISSING)
    return user
