"""GET /api/v1/practices: search with exact facet counts (never personal data)."""
from __future__ import annotations

from flask import Response, jsonify, request, url_for
from sqlalchemy import select

from registry.api import bp
from registry.api.auth import current_api_user
from registry.api.errors import ApiError
from registry.extensions import db
from registry.models.places import Commune, Province
from registry.models.practices import Practice
from registry.models.vocab import Term
from registry.domain.workflow import recognition_label, state_label
from registry.search.base import SearchUnavailable
from registry.search.params import SearchArgsError
from registry.search.service import prepare_search, search

LANGUAGES = ("vi", "en")


HIT_COLUMNS = (Practice.id, Practice.name, Term.code, Term.label_vi, Term.label_en,
               Practice.province_code, Province.name, Practice.commune_code, Commune.name,
               Practice.hamlet, Practice.summary, Practice.status, Practice.recognition_level,
               Practice.founded_on)


def load_hits(hits, locale: str) -> list[dict]:
    """The hits as the API shows them: public fields of each model and its highlights."""
    ids = [hit.practice_id for hit in hits]
    if not ids:
        return []
    rows = {row[0]: row for row in db.session.execute(
        select(*HIT_COLUMNS).join(Term, Term.id == Practice.kind_id)
        .join(Province, Province.code == Practice.province_code)
        .join(Commune, Commune.code == Practice.commune_code)
        .where(Practice.id.in_(ids)))}
    shown = []
    for hit in hits:
        row = rows.get(hit.practice_id)
        if row is None:
            continue
        (pid, name, kind, kind_vi, kind_en, province, province_name, commune, commune_name,
         hamlet, summary, status, recognition, founded_on) = row
        shown.append({
            "id": pid, "name": name,
            "kind": {"code": kind, "label": (kind_en or kind_vi) if locale == "en"
                     else kind_vi},
            "province": {"code": province, "name": province_name},
            "commune": {"code": commune, "name": commune_name},
            "hamlet": hamlet, "summary": summary,
            "status": {"code": status, "label": state_label(status, locale)},
            "recognition": {"code": recognition,
                            "label": recognition_label(recognition, locale)},
            "founded_on": founded_on.isoformat() if founded_on else None,
            "url": url_for("api.get_practice", practice_id=pid),
            "highlight": {"name": hit.name_html, "snippet": hit.snippet_html},
        })
    return shown


@bp.get("/practices")
def search_practices():
    user = current_api_user(required=False)
    locale = request.args.get("lang", "vi")
    fields = {} if locale in LANGUAGES else {"lang": "Ngôn ngữ phải là vi hoặc en."}
    try:
        search_request = prepare_search(request.args, viewer=user, locale=locale,
                                        ignore=("lang",))
    except SearchArgsError as exc:
        fields.update(exc.fields)
    if fields:
        raise ApiError(400, "Tham số tìm kiếm không hợp lệ: " + ", ".join(sorted(fields)) + ".",
                       code="invalid_parameters", fields=fields)
    try:
        result = search(search_request)
    except SearchUnavailable:
        raise ApiError(503, "Máy chủ tìm kiếm tạm thời không hoạt động; vui lòng thử lại sau.",
                       code="search_unavailable", headers={"Retry-After": "30"})
    return jsonify({
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "hits": load_hits(result.hits, locale),
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count,
                           "selected": v.selected} for v in values]
                   for name, values in result.facets.items()},
    })


EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_HEADERS = {
    "id": "Mã", "name": "Tên mô hình", "kind": "Loại mô hình", "province": "Tỉnh, thành phố",
    "commune": "Xã, phường, đặc khu", "hamlet": "Thôn, xóm, tổ dân phố",
    "status": "Trạng thái", "recognition": "Cấp công nhận", "founded_on": "Ngày thành lập",
    "forms": "Hình thức", "domains": "Lĩnh vực", "target_groups": "Đối tượng tham gia",
    "participants": "Số người tham gia", "households": "Số hộ tham gia",
    "summary": "Tóm tắt", "core_members": "Lực lượng nòng cốt",
}


@bp.get("/practices/export")
def export_practices():
    """The same search as GET /practices, every hit as CSV or XLSX (page and per_page are
    ignored); core members only where the token's user may see them."""
    from registry.services.search_export import EXPORT_LIMIT, ExportTooLarge, export_table
    from registry.services.tabular import CSV_TYPE, XLSX_TYPE, csv_bytes, xlsx_bytes
    user = current_api_user(required=False)
    locale = request.args.get("lang", "vi")
    fmt = request.args.get("format", "csv")
    fields = {} if locale in LANGUAGES else {"lang": "Ngôn ngữ phải là vi hoặc en."}
    if fmt not in EXPORT_FORMATS:
        fields["format"] = "Định dạng phải là csv hoặc xlsx."
    try:
        search_request = prepare_search(request.args, viewer=user, locale=locale,
                                        ignore=("lang", "format"))
    except SearchArgsError as exc:
        fields.update(exc.fields)
    if fields:
        raise ApiError(400, "Tham số tìm kiếm không hợp lệ: " + ", ".join(sorted(fields)) + ".",
                       code="invalid_parameters", fields=fields)
    try:
        headers, rows = export_table(search_request, EXPORT_HEADERS)
    except ExportTooLarge as exc:
        raise ApiError(400, f"Kết quả có {exc.total} mô hình, vượt quá giới hạn tải về "
                            f"{EXPORT_LIMIT} dòng; hãy thu hẹp tìm kiếm.",
                       code="too_many_results")
    except SearchUnavailable:
        raise ApiError(503, "Máy chủ tìm kiếm tạm thời không hoạt động; vui lòng thử lại sau.",
                       code="search_unavailable", headers={"Retry-After": "30"})
    body = csv_bytes(headers, rows) if fmt == "csv" else xlsx_bytes("Mô hình", headers, rows)
    response = Response(body, content_type=CSV_TYPE if fmt == "csv" else XLSX_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="mo-hinh.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
