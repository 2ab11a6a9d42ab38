"""JSON errors for the API: {"error": {"code", "message", "fields"}} with Vietnamese messages."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from registry.api import bp as api_bp
from registry.domain.errors import (
    Conflict, DomainError, Forbidden, Invalid, NotAllowedInState, StaleVersion,
)
from registry.extensions import db

# Default code and message for each HTTP status the API answers with.
STATUS_ERRORS = {
    400: ("bad_request", "Yêu cầu không hợp lệ."),
    401: ("unauthorized", "Cần gửi mã truy cập hợp lệ trong tiêu đề "
                          "Authorization: Bearer <mã truy cập>."),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này."),
    404: ("not_found", "Không tìm thấy tài nguyên yêu cầu."),
    405: ("method_not_allowed", "Phương thức HTTP này không được hỗ trợ tại địa chỉ này."),
    406: ("not_acceptable", "Chỉ trả về dữ liệu JSON (application/json)."),
    409: ("conflict", "Yêu cầu xung đột với trạng thái hiện tại của dữ liệu."),
    412: ("precondition_failed", "Điều kiện If-Match không khớp: dữ liệu đã bị thay đổi."),
    413: ("payload_too_large", "Nội dung gửi lên quá lớn."),
    414: ("uri_too_long", "Địa chỉ yêu cầu (đường dẫn và tham số) quá dài."),
    415: ("unsupported_media_type", "Nội dung phải là JSON với Content-Type: application/json."),
    422: ("unprocessable", "Dữ liệu không xử lý được."),
    428: ("precondition_required", "Cần gửi tiêu đề If-Match hoặc trường \"version\" để "
                                   "tránh ghi đè thay đổi của người khác."),
    429: ("too_many_requests", "Quá nhiều yêu cầu, vui lòng thử lại sau."),
    500: ("internal_error", "Lỗi máy chủ; thay đổi chưa được lưu. Vui lòng thử lại sau."),
    503: ("unavailable", "Dịch vụ tạm thời không hoạt động; vui lòng thử lại sau."),
}


# Longest request target (path and query string, as sent: percent-encoded bytes) an API
# request may have. Below every server's own limit (gunicorn's limit_request_line, set to
# 8190 in registry/gunicorn_conf.py; Werkzeug's development server: 65536), so an over-long
# API URL is answered here with the JSON 414 rather than by the server's own HTML one.
MAX_URL_BYTES = 4096


class ApiError(Exception):
    """Raised anywhere in an API view; answered as JSON and the transaction rolled back."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None,
                 fields: dict[str, str] | None = None, headers: dict[str, str] | None = None):
        default_code, default_message = STATUS_ERRORS.get(status, STATUS_ERRORS[400])
        super().__init__(message or default_message)
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.fields = fields or {}
        self.headers = headers or {}


def error_response(status: int, message: str | None = None, *, code: str | None = None,
                   fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None, **extra) -> Response:
    """The JSON body every API error has, with the given status and headers (`extra` keys
    join code, message and fields)."""
    default_code, default_message = STATUS_ERRORS.get(status, STATUS_ERRORS[400])
    response = jsonify({"error": {"code": code or default_code,
                                  "message": message or default_message,
                                  "fields": fields or {}, **extra}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="registry"')
    return response


def _rollback() -> None:
    """Nothing of a failed request is kept: the services flushed, nobody committed."""
    db.session.rollback()


def _http_exception_headers(error: HTTPException) -> dict[str, str]:
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        return {"Allow": ", ".join(sorted(error.valid_methods))}
    return {}


def _handle_api_error(error: ApiError) -> Response:
    _rollback()
    return error_response(error.status, error.message, code=error.code, fields=error.fields,
                          headers=error.headers)


def domain_error_response(error: DomainError) -> Response:
    """Every domain error as the API answers it, decided here once.

    A stale version is 412 when the client sent an If-Match naming versions, 409 when the
    body's version decided (none sent, or `If-Match: *`, which names no version).
    """
    fields: dict[str, str] = {}
    headers: dict[str, str] = {}
    status, code, message = error.status, error.code, error.message
    if isinstance(error, Invalid):
        message = f"{error.subject} không hợp lệ; xem chi tiết từng trường."
        fields = {e.field: e.message for e in error.errors}
    elif isinstance(error, StaleVersion):
        if error.actual is not None:
            headers["ETag"] = f'"{error.actual}"'
        if request.headers.get("If-Match") and not request.if_match.star_tag:
            status, code = 412, STATUS_ERRORS[412][0]
        else:
            fields = {"version": f"Phiên bản hiện tại là {error.actual}." if error.actual
                      is not None else "Phiên bản đã cũ; hãy đọc lại mô hình."}
    elif isinstance(error, (Conflict, Forbidden)):
        fields = error.fields
    extra = ({"state": error.state, "allowed_actions": error.allowed}
             if isinstance(error, NotAllowedInState) else {})
    return error_response(status, message, code=code, fields=fields, headers=headers, **extra)


def _handle_domain_error(error: DomainError) -> Response:
    _rollback()
    return domain_error_response(error)


def _handle_http_exception(error: HTTPException) -> Response:
    _rollback()
    status = error.code or 500
    code, message = STATUS_ERRORS.get(status, (f"http_{status}", error.description))
    return error_response(status, message, code=code,
                          headers=_http_exception_headers(error))


def _handle_unexpected(error: Exception) -> Response:
    _rollback()
    return error_response(500)


def request_target_bytes() -> int:
    """Length of the request target as the client sent it (path and query, still encoded):
    the server's RAW_URI, or the path and query string when those are longer (a WSGI
    environment need not carry the query in RAW_URI)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    path = quote(request.environ.get("PATH_INFO", ""), safe="/")
    query = request.environ.get("QUERY_STRING", "")
    return max(len(raw.encode("latin-1", "replace")),
               len(path) + (len(query) + 1 if query else 0))


def uri_too_long() -> Response:
    return error_response(414, f"Địa chỉ yêu cầu (đường dẫn và tham số) quá dài: tối đa "
                               f"{MAX_URL_BYTES} byte sau khi mã hóa.",
                          fields={"url": f"dài {request_target_bytes()} byte, tối đa "
                                         f"{MAX_URL_BYTES}"})


def is_api_path(path: str, bp: Blueprint) -> bool:
    prefix = bp.url_prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def install(bp: Blueprint) -> None:
    """Error handlers for the API blueprint, JSON for unknown /api/v1/ URLs and methods, and
    the JSON 414 for API URLs longer than MAX_URL_BYTES (checked before anything else).

    A URL that matches no route never reaches a blueprint handler, and the web pages may
    register their own HTML 404 page; so routing failures under the API prefix are answered
    before dispatch instead of through the application's error handlers.
    """
    bp.register_error_handler(ApiError, _handle_api_error)
    bp.register_error_handler(DomainError, _handle_domain_error)
    bp.register_error_handler(HTTPException, _handle_http_exception)
    bp.register_error_handler(500, _handle_unexpected)

    @bp.before_app_request
    def _json_routing_errors():
        if is_api_path(request.path, bp) and request_target_bytes() > MAX_URL_BYTES:
            return uri_too_long()
        failure = request.routing_exception
        if isinstance(failure, HTTPException) and failure.code in (404, 405) \
                and is_api_path(request.path, bp):
            return _handle_http_exception(failure)
        return None


# Blueprint set-up methods may only run before the first registration: once, at import.
install(api_bp)
