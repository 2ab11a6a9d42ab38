"""The workflow part of the OpenAPI document, generated from the transition table."""
from __future__ import annotations

from registry.domain.workflow import (
    NOMINATION_LEVELS, NOMINATION_STATES, STATES, TRANSITIONS,
)
from registry.domain.fields import PERIOD_YEARS
from registry.routing import MAX_ID
from registry.services.workflow import COMMENDATION_KINDS, COMMENDATION_LEVELS, COPYABLE

JSON = "application/json"
WHO = {
    "manage": "cán bộ xã, phường của mô hình hoặc quản trị",
    "verify": "Ban Chỉ đạo có địa bàn bao gồm mô hình hoặc quản trị",
    "restore": "Ban Chỉ đạo có địa bàn bao gồm mô hình hoặc quản trị",
    "recognition": "Ban Chỉ đạo của cấp đã công nhận hoặc quản trị",
    "decide": "Ban Chỉ đạo của cấp đề cử (tỉnh của mô hình hoặc trung ương) hoặc quản trị",
    "review": "người thẩm định được phân công ở vòng hiện tại",
    "nominate": "cán bộ xã, phường của mô hình, Ban Chỉ đạo có địa bàn, hoặc quản trị",
}


def period_pattern() -> str:
    """The years PERIOD_YEARS allows as a regular expression (1990–2100 → 199x|20xx|2100)."""
    low, high = PERIOD_YEARS
    years = "|".join(str(y) for y in range(low, high + 1))
    return rf"^({years})(-[Hh][12])?$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*codes: str) -> dict:
    names = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden",
             "404": "NotFound", "409": "Conflict", "413": "PayloadTooLarge",
             "415": "UnsupportedMediaType"}
    return {code: {"$ref": f"#/components/responses/{names[code]}"} for code in codes}


def action_table(subject: str) -> str:
    """The actions of a subject as a Markdown table: from-states, to-state, who, reason."""
    rows = ["| action | từ trạng thái | sang | ai được làm | cần lý do |", "|---|---|---|---|---|"]
    for t in TRANSITIONS:
        if t.subject == subject:
            rows.append(f"| `{t.action}` | {', '.join(t.from_states)} | {t.to_state or '—'} "
                        f"| {WHO[t.who]} | {'có' if t.needs_reason else 'không'} |")
    return "\n".join(rows)


def schemas() -> dict:
    version = {"type": "integer", "minimum": 1,
               "description": "Phiên bản nhận được khi đọc (chống hai người cùng quyết định)."}
    reason = {"type": "string", "maxLength": 5000}
    return {
        "ActionRequest": {"type": "object", "required": ["version"], "properties": {
            "version": version, "comment": reason, "reason": reason}},
        "NominationRequest": {"type": "object", "required": ["practice_id", "level", "reason",
                                                              "periods"], "properties": {
            "practice_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "level": {"type": "string", "enum": list(NOMINATION_LEVELS)},
            "reason": {**reason, "minLength": 1, "pattern": r"\S"},
            "periods": {"type": "array", "minItems": 1,
                        "items": {"type": "string", "pattern": period_pattern()},
                        "description": "Các kỳ báo cáo kết quả làm căn cứ."}}},
        "ReviewerRequest": {"type": "object", "required": ["reviewer"], "properties": {
            "reviewer": {"type": "string", "format": "email"},
            "due": {"type": "string", "format": "date"}, "version": version}},
        "ReviewRequest": {"type": "object", "required": ["scores"], "properties": {
            "scores": {"type": "object", "additionalProperties": {
                "type": "integer", "minimum": 1, "maximum": 5},
                "description": "Điểm 1–5 cho mỗi tiêu chí của seed/criteria.json."},
            "comment": {"type": "string", "maxLength": 10000}, "version": version}},
        "ReplicationRequest": {"type": "object", "required": ["commune_code"], "properties": {
            "commune_code": {"type": "string"},
            "copy": {"type": "array", "items": {"type": "string", "enum": list(COPYABLE)}}}},
        "CommendationRequest": {"type": "object", "required": [
            "kind", "level", "decided_on", "decision_number"], "properties": {
            "kind": {"type": "string", "enum": list(COMMENDATION_KINDS)},
            "level": {"type": "string", "enum": list(COMMENDATION_LEVELS)},
            "decided_on": {"type": "string", "format": "date",
                           "description": "Không ở tương lai."},
            "decision_number": {"type": "string", "minLength": 1, "maxLength": 100,
                                "pattern": r"\S"},
            "member_name": {"type": "string", "maxLength": 200},
            "note": {"type": "string", "maxLength": 2000}}},
        "Nomination": {"type": "object", "required": ["id", "state", "version", "actions"],
                       "properties": {
            "id": {"type": "integer"}, "practice_id": {"type": "integer"},
            "level": {"type": "string", "enum": list(NOMINATION_LEVELS)},
            "state": {"type": "string", "enum": [s.code for s in NOMINATION_STATES]},
            "round": {"type": "integer"}, "version": {"type": "integer"},
            "actions": {"type": "array", "items": {"type": "string"},
                        "description": "Những thao tác người gọi được làm lúc này."},
            "reviews": {"type": "object", "description": "Phiếu thẩm định: người thẩm định "
                        "chỉ thấy của người khác sau khi gửi phiếu của mình."}}},
        "Timeline": {"type": "object", "properties": {"events": {"type": "array", "items": {
            "type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"}, "action": {"type": "string"},
                "from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                "reason": {"type": "string"}, "actor": {"type": ["string", "null"]}}}}}},
        "Inbox": {"type": "object", "properties": {"total": {"type": "integer"},
                                                   "sections": {"type": "object"}}},
    }


def _post(operation: str, summary: str, body: str, ok: str, ok_schema: str,
          errors=("400", "401", "403", "404", "409", "413", "415"), description: str = "") -> dict:
    op = {"operationId": operation, "tags": ["workflow"], "summary": summary,
          "security": [{"bearerAuth": []}],
          "requestBody": {"required": True, "content": {JSON: {"schema": _ref(body)}}},
          "responses": {ok: {"description": "Thành công.",
                             "content": {JSON: {"schema": _ref(ok_schema)}}},
                        **_errors(*errors)}}
    if description:
        op["description"] = description
    return op


def _get(operation: str, summary: str, schema: str, auth_required: bool = False) -> dict:
    return {"operationId": operation, "tags": ["workflow"], "summary": summary,
            "security": [{"bearerAuth": []}] if auth_required else [{}, {"bearerAuth": []}],
            "responses": {"200": {"description": "Thành công.",
                                  "content": {JSON: {"schema": _ref(schema)}}},
                          **_errors("401", "404")}}


def paths() -> dict:
    practice = {"$ref": "#/components/parameters/PracticeId"}
    nomination = {"name": "nomination_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}

    def action(subject: str) -> dict:
        return {"name": "action", "in": "path", "required": True,
                "schema": {"type": "string", "enum": [t.action for t in TRANSITIONS
                                                      if t.subject == subject]}}
    states = ", ".join(s.code for s in STATES)
    conflict = ("Thao tác không hợp lệ ở trạng thái hiện tại → 409 với `state` và "
                "`allowed_actions`; không có quyền → 403 (404 nếu không được xem); "
                "phiên bản cũ → 409.")
    return {
        "/api/v1/practices/{practice_id}/actions/{action}": {
            "parameters": [practice, action("practice")],
            "post": _post("practiceAction", "Thực hiện một thao tác với mô hình",
                          "ActionRequest", "200", "PracticeRecord",
                          description=f"Trạng thái: {states}.\n\n{action_table('practice')}"
                                      f"\n\n{conflict}")},
        "/api/v1/practices/{practice_id}/replications": {
            "parameters": [practice],
            "post": _post("replicatePractice", "Ghi nhận địa phương nhân rộng mô hình đã được "
                          "công nhận (tạo bản nháp của xã, phường mới)", "ReplicationRequest",
                          "201", "PracticeRecord")},
        "/api/v1/practices/{practice_id}/commendations": {
            "parameters": [practice],
            "post": _post("commendPractice", "Ghi nhận khen thưởng, biểu dương",
                          "CommendationRequest", "201", "PracticeRecord")},
        "/api/v1/practices/{practice_id}/timeline": {
            "parameters": [practice],
            "get": _get("practiceTimeline", "Dòng thời gian của mô hình", "Timeline")},
        "/api/v1/nominations": {
            "post": _post("createNomination", "Đề cử mô hình điển hình cấp tỉnh hoặc trung "
                          "ương", "NominationRequest", "201", "Nomination")},
        "/api/v1/nominations/{nomination_id}": {
            "parameters": [nomination],
            "get": _get("getNomination", "Hồ sơ đề cử", "Nomination")},
        "/api/v1/nominations/{nomination_id}/reviewers": {
            "parameters": [nomination],
            "post": _post("assignReviewer", "Phân công người thẩm định (có hạn)",
                          "ReviewerRequest", "201", "Nomination")},
        "/api/v1/nominations/{nomination_id}/reviews": {
            "parameters": [nomination],
            "post": _post("submitReview", "Gửi phiếu chấm điểm thẩm định", "ReviewRequest",
                          "201", "Nomination")},
        "/api/v1/nominations/{nomination_id}/actions/{action}": {
            "parameters": [nomination, action("nomination")],
            "post": _post("nominationAction", "Quyết định hoặc thao tác với hồ sơ đề cử",
                          "ActionRequest", "200", "Nomination",
                          description=f"{action_table('nomination')}\n\n{conflict}")},
        "/api/v1/nominations/{nomination_id}/timeline": {
            "parameters": [nomination],
            "get": _get("nominationTimeline", "Dòng thời gian của hồ sơ đề cử", "Timeline")},
        "/api/v1/inbox": {
            "get": _get("inbox", "Việc cần xử lý của người gọi", "Inbox", auth_required=True)},
    }
