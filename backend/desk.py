"""What staff do to a conversation or a ticket, with the owner told through the outbox.

The console (and the scheduler) call these rather than ``backend.tickets`` directly, so
every move that the owner should hear about is announced on the channel they last used.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import notices, tickets
from backend.actors import Actor
from backend.errors import InvalidInput, NotFound
from backend.messaging import OutboundMessage, enqueue, latest_identity
from backend.models import (
    ChannelIdentity,
    Conversation,
    Message,
    Staff,
    Ticket,
    TicketEvent,
    utcnow,
)
from backend.sla import STAFF_REPLY
from backend.vocabulary import PUSH_CHANNELS

MAX_REPLY = 4000


async def move(
    session: AsyncSession,
    ticket: Ticket,
    to_state: str,
    actor: Actor,
    *,
    note: str = "",
    assignee_id: int | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """A lifecycle move, announced to the owner (repair card on dispatch, rating on callback)."""
    now = now or utcnow()
    await tickets.transition(
        session, ticket, to_state, actor, note=note, assignee_id=assignee_id, reason=reason, now=now
    )
    moves = await session.scalar(
        select(func.count()).select_from(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
    )
    await notices.announce_transition(session, ticket, to_state, now, int(moves or 0))
    return ticket


async def _conversation(session: AsyncSession, identity_id: int) -> Conversation:
    conversation = await session.scalar(
        select(Conversation).where(Conversation.identity_id == identity_id)
    )
    if conversation is None:
        conversation = Conversation(identity_id=identity_id, data={})
        session.add(conversation)
        await session.flush()
    return conversation


async def take_over(
    session: AsyncSession, identity_id: int, staff: Staff, now: datetime | None = None
) -> Conversation:
    """A colleague holds the conversation: the bot stays silent except for commands."""
    conversation = await _conversation(session, identity_id)
    conversation.held_by_staff_id = staff.id
    conversation.handoff_requested_at = conversation.handoff_requested_at or (now or utcnow())
    return conversation


async def hand_back(session: AsyncSession, identity_id: int) -> Conversation:
    conversation = await _conversation(session, identity_id)
    conversation.held_by_staff_id = None
    conversation.handoff_requested_at = None
    return conversation


async def reply(
    session: AsyncSession,
    staff: Staff,
    text: str,
    *,
    identity: ChannelIdentity | None = None,
    ticket: Ticket | None = None,
    now: datetime | None = None,
) -> Message:
    """A staff member's words to an owner, on the owner's last channel (or the given one)."""
    text = text.strip()
    if not text:
        raise InvalidInput("a reply needs some text")
    if len(text) > MAX_REPLY:
        raise InvalidInput(f"a reply is at most {MAX_REPLY} characters")
    now = now or utcnow()
    if identity is None and ticket is not None:
        if ticket.owner_id is not None:
            identity = await latest_identity(session, ticket.owner_id)
        if identity is None and ticket.identity_id is not None:
            identity = await session.get(ChannelIdentity, ticket.identity_id)
        if identity is not None and identity.channel not in PUSH_CHANNELS:
            identity = None
    if identity is None:
        raise NotFound("the owner has no chat account to reply to")
    count = await session.scalar(
        select(func.count()).select_from(Message).where(Message.identity_id == identity.id)
    )
    key = f"staff:{staff.id}:{identity.id}:{count}:{now.timestamp()}"
    language = identity.language or "zh"
    await enqueue(
        session,
        key=key,
        identity=identity,
        message=OutboundMessage(text),
        ticket_id=ticket.id if ticket else None,
        staff_id=staff.id,
        language=language,
    )
    if ticket is not None:
        await tickets.record(
            session, ticket, STAFF_REPLY, Actor.of_staff(staff), note=text[:500], now=now
        )
    sent = await session.scalar(
        select(Message)
        .where(Message.identity_id == identity.id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    assert sent is not None
    return sent


async def push_repair_card(
    session: AsyncSession, ticket: Ticket, now: datetime | None = None
) -> bool:
    """Send the repair card (again), e.g. after the responsible person changed."""
    card = await notices.repair_card(session, ticket, ticket.language)
    return await notices.notify_owner(session, ticket, card, f"card:{ticket.id}:{uuid.uuid4().hex}")
