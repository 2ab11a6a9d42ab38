"""Web pages: blueprints, template helpers shared by every page."""
from __future__ import annotations

from flask import Flask, g
from sqlalchemy import select

from registry import permissions
from registry.extensions import db
from registry.markdown import render_markdown
from registry.models.practices import Practice
from registry.domain.workflow import nomination_state_label, recognition_label, state_label


def demo_data_present() -> bool:
    """Whether the catalogue holds generated demo models (shown as a banner on every page)."""
    if "demo_present" not in g:
        # The largest value, read from the index: EXISTS(... is_demo) scans the whole table
        # once statistics say nearly every model has the same value (about 80 ms at 100,000).
        g.demo_present = bool(db.session.scalar(
            select(Practice.is_demo).order_by(Practice.is_demo.desc()).limit(1)))
    return g.demo_present


def inbox_count() -> int:
    """How many items await the signed-in user (the header's "Việc cần xử lý" badge)."""
    from flask_login import current_user
    if not current_user.is_authenticated:
        return 0
    if "inbox_count" not in g:
        from registry.services.inbox import inbox_count as count
        g.inbox_count = count(current_user)
    return g.inbox_count


def init_app(app: Flask) -> None:
    from registry.web import catalogue, dashboards, health, workflow

    app.register_blueprint(health.bp)
    app.register_blueprint(catalogue.bp)
    app.register_blueprint(workflow.bp)
    app.register_blueprint(dashboards.bp)
    from registry import editing
    editing.init_app(app)
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.globals.update(
        can=permissions, state_label=state_label, recognition_label=recognition_label,
        nomination_state_label=nomination_state_label,
        demo_data_present=demo_data_present, inbox_count=inbox_count,
        action_label=workflow.action_label, commendation_label=workflow.commendation_label)
