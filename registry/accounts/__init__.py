"""Accounts: sign-in, sessions, roles on places, API tokens."""
from __future__ import annotations

from flask import Flask

from registry.extensions import csrf, db, login_manager
from registry.models.accounts import User


def init_app(app: Flask) -> None:
    from registry.accounts import sessions, views

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str):
        user = db.session.get(User, int(user_id))
        # A session from before a sign-out, a password change or a reset no longer counts.
        if user is None or not sessions.is_current(user):
            return None
        return user

    app.register_blueprint(views.bp)
    app.before_request(views.enforce_password_change)
