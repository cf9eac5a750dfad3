"""Emergencies skip every question: urgent ticket at once, safety advice, supervisor alerted.

Never held up by verification: an unverified user gets the advice and an urgent ticket
marked unverified; they are then asked where they are, for the supervisor.
"""

from __future__ import annotations

from sqlalchemy import select

from backend import tickets
from backend.actors import BOT, Actor
from backend.models import Estate, Staff, Ticket
from bot.dialogs.context import Turn
from bot.intents.urgency import find_emergency

HAZARDS = ("gas", "fire", "flood", "lift", "electric", "injury")


async def _estate_for(turn: Turn) -> Estate:
    """The owner's estate; for an unverified user, one named in the message, else the first."""
    if turn.estate is not None:
        return turn.estate
    estates = list(await turn.session.scalars(select(Estate).order_by(Estate.id)))
    for estate in estates:
        if estate.name in turn.text or (
            estate.name_en and estate.name_en.lower() in turn.text.lower()
        ):
            return estate
    return estates[0]


async def handle_emergency(turn: Turn) -> None:
    hit = find_emergency(turn.text)
    hazard = hit.kind if hit and hit.kind in HAZARDS else "general"
    estate = await _estate_for(turn)
    meaning = turn.understanding
    actor = Actor.of_owner(turn.owner) if turn.owner else BOT
    ticket = await tickets.open_ticket(
        turn.session,
        kind="repair",
        estate_id=estate.id,
        owner_id=turn.owner.id if turn.owner else None,
        identity_id=turn.identity.id,
        actor=actor,
        channel=turn.identity.channel,
        summary=turn.text,
        description=turn.text,
        category=meaning.category or "other",
        location=meaning.entities.get("location", ""),
        item=meaning.entities.get("item", ""),
        urgent=True,
        unverified=turn.owner is None,
        language=turn.lang,
        now=turn.now,
    )
    await tickets.escalate(
        turn.session, ticket, BOT, note=f"emergency ({hazard}): supervisor alerted", now=turn.now
    )
    turn.ticket_id = ticket.id
    turn.park()
    turn.say(f"emergency.advice.{hazard}")
    supervisor = (
        await turn.session.get(Staff, ticket.supervisor_id) if ticket.supervisor_id else None
    )
    duty = estate.settings.get("duty_phone") or turn.tr("emergency.duty_phone_default")
    turn.say(
        "emergency.ticket",
        number=ticket.number,
        supervisor=f"{supervisor.shown_name} {supervisor.phone}"
        if supervisor
        else turn.tr("card.to_be_assigned"),
        duty_phone=duty,
    )
    if turn.owner is None:
        turn.start("emergency", "where", ticket_id=ticket.id)
        turn.say("emergency.ask_where")


async def prompt(turn: Turn) -> None:
    turn.say("emergency.ask_where")


async def handle(turn: Turn) -> bool:
    """An unverified reporter tells us where they are: it goes onto the urgent ticket."""
    if not turn.text:
        return False
    ticket = await turn.session.get(Ticket, int(turn.data.get("ticket_id", 0)))
    turn.finish()
    if ticket is None:
        return False
    ticket.description = f"{ticket.description}\n{turn.text}".strip()
    ticket.contact_phone = ticket.contact_phone or turn.understanding.entities.get("phone", "")
    await tickets.add_note(
        turn.session, ticket, BOT, f"reporter's details: {turn.text}", now=turn.now
    )
    turn.ticket_id = ticket.id
    turn.say("emergency.details_added", number=ticket.number)
    return True
