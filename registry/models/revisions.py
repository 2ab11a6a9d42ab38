"""The change history of a model: who changed which fields, when, from what to what."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db
from registry.models.practices import utcnow


class Revision(db.Model):
    """One saved change of a practice; `changes` is a list of {field, old, new}."""

    __tablename__ = "revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id", ondelete="CASCADE"),
                                             index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(20), default="web")  # web | api | import | cli
    changes: Mapped[list] = mapped_column(JSON, default=list)

    user = relationship("User")
