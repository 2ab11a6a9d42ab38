"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json."""
from __future__ import annotations

from flask import jsonify

from registry.api import bp, openapi_workflow
from registry.api.errors import MAX_URL_BYTES
from registry.routing import MAX_ID
from registry.domain.fields import (
    EARLIEST_YEAR, INDICATORS, MAX_INTEGER, MAX_ITEMS, MAX_KIND_LABEL, MAX_LENGTH,
    PERIOD_YEARS, PHONE_PATTERN,
)
from registry.search.base import FACET_BY_NAME, FIXED_VALUES, LIST_FACETS, MAX_PER_PAGE, SORTS
from registry.search.params import MAX_PAGE, MAX_VALUES, YEAR_RANGE
from registry.domain.workflow import RECOGNITION_LEVELS, STATES

JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _text(limit_key: str | None = None, description: str = "", nullable: bool = False) -> dict:
    schema: dict = {"type": ["string", "null"] if nullable else "string"}
    if limit_key and limit_key in MAX_LENGTH:
        schema["maxLength"] = MAX_LENGTH[limit_key]
    if description:
        schema["description"] = description
    return schema


def _count(description: str = "") -> dict:
    schema = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_INTEGER}
    if description:
        schema["description"] = description
    return schema


def _term_list(field: str, vocabulary: str) -> dict:
    return {"type": "array", "items": {"type": "string", "minLength": 1},
            "maxItems": MAX_ITEMS[field],
            "description": f"Mã hoặc nhãn tiếng Việt trong danh mục {vocabulary} "
                           "(không phân biệt hoa thường, dấu)."}


def _day(description: str = "", read_only: bool = False) -> dict:
    schema = {"type": ["string", "null"], "format": "date",
              "description": (description + " " if description else "")
              + f"Từ năm {EARLIEST_YEAR}, không ở tương lai."}
    if read_only:
        schema["readOnly"] = True
    return schema


def _schemas() -> dict:
    outcome = {
        "type": "object", "additionalProperties": False, "required": ["period"],
        "description": "Báo cáo kết quả một kỳ (6 tháng hoặc năm).",
        "properties": {
            "period": {"type": "string", "pattern": openapi_workflow.period_pattern(),
                       "examples": ["2024-H1", "2024"],
                       "description": f"Năm {PERIOD_YEARS[0]}–{PERIOD_YEARS[1]}, cả năm "
                                      "hoặc nửa năm (H1, H2)."},
            **{key: _count() for key in INDICATORS},
            "narrative": _text("narrative"),
        },
    }
    member = {
        "type": "object", "additionalProperties": False, "required": ["name"],
        "description": "Thành viên lực lượng nòng cốt (dữ liệu cá nhân).",
        "properties": {
            "name": {**_text("member.name"), "minLength": 1, "pattern": r"\S"},
            "role": _text(description="Mã hoặc nhãn trong danh mục member_role.",
                          nullable=True),
            "phone": {**_text("member.phone", nullable=True), "pattern": PHONE_PATTERN},
        },
    }
    record = {
        "type": "object", "additionalProperties": False, "required": ["name", "kind"],
        "description": "Một dòng của định dạng trao đổi JSONL (như `registry export "
                       "--format jsonl`). Cần commune_code hoặc address. Các trường trạng "
                       "thái (status, recognition_level, recognised_on) chỉ để đọc; id và "
                       "version được chấp nhận và bỏ qua.",
        "properties": {
            "id": {"type": "integer", "description": "Bỏ qua khi ghi."},
            "status_label": {"type": "string", "description": "Chỉ đọc."},
            "actions": {"type": "array", "items": {"type": "string"},
                        "description": "Chỉ đọc: những thao tác người gọi được làm lúc này "
                                       "(POST …/actions/{action})."},
            "recognition": {"type": "object", "description": "Chỉ đọc: cấp và ngày công nhận, "
                            "khen thưởng (tên thành viên chỉ cho người có quyền)."},
            "replicated_from_id": {"type": ["integer", "null"], "description": "Chỉ đọc."},
            "possibly_inactive": {"type": "boolean", "description": "Chỉ đọc: không có báo "
                                  "cáo kết quả trong REGISTRY_INACTIVE_MONTHS tháng."},
            "replications": {"type": "array", "items": {"type": "object"},
                             "description": "Chỉ đọc: nơi đã nhân rộng, kèm kết quả gần nhất."},
            "version": {"type": "integer",
                        "description": "Phiên bản đã đọc; dùng để kiểm tra xung đột (PUT/PATCH)."},
            "external_id": _text("external_id", "Mã tham chiếu của hệ thống nguồn (duy nhất).",
                                 nullable=True),
            "name": {**_text("name"), "minLength": 1, "pattern": r"\S"},
            "kind": {"type": "string", "minLength": 1, "maxLength": MAX_KIND_LABEL,
                     "pattern": r"\S",
                     "description": "Loại mô hình: mã hoặc nhãn; loại mới được thêm để "
                                    "quản trị viên xác nhận."},
            "summary": _text("summary"),
            "description": _text("description", "Markdown."),
            "commune_code": {"type": ["string", "integer", "null"], "pattern": r"^\d{1,5}$",
                             "minimum": 0, "maximum": 99999,
                             "description": "Mã xã/phường hiện hành (5 chữ số; 70 = "
                                            "\"00070\")."},
            "province_code": {"type": ["string", "integer", "null"], "pattern": r"^\d{1,2}$",
                              "minimum": 0, "maximum": 99,
                              "description": "Mã tỉnh (2 chữ số), tùy chọn, được kiểm tra."},
            "address": _text("address", "Địa chỉ (kể cả trước 2025) thay cho commune_code.",
                             nullable=True),
            "hamlet": _text("hamlet", nullable=True),
            "setting": _text(description="Mã hoặc nhãn trong danh mục setting.", nullable=True),
            "forms": _term_list("forms", "form"),
            "domains": _term_list("domains", "domain"),
            "target_groups": _term_list("target_groups", "target_group"),
            "lead_organisation": _text(description="Mã hoặc nhãn trong danh mục "
                                                   "lead_organisation.", nullable=True),
            "founded_on": _day(),
            "participants": _count("Số người tham gia."),
            "households": _count("Số hộ tham gia."),
            "core_members": {"type": ["array", "null"], "items": _ref("CoreMember"),
                             "maxItems": MAX_ITEMS["core_members"],
                             "description": "Chỉ trả về cho người có quyền xem dữ liệu cá "
                                            "nhân; bỏ trống khi ghi thì giữ nguyên."},
            "outcomes": {"type": ["array", "null"], "items": _ref("Outcome"),
                         "maxItems": MAX_ITEMS["outcomes"],
                         "description": "Bỏ trống khi ghi thì giữ nguyên."},
            "replicated_from": _text("external_id", "external_id của mô hình gốc.",
                                     nullable=True),
            "status": {"type": ["string", "null"], "enum": [s.code for s in STATES] + [None],
                       "readOnly": True},
            "recognition_level": {"type": ["string", "null"],
                                  "enum": [code for code, _, _ in RECOGNITION_LEVELS] + [None],
                                  "readOnly": True},
            "recognised_on": _day(read_only=True),
        },
    }
    practice = {
        "allOf": [_ref("PracticeRecord"), {
            "type": "object", "required": ["id", "version", "status"],
            "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}},
        }],
    }
    error = {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "examples": ["validation_error", "not_found"]},
                "message": {"type": "string", "description": "Thông báo tiếng Việt."},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Trường → lý do, ví dụ \"founded_on\", "
                                          "\"core_members[1].phone\"."},
                "state": {"type": "string",
                          "description": "Khi thao tác không hợp lệ ở trạng thái hiện tại."},
                "allowed_actions": {"type": "array", "items": {"type": "string"},
                                    "description": "Những thao tác được làm lúc này."},
            },
        }},
    }
    facet_value = {
        "type": "object", "required": ["value", "label", "count", "selected"],
        "properties": {"value": {"type": "string"}, "label": {"type": "string"},
                       "count": {"type": "integer", "minimum": 0},
                       "selected": {"type": "boolean"}},
    }
    coded = {"type": "object", "required": ["code", "label"], "additionalProperties": False,
             "properties": {"code": {"type": "string"}, "label": {"type": "string"}}}
    place = {"type": "object", "required": ["code", "name"], "additionalProperties": False,
             "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
    hit = {
        "type": "object", "additionalProperties": False,
        "required": ["id", "name", "kind", "province", "commune", "status", "recognition",
                     "url", "highlight"],
        "description": "Một kết quả: các trường công khai của mô hình (không có dữ liệu cá "
                       "nhân) và đoạn trích HTML có đánh dấu <mark>.",
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "kind": coded,
            "province": place, "commune": place, "hamlet": {"type": ["string", "null"]},
            "summary": {"type": ["string", "null"]}, "status": coded, "recognition": coded,
            "founded_on": {"type": ["string", "null"], "format": "date"},
            "url": {"type": "string", "description": "Địa chỉ API của mô hình."},
            "highlight": {"type": "object", "additionalProperties": False,
                          "properties": {"name": {"type": "string"},
                                         "snippet": {"type": "string"}}},
        },
    }
    search = {
        "type": "object", "required": ["total", "page", "per_page", "hits", "facets"],
        "properties": {
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "hits": {"type": "array", "items": _ref("SearchHit")},
            "facets": {"type": "object",
                       "additionalProperties": {"type": "array", "items": _ref("FacetValue")}},
        },
    }
    return {"PracticeRecord": record, "Practice": practice, "CoreMember": member,
            "Outcome": outcome, "Error": error, "FacetValue": facet_value, "SearchHit": hit,
            "SearchResponse": search}


ERROR_RESPONSES = {
    "BadRequest": "Dữ liệu không hợp lệ (fields nêu từng trường) hoặc JSON hỏng.",
    "Unauthorized": "Thiếu mã truy cập, mã sai hoặc đã bị thu hồi.",
    "Forbidden": "Không có quyền với mô hình hoặc địa bàn này.",
    "NotFound": "Không có mô hình này hoặc bạn không được xem.",
    "Conflict": "Xung đột: version trong nội dung đã cũ, external_id hoặc kỳ báo cáo trùng.",
    "PreconditionFailed": "If-Match không khớp phiên bản hiện tại.",
    "PreconditionRequired": "Thiếu If-Match và version: không ghi đè khi không biết phiên bản.",
    "PayloadTooLarge": "Nội dung quá lớn.",
    "UnsupportedMediaType": "Content-Type không phải application/json.",
    "UriTooLong": f"Địa chỉ yêu cầu (đường dẫn và tham số, đã mã hóa) dài quá "
                  f"{MAX_URL_BYTES} byte.",
}


def _components() -> dict:
    responses = {name: {"description": text,
                        "content": {JSON: {"schema": _ref("Error")}}}
                 for name, text in ERROR_RESPONSES.items()}
    headers = {
        "ETag": {"description": "Phiên bản của mô hình, ví dụ \"3\"; gửi lại trong If-Match.",
                 "schema": {"type": "string"}},
        "Location": {"description": "Địa chỉ của mô hình.", "schema": {"type": "string"}},
    }
    parameters = {
        "PracticeId": {"name": "practice_id", "in": "path", "required": True,
                       "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
                       "description": "Số của mô hình; số lớn hơn → 404."},
        "IfMatch": {"name": "If-Match", "in": "header", "required": False,
                    "description": "ETag đã đọc, ví dụ \"3\" (W/\"3\" cũng được). Không "
                                   "khớp → 412. Thay thế được bằng trường version trong nội "
                                   "dung (không khớp → 409). `*` khớp với mọi phiên bản hiện "
                                   "có (RFC 9110) nhưng không nêu phiên bản: với PUT/PATCH "
                                   "khi đó trường version quyết định, thiếu nó → 428; với "
                                   "DELETE `*` được chấp nhận. Thiếu cả If-Match lẫn version "
                                   "(PUT/PATCH) → 428.",
                    "schema": {"type": "string"}},
        "IfNoneMatch": {"name": "If-None-Match", "in": "header", "required": False,
                        "schema": {"type": "string"}},
    }
    return {
        "schemas": {**_schemas(), **openapi_workflow.schemas()}, "responses": responses, "headers": headers,
        "parameters": parameters,
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "Mã truy cập cá nhân tạo trong trang hồ sơ (hoặc `registry users "
                           "token EMAIL`)."}},
    }


def _json_body(schema: str, description: str) -> dict:
    return {"required": True, "description": description,
            "content": {JSON: {"schema": _ref(schema)}}}


def _practice_ok(description: str, status_headers=("ETag",)) -> dict:
    return {"description": description,
            "headers": {h: {"$ref": f"#/components/headers/{h}"} for h in status_headers},
            "content": {JSON: {"schema": _ref("Practice")}}}


def _errors(*names: str) -> dict:
    codes = {"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403",
             "NotFound": "404", "Conflict": "409", "PreconditionFailed": "412",
             "PayloadTooLarge": "413", "UnsupportedMediaType": "415", "UriTooLong": "414",
             "PreconditionRequired": "428"}
    return {codes[name]: _response(name) for name in names}


WRITE = [{"bearerAuth": []}]
OPTIONAL_AUTH = [{}, {"bearerAuth": []}]
WRITE_ERRORS = ("BadRequest", "Unauthorized", "Forbidden", "PayloadTooLarge",
                "UnsupportedMediaType")


# Values of facets that are not read from the database.
FIXED_FACET_VALUES = {source: [code for code, _, _ in values]
                      for source, values in FIXED_VALUES.items()}
FACET_VALUE_HINTS = {
    "province": "mã tỉnh (2 chữ số)", "commune": "mã xã/phường (5 chữ số)",
}


def _search_parameters() -> list[dict]:
    """The query parameters parse_search_args accepts (registry/search/params.py)."""
    params = [{"name": "q", "in": "query", "required": False, "schema": {"type": "string"},
               "description": "Tìm toàn văn, có dấu hoặc không dấu; \"cụm từ\" trong ngoặc kép; "
                              "chữ viết tắt (ANTT, TTATGT, …) được mở rộng."}]
    for name in LIST_FACETS:
        facet = FACET_BY_NAME[name]
        item: dict = {"type": "string"}
        if facet.source in FIXED_FACET_VALUES:
            item["enum"] = FIXED_FACET_VALUES[facet.source]
        hint = FACET_VALUE_HINTS.get(facet.source) or (
            f"mã trong danh mục {facet.source.split(':', 1)[1]}"
            if facet.source.startswith("vocabulary:") else "")
        params.append({
            "name": name, "in": "query", "required": False, "explode": True, "style": "form",
            "schema": {"type": "array", "items": item, "maxItems": MAX_VALUES},
            "description": f"{facet.label_vi}: lặp lại tham số để chọn nhiều giá trị (kết hợp "
                           f"HOẶC){'; ' + hint if hint else ''}."})
    year = {"type": "integer", "minimum": YEAR_RANGE[0], "maximum": YEAR_RANGE[1]}
    params += [
        {"name": "founded_from", "in": "query", "required": False, "schema": year,
         "description": "Năm thành lập từ."},
        {"name": "founded_to", "in": "query", "required": False, "schema": year,
         "description": "Năm thành lập đến (≥ founded_from)."},
        {"name": "sort", "in": "query", "required": False,
         "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"},
         "description": "Thứ tự kết quả; không có từ khóa (q trống) thì luôn theo tên (A–Z), "
                        "như trang tìm kiếm."},
        {"name": "lang", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["vi", "en"], "default": "vi"},
         "description": "Ngôn ngữ của nhãn trong kết quả và bộ lọc."},
        {"name": "page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
        {"name": "per_page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 20}},
    ]
    return params


def _paths() -> dict:
    item = {"$ref": "#/components/parameters/PracticeId"}
    if_match = {"$ref": "#/components/parameters/IfMatch"}
    return {
        "/api/v1/practices": {
            "get": {
                "operationId": "searchPractices", "tags": ["practices"],
                "summary": "Tìm kiếm mô hình, kèm số đếm theo từng bộ lọc",
                "description": "Nhiều giá trị trong một bộ lọc kết hợp bằng HOẶC, các bộ lọc "
                               "kết hợp bằng VÀ. Tham số hoặc giá trị không hợp lệ → 400.",
                "security": OPTIONAL_AUTH,
                "parameters": _search_parameters(),
                "responses": {"200": {"description": "Kết quả tìm kiếm.",
                                      "content": {JSON: {"schema": _ref("SearchResponse")}}},
                              **_errors("BadRequest", "Unauthorized")},
            },
            "post": {
                "operationId": "createPractice", "tags": ["practices"],
                "summary": "Đăng ký một mô hình (một dòng JSONL xuất ra gửi lại được nguyên "
                           "dạng)",
                "security": WRITE,
                "requestBody": _json_body("PracticeRecord", "Bản ghi mô hình."),
                "responses": {"201": _practice_ok("Đã tạo.", ("ETag", "Location")),
                              **_errors(*WRITE_ERRORS, "Conflict")},
            },
        },
        "/api/v1/practices/export": {
            "get": {
                "operationId": "exportPractices", "tags": ["practices"],
                "summary": "Tải toàn bộ kết quả tìm kiếm dưới dạng CSV hoặc Excel",
                "description": "Cùng tham số với GET /api/v1/practices (page, per_page bị bỏ "
                               "qua); tối đa 10.000 dòng, nhiều hơn → 400 too_many_results. "
                               "CSV mã hóa UTF-8 có BOM. Cột lực lượng nòng cốt chỉ có khi "
                               "người dùng của token được xem dữ liệu cá nhân, và chỉ điền "
                               "cho mô hình trong phạm vi đó.",
                "security": OPTIONAL_AUTH,
                "parameters": [
                    {"name": "format", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["csv", "xlsx"], "default": "csv"},
                     "description": "Định dạng tệp tải về."},
                    *_search_parameters()],
                "responses": {"200": {"description": "Tệp kết quả.", "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "contentEncoding": "binary"}}}},
                              **_errors("BadRequest", "Unauthorized")},
            },
        },
        "/api/v1/practices/{practice_id}": {
            "parameters": [item],
            "get": {
                "operationId": "getPractice", "tags": ["practices"],
                "summary": "Đọc một mô hình (lực lượng nòng cốt chỉ cho người có quyền)",
                "security": OPTIONAL_AUTH,
                "parameters": [{"$ref": "#/components/parameters/IfNoneMatch"}],
                "responses": {"200": _practice_ok("Mô hình."),
                              "304": {"description": "Không thay đổi so với If-None-Match."},
                              **_errors("Unauthorized", "NotFound")},
            },
            "put": {
                "operationId": "replacePractice", "tags": ["practices"],
                "summary": "Thay toàn bộ bản ghi (trường bỏ trống bị xóa, trừ external_id, "
                           "core_members, outcomes)",
                "security": WRITE, "parameters": [if_match],
                "requestBody": _json_body("PracticeRecord", "Bản ghi mô hình đầy đủ."),
                "responses": {"200": _practice_ok("Đã lưu."),
                              **_errors(*WRITE_ERRORS, "NotFound", "Conflict",
                                        "PreconditionFailed", "PreconditionRequired")},
            },
            "patch": {
                "operationId": "patchPractice", "tags": ["practices"],
                "summary": "Sửa một số trường (các trường không gửi giữ nguyên)",
                "security": WRITE, "parameters": [if_match],
                "requestBody": {"required": True, "content": {JSON: {"schema": {
                    "type": "object", "description": "Một phần của PracticeRecord."}}}},
                "responses": {"200": _practice_ok("Đã lưu."),
                              **_errors(*WRITE_ERRORS, "NotFound", "Conflict",
                                        "PreconditionFailed", "PreconditionRequired")},
            },
            "delete": {
                "operationId": "archivePractice", "tags": ["practices"],
                "summary": "Lưu trữ mô hình (không xóa dữ liệu)",
                "security": WRITE, "parameters": [if_match],
                "responses": {"204": {"description": "Đã lưu trữ."},
                              **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict",
                                        "PreconditionFailed")},
            },
        },
        "/api/v1/practices/{practice_id}/outcomes": {
            "parameters": [item],
            "post": {
                "operationId": "addOutcomeReport", "tags": ["practices"],
                "summary": "Thêm báo cáo kết quả một kỳ",
                "security": WRITE,
                "requestBody": _json_body("Outcome", "Báo cáo kết quả."),
                "responses": {"201": {"description": "Đã thêm.",
                                      "headers": {h: {"$ref": f"#/components/headers/{h}"}
                                                  for h in ("ETag", "Location")},
                                      "content": {JSON: {"schema": _ref("Outcome")}}},
                              **_errors(*WRITE_ERRORS, "NotFound", "Conflict")},
            },
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi", "tags": ["meta"], "security": [{}],
                "summary": "Tài liệu OpenAPI này",
                "responses": {"200": {"description": "Tài liệu OpenAPI 3.1.",
                                      "content": {JSON: {"schema": {"type": "object"}}}}},
            },
        },
    }


def _with_uri_limit(paths: dict) -> dict:
    """Every API URL longer than MAX_URL_BYTES is a 414 (registry/api/errors.py)."""
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation["responses"].setdefault("414", _response("UriTooLong"))
    return paths


def openapi_document() -> dict:
    """The whole document; built from the same constants the code validates with."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Cơ sở dữ liệu mô hình tự phòng, tự quản — API",
            "version": "1.0.0",
            "description": "API JSON cho hệ thống tích hợp. Lỗi luôn có dạng "
                           "{\"error\": {\"code\", \"message\", \"fields\"}}. "
                           f"Địa chỉ (đường dẫn và tham số, đã mã hóa) tối đa {MAX_URL_BYTES} "
                           "byte, dài hơn → 414. Ghi cần "
                           "Authorization: Bearer <mã truy cập>. Xem docs/api.md.",
            "license": {"name": "GPL-3.0-or-later", "identifier": "GPL-3.0-or-later"},
        },
        "tags": [{"name": "practices", "description": "Mô hình"},
                 {"name": "workflow", "description": "Xác minh, đề cử, thẩm định, công nhận, "
                                                     "nhân rộng (docs/workflow.md)"},
                 {"name": "meta", "description": "Mô tả API"}],
        "paths": _with_uri_limit({**_paths(), **openapi_workflow.paths()}),
        "components": _components(),
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
