"""``action_open_repair`` and ``action_emergency_details``.

The site's Rasa collects what it likes (slots ``description``, ``location``, ``item``,
``visit_time``, ``phone``); anything it left out is read from the owner's own words,
so a one-line report still makes a complete ticket. No confirmation step: the site's
assistant decides when to call the action.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.errors import DomainError
from backend.fields import normalize_phone
from backend.notices import repair_card
from bot.actions.base import OwnerDeskAction
from bot.actions.common import CHANNEL, Caller, EventList, Replies, latest_text, slot_text
from bot.actions.emergency import add_details
from bot.dialogs.repair import ASKING, TIMES
from bot.intents.entities import extract_entities

# What the ticket needs: (slot, Rasa entity, OwnerDesk entity).
FIELDS = {
    "location": ("location", "location", "location"),
    "item": ("item", "item", "item"),
    "time": ("visit_time", "visit_time", "time"),
    "phone": ("phone", "phone", "phone"),
}


def _given(caller: Caller, field: str, description: str) -> str:
    """The site's slot, else its NLU's entity, else what OwnerDesk reads in the words."""
    slot, entity, ours = FIELDS[field]
    value = caller.slot(slot) or next(iter(caller.tracker.get_latest_entity_values(entity)), "")
    if value:
        value = str(value).strip()
        if field in ("location", "item"):  # "卫生间" → "bathroom", so repeats are counted
            value = extract_entities(value).get(field) or value
        return value
    for text in (description, caller.text):
        if text and (found := caller.understand(text).entities.get(ours)):
            return found
    return ""


def _phone(raw: str) -> str:
    """A callable number, or "" so the ticket takes the phone on the owner's file."""
    try:
        return normalize_phone(raw) if raw else ""
    except DomainError:
        return ""


class ActionOpenRepair(OwnerDeskAction):
    """Opens a repair ticket for the bound owner and utters the repair card."""

    action_name = "action_open_repair"

    def request_text(self, tracker: Tracker) -> str:
        return slot_text(tracker, "description") or latest_text(tracker)

    async def act(self, session: AsyncSession, caller: Caller, replies: Replies) -> EventList:
        if caller.owner is None or caller.estate is None:
            replies.say("binding.intro")  # the site verifies; no ticket, no data
            return []
        description = self.request_text(caller.tracker)
        if not description or ASKING.match(description):
            replies.say("repair.ask_what")
            return []
        when = _given(caller, "time", description)
        ticket = await tickets.open_ticket(
            session,
            kind="repair",
            estate_id=caller.estate.id,
            owner_id=caller.owner.id,
            identity_id=caller.identity.id,
            actor=Actor.of_owner(caller.owner),
            channel=CHANNEL,
            summary=description,
            description=description,
            category=caller.understand(description).category or "other",
            location=_given(caller, "location", description),
            item=_given(caller, "item", description),
            contact_phone=_phone(_given(caller, "phone", description)),
            preferred_time=replies.tr(f"time.{when}") if when in TIMES else when,
            language=caller.lang,
            now=caller.now,
        )
        replies.say_text((await repair_card(session, ticket, caller.lang)).text)
        return [SlotSet("ticket_number", ticket.number)]


class ActionEmergencyDetails(OwnerDeskAction):
    """Adds the reporter's reply (unit, location, phone) to the urgent ticket in the
    ``ticket_number`` slot, if this sender opened it; otherwise says nothing."""

    action_name = "action_emergency_details"
    emergencies = False  # more words about the emergency already being handled

    async def act(self, session: AsyncSession, caller: Caller, replies: Replies) -> EventList:
        number = caller.slot("ticket_number")
        if number:
            await add_details(session, caller, replies, number)
        return []
