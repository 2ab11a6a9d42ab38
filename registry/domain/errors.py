"""The errors a use of the registry can end in, defined once; each interface maps them once.

The API turns them into JSON errors (registry.api.errors), pages into a message on the form
with the right status (registry.web.failures). Messages are Vietnamese.
"""
from __future__ import annotations

from typing import NamedTuple

from registry.domain.workflow import NOMINATION_STATE_BY_CODE, STATE_BY_CODE


class FieldError(NamedTuple):
    field: str
    message: str  # Vietnamese


class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status, code = 404, "not_found"

    def __init__(self, message: str = "Không tìm thấy mô hình."):
        super().__init__(message)


class Forbidden(DomainError):
    status, code = 403, "forbidden"

    def __init__(self, message: str = "Bạn không có quyền thực hiện thao tác này.",
                 fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = fields or {}


class Invalid(DomainError):
    """Input that cannot be saved; `errors` lists every field at fault."""

    status, code = 400, "validation_error"

    def __init__(self, errors: list[FieldError], subject: str = "Dữ liệu mô hình"):
        self.errors = list(errors)
        self.subject = subject
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


class StaleVersion(DomainError):
    """The model changed since the version the editor started from."""

    status, code = 409, "version_conflict"

    def __init__(self, expected: int | None = None, actual: int | None = None):
        now = f" (phiên bản hiện tại: {actual})" if actual is not None else ""
        super().__init__(f"Mô hình đã được người khác thay đổi trong lúc bạn sửa{now}. Hãy đọc "
                         "lại, áp dụng thay đổi của bạn rồi gửi lại.")
        self.expected = expected
        self.actual = actual


class Conflict(DomainError):
    """The write collides with data already there (a duplicate key, an archived model)."""

    status = 409

    def __init__(self, message: str, code: str = "conflict",
                 fields: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.fields = fields or {}


class NotAllowedInState(DomainError):
    """The action exists but not in the model's current state; says what is allowed."""

    status, code = 409, "not_allowed_in_state"

    def __init__(self, action: str, state: str, allowed: list[str], subject: str = "practice"):
        states = NOMINATION_STATE_BY_CODE if subject == "nomination" else STATE_BY_CODE
        known = states.get(state)
        super().__init__(f"Không thể thực hiện “{action}” ở trạng thái hiện tại "
                         f"(“{known.label_vi if known else state}”).")
        self.action = action
        self.state = state
        self.allowed = list(allowed)
