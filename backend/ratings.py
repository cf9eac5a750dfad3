"""Satisfaction after the callback: very satisfied (5) … very dissatisfied (1).

A low rating reopens the ticket for the supervisor; otherwise the callback closes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle, tickets
from backend.actors import Actor
from backend.errors import IllegalTransition, InvalidInput
from backend.models import Rating, Ticket, utcnow

LOW = 2  # this score or below reopens the ticket


async def rate(
    session: AsyncSession,
    ticket: Ticket,
    score: int,
    actor: Actor,
    *,
    channel: str = "",
    now: datetime | None = None,
) -> Rating:
    if not 1 <= score <= 5:
        raise InvalidInput("a rating is 1 (very dissatisfied) to 5 (very satisfied)")
    if ticket.state != "callback":
        raise IllegalTransition("this ticket is not waiting for a rating")
    now = now or utcnow()
    rating = Rating(
        ticket_id=ticket.id, owner_id=ticket.owner_id, score=score, channel=channel, created_at=now
    )
    session.add(rating)
    await session.flush()
    if score <= LOW:
        await tickets.reopen(session, ticket, actor, note=f"rated {score}/5 at callback", now=now)
        if ticket.escalation_level < 1:
            await tickets.escalate(
                session, ticket, actor, note="low rating: supervisor to follow up", now=now
            )
    else:
        await tickets.transition(
            session, ticket, lifecycle.CLOSED, actor, note=f"rated {score}/5", now=now
        )
    return rating


async def add_comment(session: AsyncSession, rating: Rating, comment: str, actor: Actor) -> None:
    rating.comment = comment.strip()[:2000]
    ticket = await session.get(Ticket, rating.ticket_id)
    if ticket is not None and rating.comment:
        await tickets.add_note(session, ticket, actor, f"rating comment: {rating.comment}")


async def ratings_of(session: AsyncSession, ticket_id: int) -> list[Rating]:
    return list(
        await session.scalars(
            select(Rating).where(Rating.ticket_id == ticket_id).order_by(Rating.id)
        )
    )


async def waiting_for_rating(
    session: AsyncSession, owner_id: int | None, identity_id: int
) -> int | None:
    """The owner's ticket that waits for its rating (the latest, if several)."""
    return await session.scalar(
        select(Ticket.id)
        .where(Ticket.state == "callback", tickets.of_chat(owner_id, identity_id))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(1)
    )
