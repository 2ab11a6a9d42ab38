"""People who sign in, the roles they hold on places, their API tokens and login attempts."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.practices import utcnow

ROLES = ("officer", "committee", "reviewer", "trainer", "admin")
NATIONAL = "national"


def new_session_stamp() -> str:
    """A fresh random session stamp (registry/accounts/sessions.py)."""
    return secrets.token_hex(16)


class User(UserMixin, db.Model):
    """An account: e-mail and a salted password hash, and the grants it holds."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Mail: each message at once (False) or one daily digest (True).
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                            nullable=True)
    # Every session of the account carries this value; changing it ends them all (sign-out,
    # password change or reset).
    session_stamp: Mapped[str] = mapped_column(String(32), default=new_session_stamp,
                                               server_default="")

    grants: Mapped[list["Grant"]] = relationship(back_populates="user",
                                                 cascade="all, delete-orphan")
    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user",
                                                    cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


class Grant(db.Model):
    """A role held on a unit: a commune code, a province code, or "national"."""

    __tablename__ = "grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(10), default=NATIONAL)

    user: Mapped[User] = relationship(back_populates="grants")


class ApiToken(db.Model):
    """A personal API token; only its hash is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginAttempt(db.Model):
    """A failed sign-in, counted per account and per address for rate limiting."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
