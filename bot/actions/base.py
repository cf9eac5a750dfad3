"""The base of every OwnerDesk action: one unit of work per call, replies uttered only
after it commits, and emergencies first whatever action the site's NLU chose."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import runtime
from bot.actions.common import (
    Caller,
    EventList,
    Replies,
    language_is_clear,
    latest_text,
    load_caller,
)
from bot.actions.emergency import advice_key, open_emergency

log = logging.getLogger(__name__)


class OwnerDeskAction(Action, ABC):
    """Runs ``act`` in its own session; what it says is uttered after the commit, so an
    owner is never told of a ticket that was rolled back. A failure is logged and
    answered with the apology rather than a 500 the Rasa user never hears about.

    An urgent message goes to the emergency path first whatever action the site's
    NLU chose (``emergencies``), as in the in-house router.
    """

    action_name: ClassVar[str]
    emergencies: ClassVar[bool] = True

    def name(self) -> str:
        return self.action_name

    def request_text(self, tracker: Tracker) -> str:
        """The words the request is about: the latest message unless a slot says more."""
        return latest_text(tracker)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventList:
        rt = runtime.current()
        text = self.request_text(tracker)
        # Urgency and the safety advice need no database: they survive its failure.
        meaning = rt.understand(text) if self.emergencies and text else None
        urgent = bool(meaning and meaning.urgent)
        replies = Replies(meaning.lang if meaning and language_is_clear(text) else "zh")
        if urgent:
            replies.advise(advice_key(text))
        try:
            async with rt.db.session() as session:
                caller = await load_caller(session, tracker, rt)
                replies.lang = caller.lang
                if urgent:
                    ticket = await open_emergency(session, caller, replies, text)
                    events: EventList = [SlotSet("ticket_number", ticket.number)]
                else:
                    events = await self.act(session, caller, replies)
                if self.emergencies:  # lets the site's rules follow an emergency up
                    events.append(SlotSet("urgent", urgent))
                verified = caller.owner is not None
        except Exception:
            log.exception("%s failed for sender %s", self.action_name, tracker.sender_id)
            for said in [*replies.advice(), replies.tr("error.sorry")]:
                dispatcher.utter_message(text=said)
            return []
        for said in [*replies.advice(), *replies.texts]:
            dispatcher.utter_message(text=said)
        return [*events, SlotSet("owner_verified", verified)]

    @abstractmethod
    async def act(self, session: AsyncSession, caller: Caller, replies: Replies) -> EventList:
        """Do the work in ``session``; say things through ``replies``; return events."""
