"""Group-complaint warnings (群诉预警) with their linked tickets, and stored periodic reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow


class GroupAlert(Base):
    """Several households of one building (or estate) raising the same problem at once.

    ``kind`` is ``complaint`` (same topic) or ``flood`` (repairs of one category in a short
    time); ``subject`` is the topic or the repair category. An alert stays on the
    supervisors' and managers' screens until someone acknowledges it.
    """

    __tablename__ = "group_alerts"
    __table_args__ = (
        Index("ix_group_alerts_company_state", "company_id", "state"),
        Index("ix_group_alerts_key", "estate_id", "kind", "subject", "last_ticket_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    # NULL for an estate-wide alert (a problem of the whole estate: fees, parking, …).
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))  # complaint | flood
    scope: Mapped[str] = mapped_column(String(16))  # building | estate
    subject: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | acknowledged
    households: Mapped[int] = mapped_column(default=0)
    ticket_count: Mapped[int] = mapped_column(default=0)
    first_ticket_at: Mapped[datetime]
    last_ticket_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    replied_at: Mapped[datetime | None] = mapped_column(default=None)
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)


class GroupAlertTicket(Base):
    """A ticket linked to an alert; a ticket belongs to at most one alert."""

    __tablename__ = "group_alert_tickets"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("group_alerts.id", ondelete="CASCADE"), primary_key=True
    )
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, unique=True
    )
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), default=None)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportSnapshot(Base):
    """A daily or monthly report as it was computed, so the console and the staff chat show
    the same figures and later edits to tickets do not rewrite what management was told."""

    __tablename__ = "report_snapshots"
    __table_args__ = (UniqueConstraint("company_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    kind: Mapped[str] = mapped_column(String(16))  # daily | monthly
    period: Mapped[str] = mapped_column(String(16))  # 2026-11-25 | 2026-11
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
