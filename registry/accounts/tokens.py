"""Personal API tokens: created shown once, stored as a SHA-256 hash and a short prefix."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select

from registry.accounts.services import AccountError
from registry.extensions import db
from registry.models.accounts import ApiToken, User
from registry.models.practices import utcnow

TOKEN_PREFIX = "rg_"
PREFIX_LENGTH = 11  # "rg_" and 8 characters: enough to tell tokens apart in a list
# "Last used" is shown to the minute; recording it more often would turn every API read
# into a write transaction.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the plain token (never stored)."""
    name = (name or "").strip()
    if len(name) > 100:
        raise AccountError(_("Tên mã truy cập tối đa 100 ký tự."), "name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(name=name or "Mã truy cập", prefix=plain[:PREFIX_LENGTH],
                     token_hash=hash_token(plain))
    user.tokens.append(token)
    db.session.flush()
    return token, plain


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (a token of someone else is "not found")."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError("Không tìm thấy mã truy cập.", "token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def revoke_all(user: User) -> int:
    """Revoke every active token of `user` (password changed or reset); returns how many."""
    now, count = utcnow(), 0
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = now
            count += 1
    db.session.flush()
    return count


def user_for_token(plain: str) -> User | None:
    """The active owner of a valid, unrevoked token, with last_used_at updated; else None."""
    if not plain or not plain.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    last = token.last_used_at
    if last is not None and last.tzinfo is None:  # SQLite returns naive UTC datetimes
        last = last.replace(tzinfo=timezone.utc)
    if last is None or now - last >= LAST_USE_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return token.user
