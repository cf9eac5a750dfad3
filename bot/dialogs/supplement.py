"""An owner adds to a ticket already open: "补充一下，漏水在阳台左边", "add: the code is
4412", a photo sent after the repair card. It goes onto that ticket's record for the
colleague handling it instead of opening a second ticket for the same problem; a
button takes it back out when it was a new problem after all.
"""

from __future__ import annotations

import re
from datetime import timedelta

from backend import tickets
from backend.actors import Actor
from backend.models import Message, Ticket
from bot.dialogs.context import Turn

# Only a ticket opened this recently takes an addition without its number; a photo
# alone only one opened from this very chat within the hour or two after the card.
RECENT = timedelta(hours=24)
PHOTO_RECENT = timedelta(hours=2)
EMERGENCY_RECENT = timedelta(hours=1)
_GREETING = r"(?:(?:你好|您好|hi|hello)[\s,，!！]*)?"
_CUE = re.compile(
    _GREETING + r"(?:再?补充(?:一下|一点|几句|说明)?|追加(?:一下)?|忘了说|忘记说了?|"
    r"to add|add(?:ing)?\s*[:：]|adding to (?:that|this|my (?:report|repair|complaint))|"
    r"i forgot to (?:mention|say)|forgot to (?:mention|say)|one more thing|p\.?s\.?(?=[\s:：,，])|"
    r"update\s*[:：])"
    r"[\s:：,，.。!！\-—]*",
    re.I,
)
_NUMBER = re.compile(rf"\b({tickets.NUMBER_PATTERN})\b[\s:：,，.。\-—]*", re.I)


def photos_of(turn: Turn) -> list[str]:
    return [m.ref for m in turn.inbound.media if m.kind == "photo"]


async def from_words(turn: Turn) -> bool:
    """ "补充…" / "add: …": onto the ticket it names, or the one this chat opened last."""
    cue = _CUE.match(turn.text)
    if cue is None or not turn.verified:
        return False
    rest = turn.text[cue.end() :]
    number = _NUMBER.match(rest)
    ticket = await _target(turn, number.group(1) if number else None)
    if ticket is None:
        return False  # nothing open to add to: the message is read as it stands
    if number:
        rest = rest[number.end() :]
    if not rest.strip() and not photos_of(turn):
        turn.start("supplement", "content", ticket=ticket.id)
        turn.say("supplement.ask", number=ticket.number)
        return True
    await _attach(turn, ticket, rest)
    return True


async def photo_after_ticket(turn: Turn) -> bool:
    """A photo with nothing else, after this chat opened a ticket: evidence for it."""
    if not turn.verified:
        return False
    ticket = await tickets.open_of_chat(
        turn.session, None, turn.identity.id, since=turn.now - PHOTO_RECENT
    )
    if ticket is None:
        return False
    await _attach(turn, ticket, "")
    return True


async def after_emergency(turn: Turn) -> bool:
    """Within the hour after an emergency reported from this chat, what is neither a request
    nor a question ("人已经出来了", "水已经停了") is news for the people on their way: it
    goes onto the urgent ticket, verified owner or not (the chat opened it), with the
    "it's a new problem" button in case it was not."""
    since = turn.now - EMERGENCY_RECENT
    if turn.conversation.updated_at < since:
        return False  # nothing said here within the hour: no emergency either (no query)
    ticket = await tickets.open_of_chat(
        turn.session, None, turn.identity.id, since=since, urgent=True
    )
    if ticket is None:
        return False
    await _attach(turn, ticket, turn.text)
    return True


async def prompt(turn: Turn) -> None:
    ticket = await turn.session.get(Ticket, turn.data.get("ticket"))
    if ticket is None:
        turn.finish()
        return
    turn.say("supplement.ask", number=ticket.number)


async def handle(turn: Turn) -> bool:
    """The addition asked for by "补充" alone; an emergency or a button goes its own way."""
    if turn.value or (turn.text and turn.understanding.urgent):
        turn.finish()
        return False
    ticket = await turn.session.get(Ticket, turn.data.get("ticket"))
    turn.finish()
    if ticket is None or not turn.owns(ticket):
        return False
    if not turn.text and not photos_of(turn):
        return False
    await _attach(turn, ticket, turn.text)
    return True


async def withdraw(turn: Turn, value: str) -> tuple[str, list[str]] | None:
    """ "It's a new problem": take the addition back off its ticket and return what it
    said (text without the "补充", photos); None when there is nothing left to take back."""
    try:
        message_id = int(value.split(":")[2])
    except (IndexError, ValueError):
        return None
    message = await turn.session.get(Message, message_id)
    if message is None or message.identity_id != turn.identity.id or message.ticket_id is None:
        return None
    ticket = await turn.session.get(Ticket, message.ticket_id)
    event = await tickets.withdraw_from_owner(turn.session, ticket, message_id) if ticket else None
    if event is None:
        return None
    message.ticket_id = None
    return event.note, list(event.data.get("photos", []))


async def _target(turn: Turn, number: str | None) -> Ticket | None:
    assert turn.owner is not None
    return await tickets.open_of_chat(
        turn.session,
        turn.owner.id,
        turn.identity.id,
        number=number,
        since=None if number else turn.now - RECENT,
    )


async def add_to(
    turn: Turn, ticket: Ticket, text: str, photos: list[str], *, message_id: int
) -> None:
    """Put what the owner said (``message_id``) on ``ticket``; the replies are about it."""
    await tickets.add_from_owner(
        turn.session,
        ticket,
        Actor.of_owner(turn.owner) if turn.owner else Actor.of_chat(turn.identity),
        text,
        photos,
        message_id=message_id,
        now=turn.now,
    )
    turn.ticket_id = ticket.id


async def _attach(turn: Turn, ticket: Ticket, text: str) -> None:
    photos = photos_of(turn)
    await add_to(turn, ticket, text, photos, message_id=turn.message_id)
    key = "supplement.added_photo" if photos and not text.strip() else "supplement.added"
    turn.say(
        key,
        turn.button("button.supplement_new", f"supp:new:{turn.message_id}"),
        number=ticket.number,
        summary=ticket.summary,
    )
