"""Accounts: sign-in, sessions, roles on places, API tokens."""
from __future__ import annotations

from flask import Flask

from registry.extensions import csrf, db, login_manager
from registry.models.accounts import User


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))
