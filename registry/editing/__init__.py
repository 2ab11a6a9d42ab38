"""Editing in the web UI: create, edit and archive models, members, results and evidence."""
from __future__ import annotations

from flask import Flask

from registry.editing import evidence_views  # noqa: F401  (its routes live on bp)
from registry.editing.views import bp

__all__ = ["bp", "init_app"]


def init_app(app: Flask) -> None:
    from registry.editing import history
    from registry.extensions import db
    from registry.services import evidence

    app.register_blueprint(bp)
    app.jinja_env.globals.update(revision_rows=history.revision_rows,
                                 evidence_category_label=evidence.CATEGORY_LABELS.get,
                                 format_size=history.format_size,
                                 field_label=history.field_label)
    with app.app_context():
        evidence.install(db.session.session_factory)
