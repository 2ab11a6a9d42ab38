"""Failed sign-ins counted per account and per address over a sliding window."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from registry.extensions import db
from registry.models.accounts import LoginAttempt
from registry.models.practices import utcnow

DEFAULTS = {"REGISTRY_LOGIN_WINDOW_MINUTES": 15, "REGISTRY_LOGIN_MAX_PER_ACCOUNT": 5,
            "REGISTRY_LOGIN_MAX_PER_ADDRESS": 20}
MESSAGE = _l("Quá nhiều lần đăng nhập sai. Vui lòng thử lại sau %(minutes)s phút "
             "hoặc liên hệ quản trị để đặt lại mật khẩu.")


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def window_minutes() -> int:
    return _setting("REGISTRY_LOGIN_WINDOW_MINUTES")


def _count(*conditions) -> int:
    since = utcnow() - timedelta(minutes=window_minutes())
    return db.session.scalar(select(func.count()).select_from(LoginAttempt)
                             .where(LoginAttempt.at >= since, *conditions))


def is_limited(email: str, address: str) -> bool:
    """Whether this account or this address has used up its failed attempts."""
    return (_count(LoginAttempt.email == email) >= _setting("REGISTRY_LOGIN_MAX_PER_ACCOUNT")
            or _count(LoginAttempt.address == address)
            >= _setting("REGISTRY_LOGIN_MAX_PER_ADDRESS"))


def record_failure(email: str, address: str) -> None:
    """Count a failed attempt; attempts older than a day are pruned on the way."""
    db.session.execute(delete(LoginAttempt).where(
        LoginAttempt.at < utcnow() - timedelta(days=1)))
    db.session.add(LoginAttempt(email=email[:254], address=(address or "")[:64]))
    db.session.flush()


def limited_message() -> str:
    return MESSAGE % {"minutes": window_minutes()}
