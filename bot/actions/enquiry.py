"""``action_answer_enquiry``: the knowledge base's answer in the owner's language, or
the question handed to staff. Unbound senders get company-wide entries only."""

from __future__ import annotations

from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.models import Company
from bot.actions.base import OwnerDeskAction
from bot.actions.common import CHANNEL, Caller, EventList, Replies
from bot.dialogs.enquiry import ASKING


class ActionAnswerEnquiry(OwnerDeskAction):
    """Sets ``kb_key`` to the entry that answered, or None when staff take the question
    (for a bound owner an enquiry ticket, in ``ticket_number``)."""

    action_name = "action_answer_enquiry"

    async def act(self, session: AsyncSession, caller: Caller, replies: Replies) -> EventList:
        question = caller.text
        if not question or ASKING.match(question):
            replies.say("enquiry.ask_question")
            return [SlotSet("kb_key", None)]
        company_id = (
            caller.estate.company_id
            if caller.estate is not None
            else await session.scalar(select(Company.id).order_by(Company.id).limit(1))
        )
        answer = None
        if company_id is not None:
            answer = await caller.runtime.kb.answer(
                session,
                company_id,
                question,
                estate_id=caller.estate.id if caller.estate else None,
                language=caller.lang,
            )
        if answer is not None:
            replies.say_text(answer.text)
            return [SlotSet("kb_key", answer.key)]
        if caller.owner is None or caller.estate is None:
            replies.say("enquiry.to_staff_guest")  # the site's handoff takes it from here
            return [SlotSet("kb_key", None)]
        ticket = await tickets.open_ticket(
            session,
            kind="enquiry",
            estate_id=caller.estate.id,
            owner_id=caller.owner.id,
            identity_id=caller.identity.id,
            actor=Actor.of_owner(caller.owner),
            channel=CHANNEL,
            summary=question,
            description=question,
            language=caller.lang,
            now=caller.now,
        )
        replies.say("enquiry.to_staff", number=ticket.number)
        return [SlotSet("kb_key", None), SlotSet("ticket_number", ticket.number)]
