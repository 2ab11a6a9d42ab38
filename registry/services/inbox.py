"""What awaits a user ("Việc cần xử lý"), each list asked of the same rules as the actions."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry import permissions
from registry.domain.workflow import (
    PUBLIC_STATES, TRANSITION_BY_ACTION, last_activity, months_before,
)
from registry.extensions import db
from registry.models.practices import OutcomeReport, Practice
from registry.models.workflow import Nomination, ReviewAssignment

SECTIONS = {
    "verify": "Mô hình chờ xác minh",
    "returned": "Mô hình bị trả lại để bổ sung",
    "review": "Hồ sơ cần chấm điểm thẩm định",
    "decide": "Đề cử chờ quyết định",
    "changes": "Đề cử được yêu cầu bổ sung",
    "overdue_reports": "Mô hình quá hạn báo cáo kết quả",
}
LIMIT = 200


@dataclass
class Item:
    section: str
    title: str
    path: str
    practice_id: int
    nomination_id: int | None = None
    due: date | None = None
    overdue: bool = False
    note: str = ""


def _practices_in(user, rule: str, states, limit=LIMIT) -> list[Practice]:
    which = permissions.scope(user, rule)
    if which.empty:
        return []
    return list(db.session.scalars(
        select(Practice).where(permissions.practice_clause(which), Practice.status.in_(states))
        .order_by(Practice.updated_at).limit(limit)))


def activity_dates(practices) -> dict[int, date]:
    """Per model: registry.domain.workflow.last_activity, its reports read in one query."""
    periods: dict[int, list[str]] = {p.id: [] for p in practices}
    if periods:
        for practice_id, period in db.session.execute(
                select(OutcomeReport.practice_id, OutcomeReport.period)
                .where(OutcomeReport.practice_id.in_(list(periods)))):
            periods[practice_id].append(period)
    return {p.id: last_activity(periods[p.id], p.created_at.date()) for p in practices}


def inbox(user, today: date | None = None) -> dict[str, list[Item]]:
    """Every section with its items (empty sections included)."""
    today = today or date.today()
    items: dict[str, list[Item]] = {name: [] for name in SECTIONS}
    verify = TRANSITION_BY_ACTION["verify"]
    for p in _practices_in(user, verify.who, verify.from_states):
        items["verify"].append(Item("verify", p.name, f"/practices/{p.id}", p.id))
    for p in _practices_in(user, "manage", ("returned",)):
        items["returned"].append(Item("returned", p.name, f"/practices/{p.id}", p.id))
    user_id = getattr(user, "id", None)
    if user_id is not None:
        for a in db.session.scalars(
                select(ReviewAssignment).join(Nomination)
                .where(ReviewAssignment.reviewer_id == user_id,
                       ReviewAssignment.state == "assigned",
                       ReviewAssignment.round == Nomination.round,
                       Nomination.state == "review")
                .options(selectinload(ReviewAssignment.nomination)
                         .selectinload(Nomination.practice))
                .order_by(ReviewAssignment.due_on)):
            n = a.nomination
            items["review"].append(Item("review", n.practice.name, f"/nominations/{n.id}",
                                        n.practice_id, n.id, a.due_on, a.due_on < today))
    units = permissions.deciding_units(user)
    if units is None or units:
        query = select(Nomination).where(Nomination.state == "review") \
            .options(selectinload(Nomination.practice), selectinload(Nomination.assignments)) \
            .order_by(Nomination.created_at).limit(LIMIT)
        if units is not None:
            query = query.where(Nomination.decision_unit.in_(sorted(units)))
        for n in db.session.scalars(query):
            current = n.current_assignments()
            done = sum(1 for a in current if a.state == "submitted")
            items["decide"].append(Item("decide", n.practice.name, f"/nominations/{n.id}",
                                        n.practice_id, n.id,
                                        note=f"{done}/{len(current)} phiếu thẩm định"))
    nominate = permissions.scope(user, "nominate")
    if not nominate.empty:
        for n in db.session.scalars(
                select(Nomination).join(Practice)
                .where(Nomination.state == "changes_requested",
                       permissions.practice_clause(nominate))
                .options(selectinload(Nomination.practice)).limit(LIMIT)):
            items["changes"].append(Item("changes", n.practice.name, f"/nominations/{n.id}",
                                         n.practice_id, n.id, note=n.decision_reason))
    # Officers answer for their commune's results reports (not administrators at large).
    officer = permissions.Scope(tuple(permissions.Granted(("officer",)).areas(user)))
    if not officer.empty and not officer.everything:
        cutoff = months_before(today, current_app.config["REGISTRY_INACTIVE_MONTHS"])
        practices = list(db.session.scalars(
            select(Practice).where(permissions.practice_clause(officer),
                                   Practice.status.in_(PUBLIC_STATES)).limit(5 * LIMIT)))
        dates = activity_dates(practices)
        for p in practices:
            if dates[p.id] < cutoff:
                items["overdue_reports"].append(Item(
                    "overdue_reports", p.name, f"/practices/{p.id}", p.id, overdue=True,
                    note=f"báo cáo gần nhất đến {dates[p.id].strftime('%d/%m/%Y')}"))
    return items


def inbox_count(user) -> int:
    return sum(len(v) for v in inbox(user).values())
