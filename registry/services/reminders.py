"""Reminders (`registry remind`): reviews due soon or overdue, models without a results report.

What is due comes from each person's inbox (registry.services.inbox), the same lists as the
"Việc cần xử lý" page; this module only decides who is reminded of what, and how often, and
queues the mail through registry.services.mail (delivered later by `registry send-mail`).
Every reminder has a dedupe key, so running the command again (cron, twice a day, by hand)
queues nothing new:

- a review due within DUE_SOON_DAYS: once per assignment and due date;
- an overdue review: on the first day overdue, then once a week (a milestone per week);
- a model without a results report for longer than REGISTRY_INACTIVE_MONTHS: once a month.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from registry.extensions import db
from registry.models.accounts import Grant, User
from registry.models.workflow import Nomination, ReviewAssignment
from registry.services import mail
from registry.services.inbox import inbox

DUE_SOON_DAYS = 2


@dataclass
class RemindReport:
    due_soon: int = 0
    overdue: int = 0
    inactive: int = 0


def _reviewers_with_open_assignments() -> list[User]:
    return list(db.session.scalars(
        select(User).join(ReviewAssignment, ReviewAssignment.reviewer_id == User.id)
        .join(Nomination, Nomination.id == ReviewAssignment.nomination_id)
        .where(ReviewAssignment.state == "assigned", Nomination.state == "review",
               User.active.is_(True))
        .distinct().order_by(User.id)))


def _officers() -> list[User]:
    return list(db.session.scalars(
        select(User).join(Grant, Grant.user_id == User.id)
        .where(Grant.role == "officer", User.active.is_(True)).distinct().order_by(User.id)))


def queue_reminders(today: date | None = None) -> RemindReport:
    """Queue what is due today (run inside a unit of work)."""
    today = today or date.today()
    report = RemindReport()
    for reviewer in _reviewers_with_open_assignments():
        for item in inbox(reviewer, today)["review"]:
            days = (item.due - today).days
            due = item.due.strftime("%d/%m/%Y")
            if item.overdue:
                week = (today - item.due).days // 7
                report.overdue += mail.queue_mail(
                    [reviewer], f"Quá hạn thẩm định: {item.title}",
                    f"Hồ sơ đề cử “{item.title}” đã quá hạn chấm điểm thẩm định (hạn "
                    f"{due}, quá {(today - item.due).days} ngày).\nĐề nghị anh/chị gửi phiếu "
                    "thẩm định, hoặc từ chối để Ban Chỉ đạo phân công người khác.",
                    item.path,
                    dedupe_key=f"remind:review-overdue:{item.nomination_id}:{item.due}:{week}")
            elif days <= DUE_SOON_DAYS:
                when = "hôm nay" if days == 0 else f"còn {days} ngày"
                report.due_soon += mail.queue_mail(
                    [reviewer], f"Sắp đến hạn thẩm định: {item.title}",
                    f"Hồ sơ đề cử “{item.title}” cần chấm điểm thẩm định trước ngày {due} "
                    f"({when}).",
                    item.path,
                    dedupe_key=f"remind:review-due:{item.nomination_id}:{item.due}")
    month = today.strftime("%Y-%m")
    for officer in _officers():
        for item in inbox(officer, today)["overdue_reports"]:
            report.inactive += mail.queue_mail(
                [officer], f"Mô hình chưa có báo cáo kết quả: {item.title}",
                f"Mô hình “{item.title}” chưa có báo cáo kết quả định kỳ ({item.note}). "
                "Đề nghị cập nhật báo cáo sơ kết, tổng kết; mô hình lâu không báo cáo có "
                "thể bị coi là không còn hoạt động.",
                item.path, dedupe_key=f"remind:inactive:{item.practice_id}:{month}")
    return report
