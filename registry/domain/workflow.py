"""The states a model passes through and the recognition levels, declared as data."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    code: str
    label_vi: str
    label_en: str
    public: bool  # listed in the public catalogue


STATES = (
    State("draft", "Bản nháp", "Draft", False),
    State("submitted", "Chờ xác minh", "Awaiting verification", False),
    State("returned", "Trả lại để bổ sung", "Returned for changes", False),
    State("registered", "Đã đăng ký", "Registered", True),
    State("nominated", "Đề cử điển hình", "Nominated", True),
    State("approved", "Được công nhận nhân rộng", "Approved for replication", True),
    State("archived", "Lưu trữ", "Archived", False),
)
STATE_BY_CODE = {s.code: s for s in STATES}
PUBLIC_STATES = tuple(s.code for s in STATES if s.public)

RECOGNITION_LEVELS = (
    ("none", "Chưa công nhận", "Not recognised"),
    ("commune", "Cấp xã", "Commune level"),
    ("province", "Cấp tỉnh", "Province level"),
    ("national", "Cấp trung ương", "National level"),
)
RECOGNITION_LABELS = {code: (vi, en) for code, vi, en in RECOGNITION_LEVELS}


def state_label(code: str, locale: str = "vi") -> str:
    state = STATE_BY_CODE.get(code)
    if state is None:
        return code
    return state.label_en if locale == "en" else state.label_vi


def recognition_label(code: str, locale: str = "vi") -> str:
    vi, en = RECOGNITION_LABELS.get(code, (code, code))
    return en if locale == "en" else vi


# States from which the editor may still save a draft or send the model for verification.
DRAFT_STATES = ("draft", "returned")


def status_after_save(current: str | None, submit: bool) -> str | None:
    """The state a save leads to: a new model starts as a draft, or awaiting verification
    when sent; a draft or returned model sent for verification awaits it; any other save
    keeps the state (None)."""
    if current is None:
        return "submitted" if submit else "draft"
    if current in DRAFT_STATES and submit:
        return "submitted"
    return None
