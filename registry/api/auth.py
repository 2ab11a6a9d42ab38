"""Bearer-token authentication for the API: `api_user()` and the `require_token` decorator.

The API is exempt from CSRF, so it trusts only `Authorization: Bearer <token>`, never the
browser's session cookie (a cookie would let another site send writes in a user's name).
"""
from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request

from registry.accounts.tokens import user_for_token
from registry.extensions import db

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
        user = user_for_token(plain) if plain else None
        if user is not None:
            db.session.commit()
        g.api_user = user
    return g.api_user


def unauthorized_response():
    """401 with the API's error shape and a WWW-Authenticate challenge."""
    message = INVALID if bearer_token() else MISSING
    response = jsonify({"error": {"code": "unauthorized", "message": message, "fields": {}}})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="registry"'
    return response


def require_token(view):
    """Decorator: answer 401 unless a valid bearer token is sent; `api_user()` is then set."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if api_user() is None:
            return unauthorized_response()
        return view(*args, **kwargs)
    return wrapped
