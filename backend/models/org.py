"""Company, estates, buildings, units and their warranty items; calendar and SLA settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Template ids, quiet hours and other knobs that vary between companies.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    estates: Mapped[list[Estate]] = relationship(back_populates="company")


class Estate(Base):
    __tablename__ = "estates"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    address: Mapped[str] = mapped_column(String(300), default="")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    company: Mapped[Company] = relationship(back_populates="estates")


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100), default="")


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    handover_date: Mapped[date | None] = mapped_column(default=None)

    warranty_items: Mapped[list[WarrantyItem]] = relationship(
        back_populates="unit", order_by="WarrantyItem.expires_on"
    )


class WarrantyItem(Base):
    __tablename__ = "warranty_items"
    __table_args__ = (UniqueConstraint("unit_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date] = mapped_column(index=True)

    unit: Mapped[Unit] = relationship(back_populates="warranty_items")


class CompanyHoliday(Base):
    """A day the company declares off (holiday) or on (make-up working day, 调休)."""

    __tablename__ = "company_holidays"
    __table_args__ = (UniqueConstraint("company_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    day: Mapped[date]
    is_workday: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str] = mapped_column(String(100), default="")


class SlaPolicy(Base):
    """Overrides of a promise's default (backend/sla.py) for a company or one estate."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("company_id", "estate_id", "promise"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id"), default=None)
    promise: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int]
    unit: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(default=True)
