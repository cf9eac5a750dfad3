"""A complaint: acknowledge with empathy, capture what / who / when, open the ticket and
name the colleague who owns it (首问负责制) with the first-response promise."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from backend import tickets
from backend.actors import Actor
from backend.i18n import when
from backend.models import Staff
from backend.notices import next_promise
from bot.dialogs import binding
from bot.dialogs.context import Turn

DETAILED = 40  # characters: a message this long already says what, who and when
SWITCH_CONFIDENCE = 0.8  # an enquiry this sure, asked for details, is a question of its own
ASKING = re.compile(
    r"^(你好|您好|hi|hello)?[,，\s]*(我要|我想|我想要|要)?\s*(投诉|反映问题|反映个问题|"
    r"((i|we) (want|would like|need|'d like) to |can i |how (do|can) i )?"
    r"(make|file|lodge|submit|raise) (a )?complaint|complain|complaint|"
    r"i want to complain)[!！。.]*$",
    re.I,
)


async def start(turn: Turn) -> None:
    if not turn.verified:
        await binding.require(turn, {"kind": "complaint", "text": turn.text})
        return
    turn.say("complaint.sorry")
    if not turn.text or ASKING.match(turn.text):
        turn.start("complaint", "what")
    elif len(turn.text) < DETAILED:
        turn.start("complaint", "details", what=turn.text)
    else:
        await _submit(turn, turn.text, "")
        return
    await prompt(turn)


async def prompt(turn: Turn) -> None:
    if turn.step == "what":
        turn.say("complaint.ask_what")
    elif turn.step == "details":
        turn.say("complaint.ask_details", turn.button("button.skip", "complaint:skip"))


async def handle(turn: Turn) -> bool:
    if turn.text and not turn.value and turn.understanding.urgent:
        turn.park()
        return False
    if turn.step == "what":
        if not turn.text:
            await prompt(turn)
            return True
        if len(turn.text) >= DETAILED:
            await _submit(turn, turn.text, "")
        else:
            turn.goto("details", what=turn.text)
            await prompt(turn)
        return True
    if turn.step == "details":
        if _asks_something_else(turn):
            # The details were optional: record the complaint as told, then answer this.
            await _submit(turn, str(turn.data.get("what", "")), "")
            return False
        details = "" if turn.value == "complaint:skip" else turn.text
        await _submit(turn, str(turn.data.get("what", "")), details)
        return True
    return False


def _asks_something_else(turn: Turn) -> bool:
    """Asked when and who, the owner asks a question of their own ("快递柜在哪")."""
    if turn.value or len(turn.text) < 4:
        return False
    meaning = turn.understanding
    return meaning.kind == "enquiry" and meaning.confidence >= SWITCH_CONFIDENCE


async def _submit(turn: Turn, what: str, details: str) -> None:
    assert turn.owner is not None and turn.estate is not None
    description = f"{what}\n{details}".strip()
    ticket = await tickets.open_ticket(
        turn.session,
        kind="complaint",
        estate_id=turn.estate.id,
        owner_id=turn.owner.id,
        identity_id=turn.identity.id,
        actor=Actor.of_owner(turn.owner),
        channel=turn.identity.channel,
        summary=what,
        description=description,
        language=turn.lang,
        now=turn.now,
    )
    turn.finish()
    turn.ticket_id = ticket.id
    owner_of = await turn.session.get(Staff, ticket.ambassador_id) if ticket.ambassador_id else None
    first = await next_promise(turn.session, ticket)
    zone = ZoneInfo(turn.estate.timezone)
    turn.say(
        "complaint.recorded",
        number=ticket.number,
        owner=f"{owner_of.shown_name} {owner_of.phone}".strip()
        if owner_of
        else turn.tr("card.to_be_assigned"),
        first_response=when(first.due_at, turn.lang, zone) if first else "",
    )
