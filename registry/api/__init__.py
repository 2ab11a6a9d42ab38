"""The JSON API under /api/v1/."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from registry.extensions import csrf
    csrf.exempt(bp)
    app.register_blueprint(bp)
