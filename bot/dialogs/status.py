"""我的报修怎么样了 / status of my repair: the owner's open tickets, or one by number.

Only a verified owner's own tickets are shown: a ticket number of someone else's is
answered exactly like one that does not exist.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend import lifecycle
from backend.models import Ticket
from backend.notices import status_line
from bot.dialogs import binding
from bot.dialogs.context import Turn

SHOWN = 5


async def show(turn: Turn, number: re.Match[str] | None) -> None:
    if turn.owner is None or turn.estate is None:
        await binding.require(turn, {"kind": "status", "text": turn.text})
        return
    zone = ZoneInfo(turn.estate.timezone)
    if number is not None:
        ticket = await turn.session.scalar(
            select(Ticket).where(
                Ticket.number == number.group(1).upper(), Ticket.owner_id == turn.owner.id
            )
        )
        if ticket is None:
            turn.say("status.not_found", number=number.group(1).upper())
            return
        turn.say_text(await _line(turn, ticket, zone))
        return
    rows = list(
        await turn.session.scalars(
            select(Ticket)
            .where(
                Ticket.owner_id == turn.owner.id,
                Ticket.state.not_in([lifecycle.CLOSED, lifecycle.CANCELLED]),
            )
            .order_by(Ticket.created_at.desc())
            .limit(SHOWN)
        )
    )
    if not rows:
        turn.say("status.none")
        return
    lines = [await _line(turn, ticket, zone) for ticket in rows]
    turn.say_text(turn.tr("status.header", count=len(rows)) + "\n" + "\n".join(lines))


async def _line(turn: Turn, ticket: Ticket, zone: ZoneInfo) -> str:
    return await status_line(turn.session, ticket, turn.lang, zone, turn.now)
