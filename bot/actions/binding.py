"""Binding a Rasa sender id to an owner, for a site whose own assistant verifies owners.

OwnerDesk shows ticket data only to a chat account bound to a verified owner. Through
Rasa the chat account is the sender id (channel ``rasa``); the site checks who the
person is its own way, then records the result here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import NotFound
from backend.messaging import identity_for
from backend.models import ChannelIdentity, Owner, utcnow
from bot.actions.common import CHANNEL


async def bind_sender(
    session: AsyncSession, sender_id: str, owner_id: int, *, now: datetime | None = None
) -> ChannelIdentity:
    """This sender is this owner from now on (the site has verified them)."""
    if await session.get(Owner, owner_id) is None:
        raise NotFound(f"no owner with id {owner_id}")
    identity = await identity_for(session, CHANNEL, sender_id)
    identity.owner_id = owner_id
    identity.verified_at = now or utcnow()
    await session.flush()
    return identity


async def unbind_sender(session: AsyncSession, sender_id: str) -> None:
    """The sender no longer speaks for an owner (moved out, shared device, revoked)."""
    identity = await identity_for(session, CHANNEL, sender_id)
    identity.owner_id = None
    identity.verified_at = None
    await session.flush()
