"""Per-model JSON endpoints: create, read, replace, patch, archive, add a results report.

A model's JSON is one line of the JSONL interchange format plus "id" and "version"; its
workflow keys (status, recognition_level, recognised_on) are read-only here and ignored when
sent back. Writes need a personal API token; every write is one transaction committed at the
end of the request.
"""
from __future__ import annotations

import json

from datetime import date

from flask import Response, current_app, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from registry import permissions
from registry.api import bp
from registry.api.auth import current_api_user
from registry.api.errors import ApiError
from registry.domain.errors import Conflict, Forbidden, Invalid, StaleVersion
from registry.domain.records import (
    json_integer, outcome_to_dict, practice_to_record, validate_outcome,
)
from registry.domain.workflow import possibly_inactive, state_label
from registry.extensions import db
from registry.models.practices import CoreMember, Practice
from registry.models.workflow import Commendation
from registry.services import practices as service, workflow
from registry.services.inbox import activity_dates
from registry.services.reference import check_record
from registry.services.uow import unit_of_work

SOURCE = "api"
# Keys the API adds to an interchange record; a GET response can be sent back as is.
ENVELOPE_KEYS = ("id", "version", "status_label", "actions", "recognition",
                 "possibly_inactive", "replicated_from_id", "replications")
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
        body = json.loads(text, parse_int=json_integer)  # huge integers: a field error later
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}: "
                            f"{exc.msg}.", code="invalid_json") from None
    except ValueError as exc:
        raise ApiError(400, f"JSON không hợp lệ: {str(exc)[:200]}.",
                       code="invalid_json") from None
    except RecursionError:
        raise ApiError(400, "JSON lồng nhau quá sâu.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Nội dung phải là một đối tượng JSON ({...}).", code="invalid_json")
    return body


def load_practice(practice_id: int, user, action: str = "view") -> Practice:
    """The model if it exists and the user may see it (404 otherwise: drafts stay hidden)
    and may do `action` to it (403)."""
    return service.load_practice(practice_id, user, action, options=RECORD_LOADS)


def etag(practice: Practice) -> str:
    return f'"{practice.version}"'


def representation(practice: Practice, user) -> dict:
    """The interchange record, personal data only for those entitled, plus the envelope."""
    include_personal = permissions.can_view_personal_data(user, practice)
    record = practice_to_record(practice, include_personal=include_personal)
    if not include_personal:
        record.pop("core_members", None)
    return {"id": practice.id, **record, "status": practice.status,
            **workflow_fields(practice, user), "version": practice.version}


def workflow_fields(practice, user) -> dict:
    """What GET /practices/{id} adds for the workflow: actions, recognition, replications."""
    personal = permissions.can_view_personal_data(user, practice)
    commendations = db.session.scalars(select(Commendation).where(
        Commendation.practice_id == practice.id).order_by(Commendation.decided_on)).all()
    return {
        "status_label": state_label(practice.status),
        "actions": workflow.allowed_actions(user, practice),
        "recognition": {
            "level": practice.recognition_level,
            "recognised_on": practice.recognised_on.isoformat()
            if practice.recognised_on else None,
            "commendations": [{"kind": c.kind, "level": c.level,
                               "decided_on": c.decided_on.isoformat(),
                               "decision_number": c.decision_number, "note": c.note,
                               **({"member_name": c.member_name} if personal else {})}
                              for c in commendations],
        },
        "possibly_inactive": possibly_inactive(
            practice.status, activity_dates([practice])[practice.id], date.today(),
            current_app.config["REGISTRY_INACTIVE_MONTHS"]),
        "replicated_from_id": practice.replicated_from_id,
        "replications": [
            {"id": r.id, "name": r.name, "commune_code": r.commune_code,
             "province_code": r.province_code,
             "latest_outcome": _latest(r)}
            for r in practice.replications if permissions.can_view_practice(user, r)],
    }


def _latest(practice) -> dict | None:
    reports = sorted(practice.outcomes, key=lambda o: o.period)
    return outcome_to_dict(reports[-1]) if reports else None



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
    return check_record({key: value for key, value in body.items() if key not in ENVELOPE_KEYS})


def check_external_id(record: dict, practice: Practice | None = None) -> None:
    """An external_id names one model; taking another model's is a conflict, never an update."""
    external_id = record.get("external_id")
    if not external_id:
        return
    owner = db.session.scalar(select(Practice.id).where(Practice.external_id == external_id))
    if owner is not None and (practice is None or owner != practice.id):
        raise Conflict("Mã external_id đã được dùng cho một mô hình khác.",
                       code="duplicate_external_id",
                       fields={"external_id": "Đã có mô hình khác mang mã này."})


def expected_version(practice: Practice, body: dict | None) -> int | None:
    """The version the client edited: If-Match (a stale one is 412) or the body's "version"
    (409); registry.api.errors answers StaleVersion by which of the two was sent.

    `If-Match: *` is satisfied by any current representation (RFC 9110 §13.1.1): the model
    exists, so it passes, but it names no version; the body's "version" then decides. A PUT
    or PATCH (body given) with no version at all → 428: a write without one could overwrite
    a change the client never saw. DELETE (body None) needs none: None is returned.
    """
    if request.headers.get("If-Match") and not request.if_match.star_tag:
        if not request.if_match.contains_weak(str(practice.version)):
            raise StaleVersion(None, practice.version)
        return practice.version
    if body is None:
        return None
    if "version" in body:
        version = body["version"]
        if isinstance(version, float) and version.is_integer():  # 3.0: an integer in JSON
            version = int(version)
        if isinstance(version, bool) or not isinstance(version, int):
            raise ApiError(400, "Trường version phải là số nguyên.", code="validation_error",
                           fields={"version": "Phải là số nguyên (phiên bản nhận được khi đọc)."})
        if version != practice.version:
            raise StaleVersion(version, practice.version)
        return version
    if request.if_match.star_tag:
        raise ApiError(428, "If-Match: * không nêu phiên bản; gửi ETag nhận được khi đọc mô "
                            "hình (If-Match: \"<version>\") hoặc trường \"version\".")
    raise ApiError(428)


# -- endpoints ---------------------------------------------------------------------------------

@bp.post("/practices")
def create_practice():
    user = current_api_user(required=True)
    if not permissions.can_create_practice(user):
        raise Forbidden("Chỉ cán bộ xã, phường (hoặc quản trị) được đăng ký mô hình.")
    body = json_body()
    # A model pushed through the API is sent for the committee's verification (docs/domain.md §6).
    with unit_of_work(user, SOURCE) as uow:
        record = record_from(body)
        service.authorise_place(user, record)
        check_external_id(record)
        practice, _ = service.save_practice(record, user=uow.user, source=uow.source,
                                            submit=True)
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
    practice = load_practice(practice_id, user, "edit")
    body = json_body()
    version = expected_version(practice, body)
    with unit_of_work(user, SOURCE) as uow:
        record = record_from(merged(practice, body) if merge else replaced(body))
        service.authorise_place(user, record, practice)
        check_external_id(record, practice)
        practice, _ = service.save_practice(record, user=uow.user, source=uow.source,
                                            practice=practice, expected_version=version)
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
        raise Conflict("Mô hình đã được lưu trữ.", code="already_archived")
    if not permissions.can_archive_practice(user, practice):
        raise Forbidden(service.FORBIDDEN_MESSAGES["archive"])
    if request.headers.get("If-Match"):
        expected_version(practice, None)
    with unit_of_work(user, SOURCE) as uow:
        service.archive_practice(practice, user=uow.user, source=uow.source)
    return Response(status=204)


@bp.post("/practices/<int:practice_id>/outcomes")
def create_outcome(practice_id: int):
    user = current_api_user(required=True)
    practice = load_practice(practice_id, user)
    if not permissions.can_edit_practice(user, practice):
        raise Forbidden("Bạn không có quyền thêm báo cáo kết quả cho mô hình này.")
    outcome = outcome_from(json_body())
    if any(o.period == outcome.get("period") for o in practice.outcomes):
        raise Conflict(f"Đã có báo cáo kết quả kỳ {outcome['period']}.",
                       code="duplicate_period",
                       fields={"period": "Kỳ báo cáo này đã có; sửa mô hình để thay báo cáo."})
    with unit_of_work(user, SOURCE) as uow:
        service.add_outcome_report(practice, outcome, user=uow.user, source=uow.source)
    response = jsonify(outcome_record(practice, outcome["period"]))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_practice", practice_id=practice.id)
    response.headers["ETag"] = etag(practice)
    return response


def outcome_from(raw: dict) -> dict:
    """Validate one results report with the interchange rules; every error at once, 400."""
    try:
        return validate_outcome(raw)
    except Invalid as exc:
        raise Invalid([e._replace(field=e.field.removeprefix("outcome."))
                       for e in exc.errors], exc.subject) from None


def outcome_record(practice: Practice, period: str) -> dict:
    record = practice_to_record(practice, include_personal=False)
    for outcome in record.get("outcomes", []):
        if outcome.get("period") == period:
            return outcome
    return {"period": period}
