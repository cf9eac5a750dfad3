"""转人工 / talk to a person: the conversation goes to the staff console.

While a colleague holds it (or the owner is waiting for one) the bot stays silent
except for commands; staff hand it back from the console.
"""

from __future__ import annotations

from bot.dialogs.context import Turn


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
