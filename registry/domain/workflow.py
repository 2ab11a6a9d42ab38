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


# --- the path of a model as data ------------------------------------------------------------

NOMINATION_LEVELS = ("province", "national")
NOMINATION_STATES = (
    State("review", "Đang thẩm định", "Under review", False),
    State("changes_requested", "Yêu cầu bổ sung", "Changes requested", False),
    State("approved", "Đã công nhận", "Approved", False),
    State("rejected", "Không công nhận", "Rejected", False),
    State("withdrawn", "Đã rút", "Withdrawn", False),
)
NOMINATION_STATE_BY_CODE = {s.code: s for s in NOMINATION_STATES}
OPEN_NOMINATION_STATES = ("review", "changes_requested")


@dataclass(frozen=True)
class Transition:
    """One action: on what, from which states, to which state (None: unchanged), who may
    (a rule of registry.permissions: a POLICY action for models, or a nomination rule), and
    whether a reason is required. The services run every action through one executor."""

    action: str
    subject: str  # "practice" or "nomination"
    from_states: tuple[str, ...]
    to_state: str | None
    who: str
    label_vi: str
    label_en: str
    needs_reason: bool = False

    def label(self, locale: str = "vi") -> str:
        return self.label_en if locale == "en" else self.label_vi


TRANSITIONS = (
    # A model's registration.
    Transition("submit", "practice", ("draft", "returned"), "submitted", "manage",
               "Gửi xác minh", "Send for verification"),
    Transition("verify", "practice", ("submitted",), "registered", "verify",
               "Xác minh, đưa vào danh mục", "Verify and register"),
    Transition("return", "practice", ("submitted",), "returned", "verify",
               "Trả lại để bổ sung", "Return for changes", needs_reason=True),
    Transition("archive", "practice", ("draft", "submitted", "returned", "registered",
                                       "nominated", "approved"), "archived", "manage",
               "Lưu trữ", "Archive", needs_reason=True),
    Transition("restore", "practice", ("archived",), None, "restore",
               "Khôi phục", "Restore", needs_reason=True),
    Transition("withdraw_recognition", "practice", ("approved",), "registered", "recognition",
               "Thu hồi công nhận", "Withdraw recognition", needs_reason=True),
    # A nomination as an advanced example (điển hình tiên tiến) and its review.
    Transition("assign_reviewer", "nomination", ("review",), None, "decide",
               "Phân công thẩm định", "Assign a reviewer"),
    Transition("review", "nomination", ("review",), None, "review",
               "Chấm điểm thẩm định", "Submit a review"),
    Transition("decline_review", "nomination", ("review",), None, "review",
               "Từ chối thẩm định", "Decline the review", needs_reason=True),
    Transition("approve", "nomination", ("review",), "approved", "decide",
               "Công nhận", "Approve", needs_reason=True),
    Transition("reject", "nomination", ("review",), "rejected", "decide",
               "Không công nhận", "Reject", needs_reason=True),
    Transition("request_changes", "nomination", ("review",), "changes_requested", "decide",
               "Yêu cầu bổ sung", "Request changes", needs_reason=True),
    Transition("resubmit", "nomination", ("changes_requested",), "review", "nominate",
               "Gửi lại sau bổ sung", "Resubmit", needs_reason=True),
    Transition("escalate", "nomination", ("approved",), None, "decide",
               "Đề cử lên cấp trung ương", "Escalate to national level", needs_reason=True),
    Transition("withdraw", "nomination", OPEN_NOMINATION_STATES, "withdrawn", "nominate",
               "Rút đề cử", "Withdraw the nomination", needs_reason=True),
)
TRANSITION_BY_ACTION = {t.action: t for t in TRANSITIONS}
PRACTICE_ACTIONS = tuple(t.action for t in TRANSITIONS if t.subject == "practice")
NOMINATION_ACTIONS = tuple(t.action for t in TRANSITIONS if t.subject == "nomination")


def nomination_state_label(code: str, locale: str = "vi") -> str:
    state = NOMINATION_STATE_BY_CODE.get(code)
    if state is None:
        return code
    return state.label_en if locale == "en" else state.label_vi


def practice_state_after_nomination(status: str, open_nominations: int) -> str:
    """A registered model with an open nomination shows as nominated, and back when none is
    open; an approved model stays approved (it may be nominated at the next level)."""
    if status == "registered" and open_nominations:
        return "nominated"
    if status == "nominated" and not open_nominations:
        return "registered"
    return status


def period_end(period: str):
    """The last day a results period covers: 2024-H1 → 2024-06-30, 2024 → 2024-12-31."""
    from datetime import date
    year, _, half = period.partition("-H")
    return date(int(year), 6, 30) if half == "1" else date(int(year), 12, 31)


def last_activity(periods, created_on):
    """The day a model last showed activity: the end of its latest results period, or with
    none the day it was created (None if neither is known)."""
    ends = [period_end(p) for p in periods]
    return max(ends) if ends else created_on


def months_before(day, months: int):
    """The same day `months` months earlier (the last day of a shorter month)."""
    import calendar
    from datetime import date
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def possibly_inactive(status: str, last_activity, today, months: int) -> bool:
    """A public model whose last results period ended (or, with none, which was registered)
    more than `months` months ago: shown as "có thể ngừng hoạt động"."""
    return (status in PUBLIC_STATES and last_activity is not None
            and last_activity < months_before(today, months))
