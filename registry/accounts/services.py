"""Account changes: create users, set passwords, grant and revoke roles on places.

Every function changes the session and flushes; the caller (a view or a CLI command)
commits once, or rolls back when an AccountError is raised.
"""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from registry.accounts.passwords import (
    hash_password, needs_rehash, password_problem, verify_nothing, verify_password,
)
from registry.extensions import db
from registry.models.accounts import NATIONAL, ROLES, Grant, User
from registry.models.places import Commune, Province

# Which kinds of unit each role may be granted on (docs/domain.md §2, issue 3).
ROLE_SCOPES = {
    "officer": ("commune",),
    "committee": ("commune", "province", "national"),
    "reviewer": ("commune", "province", "national"),
    "trainer": ("national",),
    "admin": ("national",),
}
ROLE_LABELS = {
    "officer": _l("Cán bộ xã, phường"),
    "committee": _l("Thành viên Ban Chỉ đạo"),
    "reviewer": _l("Người thẩm định"),
    "trainer": _l("Giảng viên, báo cáo viên"),
    "admin": _l("Quản trị"),
}
SCOPE_LABELS = {"commune": "một xã, phường, đặc khu (mã 5 chữ số)",
                "province": "một tỉnh, thành phố (mã 2 chữ số)",
                "national": "toàn quốc (national)"}


class AccountError(ValueError):
    """Bad input for an account change; `message` is Vietnamese, `field` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def get_user(email: str) -> User:
    user = find_user(email)
    if user is None:
        raise AccountError(f"Không có tài khoản với thư điện tử {email}.", "email")
    return user


def unit_kind(unit: str) -> str | None:
    """'national', 'province' or 'commune' for an existing unit, else None."""
    if unit == NATIONAL:
        return "national"
    if len(unit) == 2 and db.session.get(Province, unit) is not None:
        return "province"
    if len(unit) == 5 and db.session.get(Commune, unit) is not None:
        return "commune"
    return None


def unit_label(unit: str) -> str:
    """The unit's name for pages and listings (place names stay Vietnamese)."""
    if unit == NATIONAL:
        return _("Toàn quốc")
    if len(unit) == 2 and (province := db.session.get(Province, unit)) is not None:
        return province.name
    if len(unit) == 5 and (commune := db.session.get(Commune, unit)) is not None:
        return commune.full_name
    return unit


def check_grant(role: str, unit: str) -> None:
    """Raise AccountError unless `role` may be held on `unit` and the unit exists."""
    if role not in ROLES:
        raise AccountError(f"Vai trò không hợp lệ: {role}. Chọn một trong: "
                           + ", ".join(ROLES) + ".", "role")
    kind = unit_kind(unit)
    if kind is None:
        raise AccountError(f"Không có đơn vị hành chính mã {unit}: cần mã xã (5 chữ số), "
                           "mã tỉnh (2 chữ số) hoặc national.", "unit")
    allowed = ROLE_SCOPES[role]
    if kind not in allowed:
        raise AccountError(f"Vai trò {ROLE_LABELS[role]} chỉ được giao trên "
                           + " hoặc ".join(SCOPE_LABELS[k] for k in allowed) + ".", "unit")


def create_user(email: str, name: str, password: str, *, must_change_password: bool = False,
                password_hash: str | None = None) -> User:
    """A new active account; `password_hash` lets test builders reuse a computed hash."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise AccountError("Địa chỉ thư điện tử không hợp lệ.", "email")
    if find_user(email) is not None:
        raise AccountError(f"Đã có tài khoản với thư điện tử {email}.", "email")
    name = (name or "").strip()
    if not name:
        raise AccountError("Cần nhập họ và tên.", "name")
    if password_hash is None:
        if problem := password_problem(password):
            raise AccountError(problem, "password")
        password_hash = hash_password(password)
    user = User(email=email, name=name[:200], password_hash=password_hash,
                must_change_password=must_change_password, active=True)
    db.session.add(user)
    db.session.flush()
    return user


def add_grant(user: User, role: str, unit: str) -> Grant:
    """Give the user `role` on `unit` (idempotent: an existing grant is returned)."""
    unit = (unit or "").strip()
    check_grant(role, unit)
    for grant in user.grants:
        if grant.role == role and grant.unit == unit:
            return grant
    grant = Grant(role=role, unit=unit)
    user.grants.append(grant)
    db.session.flush()
    return grant


def remove_grant(user: User, role: str, unit: str) -> None:
    unit = (unit or "").strip()
    for grant in list(user.grants):
        if grant.role == role and grant.unit == unit:
            user.grants.remove(grant)
            db.session.flush()
            return
    raise AccountError(f"Tài khoản {user.email} không giữ vai trò {role} trên {unit}.", "role")


def set_password(user: User, password: str, *, must_change_password: bool = False) -> int:
    """Store a new password (strength-checked); `must_change_password` for admin resets.

    The account's sessions end and its API tokens are revoked (whoever knew the old password
    may have made them); returns how many tokens were revoked.
    """
    from registry.accounts.sessions import end_all
    from registry.accounts.tokens import revoke_all
    if problem := password_problem(password):
        raise AccountError(problem, "password")
    user.password_hash = hash_password(password)
    user.must_change_password = must_change_password
    end_all(user)
    return revoke_all(user)


def change_password(user: User, current: str, new: str) -> int:
    """The user's own change: the current password is required and must differ."""
    if not verify_password(user.password_hash, current):
        raise AccountError(_("Mật khẩu hiện tại không đúng."), "current_password")
    if new == current:
        raise AccountError(_("Mật khẩu mới phải khác mật khẩu hiện tại."), "new_password")
    try:
        return set_password(user, new)
    except AccountError as exc:
        raise AccountError(exc.message, "new_password") from exc


def reset_password(user: User, temporary: str) -> int:
    """An administrator's reset: a temporary password to be changed at the next sign-in."""
    return set_password(user, temporary, must_change_password=True)


def authenticate(email: str, password: str) -> User | None:
    """The active user with this e-mail and password, else None (same cost either way)."""
    user = find_user(email)
    if user is None or not user.password_hash:
        verify_nothing(password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.flush()
    return user
