"""Messages in and out, and the outbox every outgoing message passes through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, utcnow
from backend.vocabulary import OutboxState

# The rows still to send, and the predicate of the partial index on them: a query must
# state it word for word (as literals, not parameters) for SQLite and PostgreSQL to use it.
UNSENT_STATES = (OutboxState.PENDING.value, OutboxState.SENDING.value)
UNSENT = f"state IN ({', '.join(repr(state) for state in UNSENT_STATES)})"


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "platform_message_id"),
        Index("ix_messages_owner_created", "owner_id", "created_at"),
        Index("ix_messages_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # NULL for outgoing rows until the platform assigns one; NULLs never collide.
    platform_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    direction: Mapped[str] = mapped_column(String(4))
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_identities.id"), index=True, default=None
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), default=None)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"), index=True, default=None
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set once the bot has answered an inbound message; NULL after a crash means "redo".
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    # What the bot read in an inbound message (repair/complaint/enquiry/other), for reports.
    intent: Mapped[str | None] = mapped_column(String(16), default=None)


class OutboxItem(Base):
    """An outgoing message waiting for (or done with) delivery.

    Written in the same transaction as the state change that caused it; the
    unique idempotency key makes every producer safe to run twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next", "state", "next_attempt_at"),
        # Only rows still to send: claiming reads these, however many were sent before.
        Index(
            "ix_outbox_unsent",
            "channel",
            "chat_id",
            "id",
            sqlite_where=text(UNSENT),
            postgresql_where=text(UNSENT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel_identities.id"), default=None
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True, default=None)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id"), index=True, default=None
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    priority: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)


class Conversation(Base):
    """Where the dialog with one chat account stands; survives restarts."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), unique=True
    )
    flow: Mapped[str | None] = mapped_column(String(32), default=None)
    step: Mapped[str | None] = mapped_column(String(32), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A staff member holds the conversation: the bot stays silent except for commands.
    held_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    handoff_requested_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlatformState(Base):
    """Small values every process must share: the WeChat access token, Telegram's offset."""

    __tablename__ = "platform_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
