"""Chats waiting for a person ("转人工") and the ones a colleague holds, as the console
lists them: those of the visible estates' households, and unverified chats, which belong
to no household yet and so to every front desk of the company."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Permission, StaffContext
from backend.errors import NotFound
from backend.models import ChannelIdentity, Conversation, Estate, Message, Owner, Staff, Unit

if TYPE_CHECKING:
    ChatQuery = Select[Conversation, ChannelIdentity, Owner, Estate, str, str]

LIST_LIMIT = 100
RECENT = 6


@dataclass(frozen=True)
class WaitingChat:
    conversation: Conversation
    identity: ChannelIdentity
    owner: Owner | None
    estate: Estate | None
    unit_number: str | None
    held_by: str | None  # the colleague's name when held
    messages: list[Message]


def _in_scope(ctx: StaffContext) -> ColumnElement[bool]:
    return or_(Owner.estate_id.in_(ctx.estate_ids), ChannelIdentity.owner_id.is_(None))


def _wanting() -> ColumnElement[bool]:
    """Asked for a person, or held by one (until handed back to the bot)."""
    return or_(
        Conversation.handoff_requested_at.is_not(None), Conversation.held_by_staff_id.is_not(None)
    )


async def recent_messages(
    session: AsyncSession, identity_id: int, limit: int = RECENT
) -> list[Message]:
    rows = list(
        await session.scalars(
            select(Message)
            .where(Message.identity_id == identity_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    )
    rows.reverse()
    return rows


def _query() -> ChatQuery:
    return (
        select(Conversation, ChannelIdentity, Owner, Estate, Unit.number, Staff.display_name)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .outerjoin(Owner, Owner.id == ChannelIdentity.owner_id)
        .outerjoin(Estate, Estate.id == Owner.estate_id)
        .outerjoin(Unit, Unit.id == Owner.unit_id)
        .outerjoin(Staff, Staff.id == Conversation.held_by_staff_id)
    )


async def _chats(session: AsyncSession, query: ChatQuery, recent: int) -> list[WaitingChat]:
    result = await session.execute(query)
    chats = []
    for conversation, identity, owner, estate, unit, held_by in result.all():
        messages = await recent_messages(session, identity.id, recent)
        chats.append(WaitingChat(conversation, identity, owner, estate, unit, held_by, messages))
    return chats


async def handoffs(
    session: AsyncSession, ctx: StaffContext, recent: int = RECENT
) -> tuple[list[WaitingChat], list[WaitingChat]]:
    """(waiting for someone, held by a colleague), longest waiting first."""
    ctx.require(Permission.VIEW_OWNERS)
    base = _query().where(_wanting(), _in_scope(ctx))
    waiting = base.where(Conversation.held_by_staff_id.is_(None)).order_by(
        Conversation.handoff_requested_at, Conversation.id
    )
    held = base.where(Conversation.held_by_staff_id.is_not(None)).order_by(
        Conversation.updated_at.desc(), Conversation.id
    )
    return (
        await _chats(session, waiting.limit(LIST_LIMIT), recent),
        await _chats(session, held.limit(LIST_LIMIT), recent),
    )


async def visible_chat(
    session: AsyncSession, ctx: StaffContext, conversation_id: int, recent: int = RECENT
) -> WaitingChat:
    """One waiting or held chat in scope; any other is "not found"."""
    ctx.require(Permission.VIEW_OWNERS)
    query = _query().where(Conversation.id == conversation_id, _wanting(), _in_scope(ctx))
    chats = await _chats(session, query, recent)
    if not chats:
        raise NotFound(f"no waiting conversation with id {conversation_id}")
    return chats[0]
