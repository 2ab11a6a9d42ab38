"""The path of a model: its events (append-only), nominations, reviews, commendations, mail."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.domain.workflow import OPEN_NOMINATION_STATES
from registry.extensions import db
from registry.models.practices import Practice, utcnow

_OPEN = "state IN (" + ", ".join(f"'{s}'" for s in OPEN_NOMINATION_STATES) + ")"


class Nomination(db.Model):
    """A registered model put forward as an advanced example at province or national level."""

    __tablename__ = "nomination"
    __table_args__ = (
        # One open nomination per model and level.
        Index("uq_nomination_open", "practice_id", "level", unique=True,
              sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    level: Mapped[str] = mapped_column(String(20))  # province | national
    decision_unit: Mapped[str] = mapped_column(String(10), index=True)  # "01" or "national"
    state: Mapped[str] = mapped_column(String(20), default="review", index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(Text, default="")
    periods: Mapped[list] = mapped_column(JSON, default=list)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    escalated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("nomination.id", ondelete="SET NULL"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    practice: Mapped[Practice] = relationship()
    nominated_by = relationship("User", foreign_keys=[nominated_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    assignments: Mapped[list["ReviewAssignment"]] = relationship(
        back_populates="nomination", cascade="all, delete-orphan",
        order_by="ReviewAssignment.id")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_NOMINATION_STATES

    def current_assignments(self) -> list["ReviewAssignment"]:
        return [a for a in self.assignments if a.round == self.round]


class ReviewAssignment(db.Model):
    """A reviewer asked to score a nomination in one round, by a due date."""

    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("nomination_id", "round", "reviewer_id",
                                       name="uq_review_assignment_round_reviewer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nomination.id", ondelete="CASCADE"),
                                               index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    due_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="assigned")  # declined | submitted
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # criterion code -> 1..5
    comment: Mapped[str] = mapped_column(Text, default="")
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                          nullable=True)

    nomination: Mapped[Nomination] = relationship(back_populates="assignments")
    reviewer = relationship("User", foreign_keys=[reviewer_id])


class Event(db.Model):
    """One step on a model's timeline: who did what, when, from which state to which, why.

    Append-only: database triggers refuse UPDATE and DELETE (migration 0003), except for the
    events of demo models, which leave with them.
    """

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True,
                                                 index=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    nomination_id: Mapped[int | None] = mapped_column(
        ForeignKey("nomination.id", ondelete="CASCADE"), nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    province_code: Mapped[str] = mapped_column(String(2), default="", index=True)
    commune_code: Mapped[str] = mapped_column(String(5), default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)

    actor = relationship("User")


class Commendation(db.Model):
    """A commendation (khen thưởng, biểu dương) of a model or one of its members."""

    __tablename__ = "commendation"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    kind: Mapped[str] = mapped_column(String(20))  # khen_thuong | bieu_duong
    level: Mapped[str] = mapped_column(String(20))  # commune | province | national
    decided_on: Mapped[date] = mapped_column(Date)
    decision_number: Mapped[str] = mapped_column(String(100), default="")
    member_name: Mapped[str] = mapped_column(String(200), default="")  # personal data
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxMessage(db.Model):
    """A mail to send, written in the transaction of the event it tells about; sent later by
    `registry send-mail` (never inside a request), retried with back-off."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"),
                                                nullable=True, index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)  # goes out in a daily digest
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True,
                                                     index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")


# --- append-only events, enforced by the database --------------------------------------------

APPEND_ONLY_MESSAGE = "event rows are append-only"
SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER event_no_update BEFORE UPDATE ON event
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
    f"""CREATE TRIGGER event_no_delete BEFORE DELETE ON event WHEN OLD.demo = 0
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END""",
)
POSTGRESQL_TRIGGERS = (
    f"""CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND OLD.demo THEN RETURN OLD; END IF;
      RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}';
    END $$""",
    """CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
    FOR EACH ROW EXECUTE FUNCTION event_append_only()""",
)
DROP_TRIGGERS = {
    "sqlite": ("DROP TRIGGER IF EXISTS event_no_update", "DROP TRIGGER IF EXISTS event_no_delete"),
    "postgresql": ("DROP TRIGGER IF EXISTS event_append_only ON event",
                   "DROP FUNCTION IF EXISTS event_append_only()"),
}


def append_only_ddl(dialect: str) -> tuple[str, ...]:
    return SQLITE_TRIGGERS if dialect == "sqlite" else POSTGRESQL_TRIGGERS
