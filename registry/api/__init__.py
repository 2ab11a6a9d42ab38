"""The JSON API under /api/v1/."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from registry.extensions import csrf
    from registry.api import (  # noqa: F401  (routes, handlers)
        errors, openapi, practices, search, workflow,
    )
    csrf.exempt(bp)
    app.register_blueprint(bp)
