"""The public catalogue: a paginated list of models and a model's page."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry import permissions
from registry.extensions import db
from registry.models.practices import Practice
from registry.web.search import EXPORT_FORMATS, export_page, search_page
from registry.web.workflow import practice_workflow

bp = Blueprint("catalogue", __name__)


@bp.get("/")
def home():
    return redirect(url_for("catalogue.index"))


@bp.get("/practices")
def index():
    """The catalogue is the search page (registry/web/search.py)."""
    return search_page()


@bp.get("/practices/export.<fmt>")
def export(fmt: str):
    """The current search (same parameters as the page) as CSV or XLSX."""
    if fmt not in EXPORT_FORMATS:
        abort(404)
    return export_page(fmt)


@bp.get("/practices/<int:practice_id>")
def detail(practice_id: int):
    # Replications are listed with their place: loaded together, not one query per row.
    practice = db.session.scalar(select(Practice).where(Practice.id == practice_id).options(
        selectinload(Practice.replications).selectinload(Practice.commune),
        selectinload(Practice.replications).selectinload(Practice.province),
        selectinload(Practice.replications).selectinload(Practice.outcomes)))
    if practice is None or not permissions.can_view_practice(current_user, practice):
        abort(404)
    return render_template("catalogue/detail.html", practice=practice,
                           flow=practice_workflow(practice))
