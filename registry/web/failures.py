"""How a domain error shows on a page, decided once: the message, the status, field errors.

Views catch registry.domain.errors.DomainError around their one service call and render the
form again with `page_failure(error, locate)`: invalid input puts each message beside its form
field (400); a stale version or a duplicate says someone else changed the model (409); an
action not allowed in the model's state says so (409). Not found and forbidden are answered
with the site's 404 and 403 pages.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort
from flask_babel import lazy_gettext as _l

from registry.domain.errors import (
    Conflict, DomainError, Forbidden, Invalid, NotAllowedInState, NotFound, StaleVersion,
)

CONFLICT_MESSAGE = _l("Mô hình đã được người khác thay đổi trong lúc bạn sửa. "
                      "Vui lòng tải lại trang và nhập lại thay đổi.")
FORM_ERROR_MESSAGE = _l("Chưa lưu được: vui lòng sửa các mục báo lỗi bên dưới.")
STATE_MESSAGE = _l("Không thể thực hiện thao tác này ở trạng thái hiện tại của mô hình.")


@dataclass
class PageFailure:
    """What the form page shows after a failed write."""

    message: object  # a (lazy) translated string
    status: int
    other_errors: list[str] = field(default_factory=list)  # errors no field can show

    @property
    def conflict(self) -> bool:
        return self.message is CONFLICT_MESSAGE


def page_failure(error: DomainError, locate=lambda record_field: None) -> PageFailure:
    """The page's answer to a domain error; `locate(record_field)` finds a form field."""
    if isinstance(error, NotFound):
        abort(404)
    if isinstance(error, Forbidden):
        abort(403)
    if isinstance(error, Invalid):
        failure = PageFailure(FORM_ERROR_MESSAGE, 400)
        place_field_errors(error, locate, failure.other_errors)
        return failure
    if isinstance(error, (StaleVersion, Conflict)):
        return PageFailure(CONFLICT_MESSAGE, 409)
    if isinstance(error, NotAllowedInState):
        return PageFailure(STATE_MESSAGE, 409)
    return PageFailure(FORM_ERROR_MESSAGE, error.status, [error.message])


def place_field_errors(error: Invalid, locate, fallback: list) -> None:
    """Put each field error next to its form field (first letter up); errors `locate`
    cannot place go to `fallback`."""
    for item in error.errors:
        message = item.message[:1].upper() + item.message[1:]
        target = locate(item.field)
        if target is not None:
            target.errors = list(target.errors) + [message]
        else:
            fallback.append(message)
