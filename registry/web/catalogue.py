"""The public catalogue: a paginated list of models and a model's page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry import permissions
from registry.extensions import db
from registry.models.practices import Practice
from registry.workflow import PUBLIC_STATES

bp = Blueprint("catalogue", __name__)


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.get("/")
def home():
    return redirect(url_for("catalogue.index"))


@bp.get("/practices")
def index():
    per_page = current_app.config["REGISTRY_PER_PAGE"]
    page = page_number()
    visible = Practice.status.in_(PUBLIC_STATES)
    total = db.session.scalar(select(func.count()).select_from(Practice).where(visible))
    practices = db.session.scalars(
        select(Practice).where(visible)
        .options(selectinload(Practice.kind), selectinload(Practice.commune),
                 selectinload(Practice.province))
        .order_by(Practice.name_sort_key, Practice.id)
        .limit(per_page).offset((page - 1) * per_page)).all()
    pages = max(1, -(-total // per_page))
    return render_template("catalogue/index.html", practices=practices, total=total,
                           page=page, pages=pages)


@bp.get("/practices/<int:practice_id>")
def detail(practice_id: int):
    practice = db.session.get(Practice, practice_id)
    if practice is None or not permissions.can_view_practice(current_user, practice):
        abort(404)
    return render_template("catalogue/detail.html", practice=practice)
