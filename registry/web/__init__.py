"""Web pages: blueprints, template helpers shared by every page."""
from __future__ import annotations

from flask import Flask, g
from sqlalchemy import exists, select

from registry import permissions
from registry.extensions import db
from registry.markdown import render_markdown
from registry.models.practices import Practice
from registry.workflow import recognition_label, state_label


def demo_data_present() -> bool:
    """Whether the catalogue holds generated demo models (shown as a banner on every page)."""
    if "demo_present" not in g:
        g.demo_present = db.session.scalar(select(exists().where(Practice.is_demo.is_(True))))
    return g.demo_present


def init_app(app: Flask) -> None:
    from registry.web import catalogue, health

    app.register_blueprint(health.bp)
    app.register_blueprint(catalogue.bp)
    from registry import editing
    editing.init_app(app)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals.update(
        can=permissions, state_label=state_label, recognition_label=recognition_label,
        demo_data_present=demo_data_present)
