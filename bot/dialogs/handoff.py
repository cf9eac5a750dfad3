"""转人工 / talk to a person: the conversation goes to the staff console.

While a colleague holds it (or the owner is waiting for one) the bot stays silent
except for commands; staff hand it back from the console. An owner still waiting who
writes again hears at most every ``ACK_EVERY`` that the message arrived, so a wait
outside office hours is not taken for a dead line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.dialogs.context import Turn

ACK_EVERY = timedelta(minutes=10)


def is_with_staff(turn: Turn) -> bool:
    c = turn.conversation
    return c.held_by_staff_id is not None or c.handoff_requested_at is not None


def is_waiting(turn: Turn) -> bool:
    c = turn.conversation
    return c.held_by_staff_id is None and c.handoff_requested_at is not None


async def request(turn: Turn) -> None:
    c = turn.conversation
    if c.held_by_staff_id is not None:
        turn.say("handoff.already_with_staff")
        return
    turn.park()
    c.handoff_requested_at = c.handoff_requested_at or turn.now
    turn.say("handoff.requested", turn.button("button.back_to_bot", "cmd:cancel"))


async def withdraw(turn: Turn) -> None:
    turn.conversation.handoff_requested_at = None
    turn.say("handoff.withdrawn")


def acknowledge(turn: Turn) -> None:
    """Still waiting for a colleague: say the message arrived, unless said lately."""
    c = turn.conversation
    if not is_waiting(turn) or c.handoff_requested_at is None:
        return
    said = turn.data.get("waiting_ack_at")
    last = (
        max(c.handoff_requested_at, datetime.fromisoformat(said))
        if said
        else c.handoff_requested_at
    )
    if turn.now - last < ACK_EVERY:
        return
    turn.data["waiting_ack_at"] = turn.now.isoformat()
    turn.say("handoff.still_waiting", turn.button("button.back_to_bot", "cmd:cancel"))
