"""Database look-ups shared by the transcript tests."""

from __future__ import annotations

from sqlalchemy import select

from backend.db import Database
from backend.models import ChannelIdentity, Conversation, OutboxItem, Ticket


async def tickets_of(db: Database, session_id: str) -> list[Ticket]:
    async with db.session() as s:
        identity = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == session_id)
        )
        if identity is None:
            return []
        rows = await s.scalars(
            select(Ticket).where(Ticket.identity_id == identity.id).order_by(Ticket.id)
        )
        return list(rows)


async def conversation_of(db: Database, session_id: str) -> Conversation | None:
    async with db.session() as s:
        return await s.scalar(
            select(Conversation)
            .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
            .where(ChannelIdentity.external_id == session_id)
        )


async def outbox_to(db: Database, session_id: str) -> list[OutboxItem]:
    async with db.session() as s:
        rows = await s.scalars(
            select(OutboxItem).where(OutboxItem.chat_id == session_id).order_by(OutboxItem.id)
        )
        return list(rows)
