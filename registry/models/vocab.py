"""Controlled vocabularies (kinds, domains, forms, ...) and the abbreviations people type."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.extensions import db

# Vocabularies the registry knows; "kind" is open (unknown kinds are added for review).
VOCABULARIES = ("kind", "form", "domain", "setting", "target_group", "lead_organisation",
                "member_role", "indicator")
OPEN_VOCABULARIES = ("kind",)


class Term(db.Model):
    """One entry of a vocabulary, with a stable code and Vietnamese and English labels."""

    __tablename__ = "term"
    __table_args__ = (UniqueConstraint("vocabulary", "code", name="uq_term_vocabulary_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vocabulary: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(80))
    label_vi: Mapped[str] = mapped_column(String(300))
    label_en: Mapped[str] = mapped_column(String(300), default="")
    match_key: Mapped[str] = mapped_column(String(300), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    origin: Mapped[str] = mapped_column(String(20), default="seed")  # seed | import | admin
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("term.id"), nullable=True)

    def label(self, locale: str = "vi") -> str:
        return self.label_en if locale == "en" and self.label_en else self.label_vi


class Abbreviation(db.Model):
    """An abbreviation (ANTT, TTATGT, ...) and the words it stands for."""

    __tablename__ = "abbreviation"

    id: Mapped[int] = mapped_column(primary_key=True)
    short: Mapped[str] = mapped_column(String(20), unique=True)
    expansion: Mapped[str] = mapped_column(String(200))
