"""Per-model JSON endpoints: create, read, replace, patch, archive, add a results report.

A model's JSON is one line of the JSONL interchange format plus "id" and "version"; its
workflow keys (status, recognition_level, recognised_on) are read-only here and ignored when
sent back. Writes need a personal API token; every write is one transaction committed at the
end of the request.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

from flask import Response, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from registry import permissions
from registry.api import bp
from registry.api.auth import INVALID, MISSING, api_user
from registry.api.errors import ApiError
from registry.extensions import db
from registry.interchange.records import (
    RecordError, practice_to_record, validate_outcome, validate_record,
)
from registry.models.practices import CoreMember, Practice
from registry.services.practices import (
    ConcurrentEditError, add_outcome_report, archive_practice, save_practice,
)
from registry.vocabularies import VocabularyIndex

SOURCE = "api"
# A model pushed through the API is a registration awaiting the committee's verification
# (DOMAIN.md §6), whoever sends it; the workflow takes it from there.
CREATED_STATUS = "submitted"
# Keys the API adds to an interchange record; a GET response can be sent back as is.
ENVELOPE_KEYS = ("id", "version")
# PUT replaces the record: these keys, when left out, are cleared. external_id, core_members
# and outcomes are kept when left out (a record exported without personal data has no
# core_members, and results reports also arrive one by one); send null or [] to clear them.
CLEARED_WHEN_ABSENT = {
    "summary": "", "description": "", "hamlet": "", "address": "", "setting": None,
    "forms": [], "domains": [], "target_groups": [], "lead_organisation": None,
    "founded_on": None, "participants": None, "households": None, "replicated_from": None,
}
PLACE_KEYS = ("commune_code", "province_code", "address")
JSON_TYPES = ("application/json",)
# Everything practice_to_record reads, fetched with the model instead of one query each.
RECORD_LOADS = (
    joinedload(Practice.kind), joinedload(Practice.setting),
    joinedload(Practice.lead_organisation), joinedload(Practice.replicated_from),
    selectinload(Practice.forms), selectinload(Practice.domains),
    selectinload(Practice.target_groups),
    selectinload(Practice.core_members).joinedload(CoreMember.role),
    selectinload(Practice.outcomes),
)


# -- request helpers -------------------------------------------------------------------------

def current_api_user(*, required: bool):
    """The token's owner; a bad token is always 401, a missing one only when required."""
    user = api_user()
    sent = bool(request.headers.get("Authorization"))
    if user is None and (required or sent):
        raise ApiError(401, INVALID if sent else MISSING)
    return user


def json_body() -> dict:
    """The request body as a JSON object, or a 415/400 that says what is wrong."""
    mimetype = request.mimetype or ""
    if mimetype not in JSON_TYPES and not mimetype.endswith("+json"):
        raise ApiError(415)
    data = request.get_data(cache=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "Nội dung phải được mã hóa UTF-8.", code="invalid_json") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}: "
                            f"{exc.msg}.", code="invalid_json") from None
    except RecursionError:
        raise ApiError(400, "JSON lồng nhau quá sâu.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Nội dung phải là một đối tượng JSON ({...}).", code="invalid_json")
    return body


def load_practice(practice_id: int, user) -> Practice:
    """The model if it exists and the user may see it; otherwise 404 (drafts stay hidden)."""
    practice = db.session.get(Practice, practice_id, options=RECORD_LOADS)
    if practice is None or not permissions.can_view_practice(user, practice):
        raise ApiError(404, "Không tìm thấy mô hình.")
    return practice


def etag(practice: Practice) -> str:
    return f'"{practice.version}"'


def representation(practice: Practice, user) -> dict:
    """The interchange record, personal data only for those entitled, plus the envelope."""
    include_personal = permissions.can_view_personal_data(user, practice)
    record = practice_to_record(practice, include_personal=include_personal)
    if not include_personal:
        record.pop("core_members", None)
    return {"id": practice.id, **record, "status": practice.status,
            "version": practice.version}


def practice_response(practice: Practice, user, status: int = 200) -> Response:
    response = jsonify(representation(practice, user))
    response.status_code = status
    response.headers["ETag"] = etag(practice)
    response.headers["Vary"] = "Authorization"
    response.headers["Cache-Control"] = "private, no-cache"
    if status == 201:
        response.headers["Location"] = url_for("api.get_practice", practice_id=practice.id)
    return response


def record_from(body: dict) -> dict:
    """Validate an interchange record (envelope keys dropped): every error at once, 400."""
    raw = {key: value for key, value in body.items() if key not in ENVELOPE_KEYS}
    try:
        return validate_record(raw, VocabularyIndex())
    except RecordError as exc:
        raise invalid(exc) from None


def invalid(exc: RecordError, what: str = "Dữ liệu mô hình") -> ApiError:
    return ApiError(400, f"{what} không hợp lệ; xem chi tiết từng trường.",
                    code="validation_error", fields={e.field: e.message for e in exc.errors})


def check_place_rights(user, record: dict, practice: Practice | None = None) -> None:
    """Creating in, or moving a model to, a commune needs the right to register there."""
    commune = record.get("commune_code")
    province = record.get("province_code")
    if practice is not None and commune == practice.commune_code:
        return
    if not permissions.can_create_practice(user, commune, province):
        raise ApiError(403, "Bạn không có quyền đăng ký mô hình tại xã, phường này.",
                       fields={"commune_code": "Ngoài địa bàn được giao cho bạn."})


def check_external_id(record: dict, practice: Practice | None = None) -> None:
    """An external_id names one model; taking another model's is a conflict, never an update."""
    external_id = record.get("external_id")
    if not external_id:
        return
    owner = db.session.scalar(select(Practice.id).where(Practice.external_id == external_id))
    if owner is not None and (practice is None or owner != practice.id):
        raise ApiError(409, "Mã external_id đã được dùng cho một mô hình khác.",
                       code="duplicate_external_id",
                       fields={"external_id": "Đã có mô hình khác mang mã này."})


def expected_version(practice: Practice, body: dict | None) -> tuple[int, str]:
    """The version the client edited and how it said so: ("if-match" → 412, "body" → 409).

    Neither given (or If-Match: *) → 428: a write without a version could overwrite a change
    the client never saw.
    """
    if request.headers.get("If-Match"):
        if request.if_match.star_tag:
            raise ApiError(428, "If-Match: * không đủ; gửi ETag nhận được khi đọc mô hình.")
        if not request.if_match.contains_weak(str(practice.version)):
            raise _conflict(practice, "if-match")
        return practice.version, "if-match"
    if body is not None and "version" in body:
        version = body["version"]
        if isinstance(version, bool) or not isinstance(version, int):
            raise ApiError(400, "Trường version phải là số nguyên.", code="validation_error",
                           fields={"version": "Phải là số nguyên (phiên bản nhận được khi đọc)."})
        if version != practice.version:
            raise _conflict(practice, "body")
        return version, "body"
    raise ApiError(428)


def _conflict(practice: Practice, how: str) -> ApiError:
    message = (f"Mô hình đã được người khác thay đổi trong lúc bạn sửa (phiên bản hiện tại: "
               f"{practice.version}). Hãy đọc lại, áp dụng thay đổi của bạn rồi gửi lại.")
    if how == "if-match":
        return ApiError(412, message, headers={"ETag": etag(practice)})
    return ApiError(409, message, code="version_conflict",
                    fields={"version": f"Phiên bản hiện tại là {practice.version}."},
                    headers={"ETag": etag(practice)})


@contextmanager
def writing(what: str = "Dữ liệu mô hình", how: str = "body"):
    """The service call and the request's one commit; anything failing rolls back.

    A writer that committed between our version check and our UPDATE makes the versioned
    UPDATE match no row (StaleDataError): answered like any other stale version.
    """
    try:
        yield
        db.session.commit()
    except ConcurrentEditError as exc:
        db.session.rollback()
        raise _stale(how, exc.actual) from None
    except StaleDataError:
        db.session.rollback()
        raise _stale(how) from None
    except RecordError as exc:
        db.session.rollback()
        raise invalid(exc, what) from None
    except IntegrityError:
        db.session.rollback()
        raise ApiError(409, "Dữ liệu trùng với dữ liệu đã có (external_id hoặc kỳ báo cáo "
                            "đã tồn tại).") from None


def _stale(how: str, actual: int | None = None) -> ApiError:
    now = f" (phiên bản hiện tại: {actual})" if actual is not None else ""
    message = (f"Mô hình đã được người khác thay đổi trong lúc bạn sửa{now}. Hãy đọc lại, "
               "áp dụng thay đổi của bạn rồi gửi lại.")
    if how == "if-match":
        return ApiError(412, message)
    return ApiError(409, message, code="version_conflict",
                    fields={"version": "Phiên bản đã cũ; hãy đọc lại mô hình."})


# -- endpoints ---------------------------------------------------------------------------------

@bp.post("/practices")
def create_practice():
    user = current_api_user(required=True)
    if not permissions.can_create_practice(user):
        raise ApiError(403, "Chỉ cán bộ xã, phường (hoặc quản trị) được đăng ký mô hình.")
    record = record_from(json_body())
    check_place_rights(user, record)
    check_external_id(record)
    with writing():
        practice, _ = save_practice(record, user=user, source=SOURCE, status=CREATED_STATUS)
    return practice_response(practice, user, 201)


@bp.get("/practices/<int:practice_id>")
def get_practice(practice_id: int):
    user = current_api_user(required=False)
    practice = load_practice(practice_id, user)
    if request.if_none_match.contains_weak(str(practice.version)):
        response = Response(status=304)
        response.headers["ETag"] = etag(practice)
        response.headers["Vary"] = "Authorization"
        return response
    return practice_response(practice, user)


def _replace(practice_id: int, merge: bool):
    user = current_api_user(required=True)
    practice = load_practice(practice_id, user)
    if not permissions.can_edit_practice(user, practice):
        raise ApiError(403, "Bạn không có quyền sửa mô hình này.")
    body = json_body()
    version, how = expected_version(practice, body)
    record = record_from(merged(practice, body) if merge else replaced(body))
    check_place_rights(user, record, practice)
    check_external_id(record, practice)
    with writing(how=how):
        practice, _ = save_practice(record, user=user, source=SOURCE, practice=practice,
                                    expected_version=version)
    return practice_response(practice, user)


def replaced(body: dict) -> dict:
    """PUT: the body is the whole record; descriptive fields left out are cleared."""
    return {**CLEARED_WHEN_ABSENT, **body}


def merged(practice: Practice, body: dict) -> dict:
    """PATCH: the stored record with the body's keys laid over it (a new place replaces the
    whole place: commune, province and address)."""
    base = practice_to_record(practice, include_personal=True)
    if any(key in body for key in PLACE_KEYS):
        for key in PLACE_KEYS:
            base.pop(key, None)
    base.update(body)
    return base


@bp.put("/practices/<int:practice_id>")
def replace_practice(practice_id: int):
    return _replace(practice_id, merge=False)


@bp.patch("/practices/<int:practice_id>")
def patch_practice(practice_id: int):
    return _replace(practice_id, merge=True)


@bp.delete("/practices/<int:practice_id>")
def delete_practice(practice_id: int):
    user = current_api_user(required=True)
    practice = load_practice(practice_id, user)
    if practice.status == "archived":
        raise ApiError(409, "Mô hình đã được lưu trữ.", code="already_archived")
    if not permissions.can_archive_practice(user, practice):
        raise ApiError(403, "Bạn không có quyền lưu trữ mô hình này.")
    how = "none"
    if request.headers.get("If-Match"):
        _, how = expected_version(practice, None)
    with writing(how=how):
        archive_practice(practice, user=user, source=SOURCE)
    return Response(status=204)


@bp.post("/practices/<int:practice_id>/outcomes")
def create_outcome(practice_id: int):
    user = current_api_user(required=True)
    practice = load_practice(practice_id, user)
    if not permissions.can_edit_practice(user, practice):
        raise ApiError(403, "Bạn không có quyền thêm báo cáo kết quả cho mô hình này.")
    outcome = outcome_from(json_body())
    if any(o.period == outcome.get("period") for o in practice.outcomes):
        raise ApiError(409, f"Đã có báo cáo kết quả kỳ {outcome['period']}.",
                       code="duplicate_period",
                       fields={"period": "Kỳ báo cáo này đã có; sửa mô hình để thay báo cáo."})
    with writing("Báo cáo kết quả"):
        add_outcome_report(practice, outcome, user=user, source=SOURCE)
    response = jsonify(outcome_record(practice, outcome["period"]))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_practice", practice_id=practice.id)
    response.headers["ETag"] = etag(practice)
    return response


def outcome_from(raw: dict) -> dict:
    """Validate one results report with the interchange rules; every error at once, 400."""
    try:
        return validate_outcome(raw)
    except RecordError as exc:
        raise invalid(RecordError([e._replace(field=e.field.removeprefix("outcome."))
                                   for e in exc.errors]), "Báo cáo kết quả") from None


def outcome_record(practice: Practice, period: str) -> dict:
    record = practice_to_record(practice, include_personal=False)
    for outcome in record.get("outcomes", []):
        if outcome.get("period") == period:
            return outcome
    return {"period": period}
