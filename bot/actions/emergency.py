"""An emergency through Rasa: urgent ticket at once, supervisor alerted, safety advice.

Never held up by verification (DESIGN.md): an unbound sender gets the advice and an
urgent ticket marked unverified, and is asked where they are; ``action_emergency_details``
puts the answer on that ticket.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import BOT, Actor
from backend.models import Estate, Staff, Ticket
from bot.actions.common import CHANNEL, Caller, Replies
from bot.intents.urgency import find_emergency

HAZARDS = ("gas", "fire", "flood", "lift", "electric", "injury")


async def _estate_for(session: AsyncSession, caller: Caller, text: str) -> Estate:
    """The owner's estate; for an unbound sender, one named in the message, else the first."""
    if caller.estate is not None:
        return caller.estate
    estates = list(await session.scalars(select(Estate).order_by(Estate.id)))
    for estate in estates:
        if estate.name in text or (estate.name_en and estate.name_en.lower() in text.lower()):
            return estate
    return estates[0]


def hazard_of(text: str) -> str:
    hit = find_emergency(text)
    return hit.kind if hit and hit.kind in HAZARDS else "general"


def advice_key(text: str) -> str:
    """What to do right now, by hazard (gas, fire, flood, lift, ...)."""
    return f"emergency.advice.{hazard_of(text)}"


async def open_emergency(
    session: AsyncSession, caller: Caller, replies: Replies, text: str
) -> Ticket:
    """The urgent ticket, escalated to the supervisor; the caller has given the advice."""
    hazard = hazard_of(text)
    meaning = caller.understand(text)
    estate = await _estate_for(session, caller, text)
    ticket = await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=estate.id,
        owner_id=caller.owner.id if caller.owner else None,
        identity_id=caller.identity.id,
        actor=Actor.of_owner(caller.owner) if caller.owner else BOT,
        channel=CHANNEL,
        summary=text,
        description=text,
        category=meaning.category or "other",
        location=meaning.entities.get("location", ""),
        item=meaning.entities.get("item", ""),
        urgent=True,
        unverified=caller.owner is None,
        language=caller.lang,
        now=caller.now,
    )
    await tickets.escalate(
        session, ticket, BOT, note=f"emergency ({hazard}): supervisor alerted", now=caller.now
    )
    supervisor = await session.get(Staff, ticket.supervisor_id) if ticket.supervisor_id else None
    replies.say(
        "emergency.ticket",
        number=ticket.number,
        supervisor=f"{supervisor.shown_name} {supervisor.phone}".strip()
        if supervisor
        else replies.tr("card.to_be_assigned"),
        duty_phone=estate.settings.get("duty_phone") or replies.tr("emergency.duty_phone_default"),
    )
    if caller.owner is None:
        replies.say("emergency.ask_where")
    return ticket


async def add_details(
    session: AsyncSession, caller: Caller, replies: Replies, number: str
) -> Ticket | None:
    """The reporter's unit, location or phone, onto the urgent ticket this sender opened."""
    ticket = await session.scalar(
        select(Ticket).where(
            Ticket.number == number.upper(),
            Ticket.identity_id == caller.identity.id,
            Ticket.urgent.is_(True),
        )
    )
    if ticket is None or not caller.text:
        return None
    ticket.description = f"{ticket.description}\n{caller.text}".strip()
    ticket.contact_phone = ticket.contact_phone or caller.understand().entities.get("phone", "")
    await tickets.add_note(
        session, ticket, BOT, f"reporter's details: {caller.text}", now=caller.now
    )
    replies.say("emergency.details_added", number=ticket.number)
    return ticket
