"""A log of practice changes that every worker's search structures replay to stay in step."""
from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db


class SearchCounter(db.Model):
    """One row; writers increment it, so its row lock orders their commits."""

    __tablename__ = "search_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)


class SearchChange(db.Model):
    """Practice `practice_id` changed in generation `generation` (created, edited or removed)."""

    __tablename__ = "search_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger, index=True)
    practice_id: Mapped[int] = mapped_column(Integer, index=True)
