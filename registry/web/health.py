"""/healthz: the app answers and the database is reachable."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from registry.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # report, never crash the probe
        return jsonify(status="error", database=str(exc.__class__.__name__)), 503
    return jsonify(status="ok", database="ok")
