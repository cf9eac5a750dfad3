"""Tickets, their event log, SLA deadlines, ratings and number counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("company_id", "number"),
        Index("ix_tickets_estate_state", "estate_id", "state"),
        Index("ix_tickets_unit_created", "unit_id", "created_at"),
        Index("ix_tickets_created", "created_at"),
        # Reports: same owner / chat account within 24 h, repeat chains.
        Index("ix_tickets_owner_created", "owner_id", "created_at"),
        Index("ix_tickets_identity_created", "identity_id", "created_at"),
        Index("ix_tickets_repeat_of_id", "repeat_of_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), default=None)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), default=None)
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_identities.id"), default=None
    )
    number: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="console")
    category: Mapped[str | None] = mapped_column(String(32), default=None)
    # What a complaint is about (noise, parking, …), for group-complaint warnings and reports.
    topic: Mapped[str | None] = mapped_column(String(32), default=None)
    location: Mapped[str] = mapped_column(String(64), default="")
    item: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    preferred_time: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str] = mapped_column(String(8), default="zh")
    urgent: Mapped[bool] = mapped_column(default=False)
    key_owner: Mapped[bool] = mapped_column(default=False)
    unverified: Mapped[bool] = mapped_column(default=False)
    major: Mapped[bool] = mapped_column(default=False)
    escalation_level: Mapped[int] = mapped_column(default=0)
    is_repeat: Mapped[bool] = mapped_column(default=False)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    reopen_count: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    ambassador_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    handled_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="ticket", order_by="Deadline.id", cascade="all, delete-orphan"
    )


class TicketEvent(Base):
    """One row per thing that happened to a ticket: who, when, from, to, note."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_state_at", "to_state", "at", "action", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(default=None)
    actor_name: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Deadline(Base):
    """One promise made on one ticket, with its due time and whether it was kept."""

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_state_due", "state", "due_at"),
        # The SLA report reads this index alone.
        Index(
            "ix_deadlines_promise_due",
            "promise",
            "due_at",
            "state",
            "met_at",
            "started_at",
            "ticket_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    promise: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    met_at: Mapped[datetime | None] = mapped_column(default=None)
    breached_at: Mapped[datetime | None] = mapped_column(default=None)
    warned_at: Mapped[datetime | None] = mapped_column(default=None)
    escalation_level: Mapped[int] = mapped_column(default=0)

    ticket: Mapped[Ticket] = relationship(back_populates="deadlines")


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), default=None)
    score: Mapped[int]  # 5 very satisfied … 1 very dissatisfied
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketCounter(Base):
    """Per company, prefix and local day: the last number handed out."""

    __tablename__ = "ticket_counters"
    __table_args__ = (UniqueConstraint("company_id", "prefix", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"))
    prefix: Mapped[str] = mapped_column(String(4))
    day: Mapped[date]
    last: Mapped[int] = mapped_column(default=0)


class CallbackTask(Base):
    """A call the front desk must make by phone: an unanswered callback, a new owner's visit.

    Keeps "100 % of callbacks done" countable: every callback ends either answered in chat
    or as one of these, done by a person with the outcome written down.
    """

    __tablename__ = "callback_tasks"
    __table_args__ = (UniqueConstraint("kind", "ticket_id", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # callback | follow_up | second_callback | visit
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"), index=True, default=None
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True, default=None)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    outcome: Mapped[str] = mapped_column(String(32), default="")  # reached | unreachable | refused
    score: Mapped[int | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
