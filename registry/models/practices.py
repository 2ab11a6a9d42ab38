"""A self-management model (mô hình) and what belongs to it: members, results, evidence."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from registry.extensions import db
from registry.models.places import Commune, Province
from registry.models.vocab import Term
from registry.text import collation_key


# Collation keys (registry.text.collation_key) sort by code point: binary collation everywhere.
SORT_KEY = String(900).with_variant(String(900, collation="C"), "postgresql")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _term_link(name: str) -> Table:
    return Table(
        name, db.metadata,
        Column("practice_id", ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True),
        Column("term_id", ForeignKey("term.id"), primary_key=True, index=True),
    )


practice_forms = _term_link("practice_form")
practice_domains = _term_link("practice_domain")
practice_target_groups = _term_link("practice_target_group")


class Practice(db.Model):
    """A registered self-management model; named Practice as in "good practice"."""

    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(300))
    kind_id: Mapped[int] = mapped_column(ForeignKey("term.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    commune_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), index=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    hamlet: Mapped[str] = mapped_column(String(300), default="")
    address_text: Mapped[str] = mapped_column(String(500), default="")
    setting_id: Mapped[int | None] = mapped_column(ForeignKey("term.id"), nullable=True)
    lead_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("term.id"),
                                                             nullable=True)
    founded_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    participants: Mapped[int | None] = mapped_column(Integer, nullable=True)
    households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="registered", index=True)
    recognition_level: Mapped[str] = mapped_column(String(20), default="none")
    recognised_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    replicated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("practice.id", ondelete="SET NULL"), nullable=True, index=True)
    replicated_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    name_sort_key: Mapped[str] = mapped_column(SORT_KEY, default="", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    kind: Mapped[Term] = relationship(foreign_keys=[kind_id])
    setting: Mapped[Term | None] = relationship(foreign_keys=[setting_id])
    lead_organisation: Mapped[Term | None] = relationship(foreign_keys=[lead_organisation_id])
    commune: Mapped[Commune] = relationship()
    province: Mapped[Province] = relationship()
    forms: Mapped[list[Term]] = relationship(secondary=practice_forms, order_by=Term.position)
    domains: Mapped[list[Term]] = relationship(secondary=practice_domains,
                                               order_by=Term.position)
    target_groups: Mapped[list[Term]] = relationship(secondary=practice_target_groups,
                                                     order_by=Term.position)
    core_members: Mapped[list["CoreMember"]] = relationship(
        back_populates="practice", cascade="all, delete-orphan",
        order_by="CoreMember.position")
    outcomes: Mapped[list["OutcomeReport"]] = relationship(
        back_populates="practice", cascade="all, delete-orphan",
        order_by="OutcomeReport.period")
    evidence: Mapped[list["Evidence"]] = relationship(
        back_populates="practice", cascade="all, delete-orphan", order_by="Evidence.id")
    replicated_from: Mapped["Practice | None"] = relationship(
        remote_side=[id], back_populates="replications")
    replications: Mapped[list["Practice"]] = relationship(back_populates="replicated_from")

    @validates("name")
    def _keep_sort_key(self, key: str, value: str) -> str:
        self.name_sort_key = collation_key(value)
        return value

    def __repr__(self) -> str:
        return f"<Practice {self.id} {self.name!r}>"


class CoreMember(db.Model):
    """A core member (lực lượng nòng cốt): personal data, shown only to those entitled."""

    __tablename__ = "core_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("term.id"), nullable=True)
    phone: Mapped[str] = mapped_column(String(30), default="")

    practice: Mapped[Practice] = relationship(back_populates="core_members")
    role: Mapped[Term | None] = relationship()


class OutcomeReport(db.Model):
    """A results report for one period: a half-year ("2024-H1") or a year ("2024")."""

    __tablename__ = "outcome_report"
    __table_args__ = (UniqueConstraint("practice_id", "period",
                                       name="uq_outcome_report_practice_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    period: Mapped[str] = mapped_column(String(7))
    tips_reported: Mapped[int | None] = mapped_column(Integer, nullable=True)
    valuable_tips: Mapped[int | None] = mapped_column(Integer, nullable=True)
    disputes_mediated: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offenders_reintegrated: Mapped[int | None] = mapped_column(Integer, nullable=True)
    wanted_caught: Mapped[int | None] = mapped_column(Integer, nullable=True)
    surrenders: Mapped[int | None] = mapped_column(Integer, nullable=True)
    crimes_on_area: Mapped[int | None] = mapped_column(Integer, nullable=True)
    traffic_accidents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    narrative: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    practice: Mapped[Practice] = relationship(back_populates="outcomes")


class Evidence(db.Model):
    """A document attached to a model (decision, quy chế, photo, report): metadata only."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(30), default="other")
    original_filename: Mapped[str] = mapped_column(String(255), default="")
    stored_name: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    practice: Mapped[Practice] = relationship(back_populates="evidence")
