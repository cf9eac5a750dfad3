"""``action_ticket_status``: the owner's open tickets, or one by number.

Only the bound owner's own tickets: someone else's number is answered exactly like one
that does not exist, and an unbound sender sees nothing at all.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle, tickets
from backend.models import Ticket, utcnow
from backend.notices import status_line
from bot.actions.base import OwnerDeskAction
from bot.actions.common import Caller, EventList, Replies

SHOWN = 5
TICKET_NUMBER = tickets.NUMBER_IN_TEXT


def wanted_number(caller: Caller) -> str | None:
    """A number in the message first (the owner's latest word), else the slot."""
    found = TICKET_NUMBER.search(caller.text) or TICKET_NUMBER.search(caller.slot("ticket_number"))
    return found.group(1).upper() if found else None


class ActionTicketStatus(OwnerDeskAction):
    action_name = "action_ticket_status"
    emergencies = False  # "电梯困人那单怎么样了" asks about an emergency, it is not one

    async def act(self, session: AsyncSession, caller: Caller, replies: Replies) -> EventList:
        if caller.owner is None or caller.estate is None:
            replies.say("binding.intro")
            return []
        zone = ZoneInfo(caller.estate.timezone)
        number = wanted_number(caller)
        if number is not None:
            ticket = await session.scalar(
                select(Ticket).where(Ticket.number == number, Ticket.owner_id == caller.owner.id)
            )
            if ticket is None:
                replies.say("status.not_found", number=number)
            else:
                replies.say_text(await _line(session, replies, ticket, zone))
            return []
        rows = list(
            await session.scalars(
                select(Ticket)
                .where(
                    Ticket.owner_id == caller.owner.id,
                    Ticket.state.not_in([lifecycle.CLOSED, lifecycle.CANCELLED]),
                )
                .order_by(Ticket.created_at.desc())
                .limit(SHOWN)
            )
        )
        if not rows:
            replies.say("status.none")
            return []
        lines = [await _line(session, replies, ticket, zone) for ticket in rows]
        replies.say_text(replies.tr("status.header", count=len(rows)) + "\n" + "\n".join(lines))
        return []


async def _line(session: AsyncSession, replies: Replies, ticket: Ticket, zone: ZoneInfo) -> str:
    return await status_line(session, ticket, replies.lang, zone, utcnow())
