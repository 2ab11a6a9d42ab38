"""Administrative units after the 2025 reform: 34 provinces and 3,321 communes."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.extensions import db

SORT_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")


class Province(db.Model):
    """A provincial unit (tỉnh or thành phố trực thuộc trung ương) with its official code."""

    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(100))
    division_type: Mapped[str] = mapped_column(String(40))
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    sort_key: Mapped[str] = mapped_column(SORT_KEY)

    communes: Mapped[list["Commune"]] = relationship(back_populates="province")


class Commune(db.Model):
    """A commune-level unit (xã, phường, đặc khu) with its official five-digit code."""

    __tablename__ = "commune"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(100))
    division_type: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)
    name_key: Mapped[str] = mapped_column(String(100), index=True)
    sort_key: Mapped[str] = mapped_column(SORT_KEY)

    province: Mapped[Province] = relationship(back_populates="communes")

    @property
    def full_name(self) -> str:
        return f"{self.name}, {self.province.name}"
