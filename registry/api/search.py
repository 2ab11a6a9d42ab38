"""GET /api/v1/practices: search with exact facet counts (never personal data)."""
from __future__ import annotations

from flask import jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.api import bp
from registry.api.auth import INVALID, api_user
from registry.api.errors import ApiError
from registry.extensions import db
from registry.models.practices import Practice
from registry.search import get_backend
from registry.search.params import SearchArgsError, parse_search_args
from registry.workflow import recognition_label, state_label

LANGUAGES = ("vi", "en")


def hit_representation(practice: Practice, hit, locale: str) -> dict:
    """A hit as the API shows it: public fields of the model and its highlighted fragments."""
    return {
        "id": practice.id,
        "name": practice.name,
        "kind": {"code": practice.kind.code, "label": practice.kind.label(locale)},
        "province": {"code": practice.province_code, "name": practice.province.name},
        "commune": {"code": practice.commune_code, "name": practice.commune.name},
        "hamlet": practice.hamlet,
        "summary": practice.summary,
        "status": {"code": practice.status, "label": state_label(practice.status, locale)},
        "recognition": {"code": practice.recognition_level,
                        "label": recognition_label(practice.recognition_level, locale)},
        "founded_on": practice.founded_on.isoformat() if practice.founded_on else None,
        "url": url_for("api.get_practice", practice_id=practice.id),
        "highlight": {"name": hit.name_html, "snippet": hit.snippet_html},
    }


@bp.get("/practices")
def search_practices():
    user = api_user()
    if user is None and request.headers.get("Authorization"):
        raise ApiError(401, INVALID)
    locale = request.args.get("lang", "vi")
    fields = {} if locale in LANGUAGES else {"lang": "Ngôn ngữ phải là vi hoặc en."}
    try:
        search_request = parse_search_args(request.args, ignore=("lang",))
    except SearchArgsError as exc:
        fields.update(exc.fields)
    if fields:
        raise ApiError(400, "Tham số tìm kiếm không hợp lệ: " + ", ".join(sorted(fields)) + ".",
                       code="invalid_parameters", fields=fields)
    search_request.locale = locale
    search_request.viewer = user
    result = get_backend().search(search_request)
    ids = [hit.practice_id for hit in result.hits]
    practices = {p.id: p for p in db.session.scalars(
        select(Practice).where(Practice.id.in_(ids))
        .options(selectinload(Practice.kind), selectinload(Practice.province),
                 selectinload(Practice.commune)))} if ids else {}
    return jsonify({
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "hits": [hit_representation(practices[hit.practice_id], hit, locale)
                 for hit in result.hits if hit.practice_id in practices],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count,
                           "selected": v.selected} for v in values]
                   for name, values in result.facets.items()},
    })
