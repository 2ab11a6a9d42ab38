"""Password hashing (Argon2id through argon2-cffi) and the strength rule."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that a wrong e-mail costs as much time
# as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("không-có-tài-khoản-này")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; an empty or malformed hash never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def verify_nothing(password: str) -> None:
    """Spend the time of one verification (for unknown accounts)."""
    verify_password(_DUMMY_HASH, password + "\x00")


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problem(password: str) -> str | None:
    """A message (interface language) saying why the password is too weak, or None."""
    if len(password or "") < MIN_LENGTH:
        return _("Mật khẩu phải có ít nhất %(min)d ký tự.", min=MIN_LENGTH)
    if not password.strip():
        return _("Mật khẩu không được chỉ gồm khoảng trắng.")
    return None
