"""``action_open_complaint``: a complaint ticket with the colleague who owns it
(首问负责制) and when they will first be in touch, as the in-house complaint flow."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.i18n import when
from backend.models import Staff
from backend.notices import next_promise
from bot.actions.base import OwnerDeskAction
from bot.actions.common import CHANNEL, Caller, EventList, Replies, latest_text, slot_text
from bot.dialogs.complaint import ASKING


class ActionOpenComplaint(OwnerDeskAction):
    """Opens a complaint for the bound owner from ``description`` or the latest message."""

    action_name = "action_open_complaint"

    def request_text(self, tracker: Tracker) -> str:
        return slot_text(tracker, "description") or latest_text(tracker)

    async def act(self, session: AsyncSession, caller: Caller, replies: Replies) -> EventList:
        if caller.owner is None or caller.estate is None:
            replies.say("binding.intro")
            return []
        text = self.request_text(caller.tracker)
        if not text or ASKING.match(text):
            replies.say("complaint.ask_what")
            return []
        ticket = await tickets.open_ticket(
            session,
            kind="complaint",
            estate_id=caller.estate.id,
            owner_id=caller.owner.id,
            identity_id=caller.identity.id,
            actor=Actor.of_owner(caller.owner),
            channel=CHANNEL,
            summary=text,
            description=text,
            language=caller.lang,
            now=caller.now,
        )
        owner_of = await session.get(Staff, ticket.ambassador_id) if ticket.ambassador_id else None
        first = await next_promise(session, ticket)
        replies.say("complaint.sorry")
        replies.say(
            "complaint.recorded",
            number=ticket.number,
            owner=f"{owner_of.shown_name} {owner_of.phone}".strip()
            if owner_of
            else replies.tr("card.to_be_assigned"),
            first_response=when(first.due_at, caller.lang, ZoneInfo(caller.estate.timezone))
            if first
            else "",
        )
        return [SlotSet("ticket_number", ticket.number)]
