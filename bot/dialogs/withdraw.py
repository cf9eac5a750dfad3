"""不用修了 / cancel my repair: an owner withdraws a ticket of theirs that staff could
still cancel (a repair before the work is done, a complaint before the reply), after
one confirmation; the promises stop and the console shows who withdrew it and why.
"""

from __future__ import annotations

import re

from backend import tickets
from backend.actors import Actor
from backend.errors import DomainError
from backend.messaging import Button
from backend.models import Ticket
from bot.dialogs.context import Turn

# Short messages only: a letter that mentions "取消" is about something else.
LONGEST = 60
_WITHDRAW = re.compile(
    rf"((取消|撤销|撤回|撤掉)\s*(一下)?\s*({tickets.NUMBER_PATTERN})?\s*"
    r"(这个|那个|这张|那张|我的|刚才的|刚刚的)?(的)?(报修|维修|工单|投诉|咨询)"
    rf"|(取消|撤销|撤回|cancel|withdraw)\s*(ticket\s*)?{tickets.NUMBER_PATTERN}"
    r"|不用(来)?修了|不用(师傅)?(来|上门)了|不需要(维修|上门|师傅来)了|不(报修|投诉)了"
    r"|cancel (my|the|this|that) (repair|ticket|request|complaint|report|enquiry)"
    r"|withdraw (my|the|this) (repair|ticket|request|complaint|report|enquiry)"
    r"|(no longer|don't|do not) need (the |a )?(repair|technician|plumber|electrician))",
    re.I,
)
_NUMBER = tickets.NUMBER_IN_TEXT
_KINDS = (("complaint", re.compile(r"投诉|complaint", re.I)),)


def asks(text: str) -> bool:
    return len(text) <= LONGEST and _WITHDRAW.search(text) is not None


async def from_words(turn: Turn) -> bool:
    """ "取消报修" / "cancel my repair": which ticket, then "sure?"."""
    if not turn.verified or not asks(turn.text):
        return False
    assert turn.owner is not None
    number = _NUMBER.search(turn.text)
    kind = next((k for k, words in _KINDS if words.search(turn.text)), None)
    if number is None and kind is None and re.search(r"报修|维修|修|repair|technician", turn.text):
        kind = "repair"
    found = await tickets.withdrawable(
        turn.session,
        turn.owner.id,
        turn.identity.id,
        number=number.group(1) if number else None,
        kind=None if number else kind,
    )
    if not found:
        turn.say("withdraw.none")
    elif len(found) == 1:
        _confirm(turn, found[0])
    else:
        turn.say(
            "withdraw.which",
            *(Button(f"{t.number} {t.summary[:16]}", f"wd:ask:{t.id}") for t in found),
            turn.button("button.withdraw_keep", "wd:keep:0"),
        )
    return True


async def button(turn: Turn, value: str) -> None:
    """``wd:ask:<id>`` (this one), ``wd:yes:<id>`` (sure), ``wd:keep:<id>`` (keep it)."""
    _, step, raw = [*value.split(":"), "", ""][:3]
    ticket = await turn.session.get(Ticket, int(raw)) if raw.isdigit() else None
    if step == "keep":
        turn.say("withdraw.kept", number=ticket.number if ticket else "")
        return
    if ticket is None or not turn.owns(ticket) or turn.owner is None:
        turn.say("withdraw.none")
        return
    if step == "ask":
        _confirm(turn, ticket)
        return
    try:
        await tickets.cancel(
            turn.session,
            ticket,
            f"withdrawn by the owner: {turn.data.get('withdraw_words') or turn.text}"[:500],
            Actor.of_owner(turn.owner),
            now=turn.now,
        )
    except DomainError:  # moved on meanwhile (dispatched and done, say)
        turn.say("withdraw.too_late", number=ticket.number)
        return
    turn.ticket_id = ticket.id
    turn.say("withdraw.done", number=ticket.number)


def _confirm(turn: Turn, ticket: Ticket) -> None:
    turn.data["withdraw_words"] = turn.text[:LONGEST]
    turn.say(
        "withdraw.confirm",
        turn.button("button.withdraw_yes", f"wd:yes:{ticket.id}"),
        turn.button("button.withdraw_keep", f"wd:keep:{ticket.id}"),
        number=ticket.number,
        summary=ticket.summary,
    )
