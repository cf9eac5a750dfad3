"""An enquiry: answered from the knowledge base with "did this help?"; no good answer,
or "no", opens an enquiry ticket and hands the conversation to staff."""

from __future__ import annotations

import re

from sqlalchemy import select

from backend import callbacks, tickets
from backend.actors import BOT, Actor
from backend.kb import KbAnswer
from backend.messaging import Button
from backend.models import Company, Ticket
from backend.vocabulary import Kind
from bot.dialogs.context import Turn

BUTTON_TEXT = 40  # characters of a suggested question shown on its button
ASKING = re.compile(
    r"^(我要|我想|想)?(咨询|问个问题|问一下|请问一下|咨询一下|i have a question|question|enquiry|"
    r"inquiry|i want to ask something|can i ask something)[?？!！。.]*$",
    re.I,
)


async def _company_id(turn: Turn) -> int | None:
    if turn.estate is not None:
        return turn.estate.company_id
    return await turn.session.scalar(select(Company.id).order_by(Company.id).limit(1))


async def start(turn: Turn) -> None:
    question = turn.text
    if not question or ASKING.match(question):
        turn.start("enquiry", "question")
        turn.say("enquiry.ask_question")
        return
    company_id = await _company_id(turn)
    if company_id is None:
        await to_staff(turn, question)
        return
    answer, suggested = await turn.services.kb.answer_or_suggest(
        turn.session,
        company_id,
        question,
        estate_id=turn.estate.id if turn.estate else None,
        language=turn.lang,
    )
    if answer is not None:
        _offer(turn, question, answer)
    elif suggested:
        # Close, not sure: "did you mean…?" costs one tap, a colleague's time costs more.
        turn.start("enquiry", "suggested", question=question)
        turn.say(
            "enquiry.did_you_mean",
            *(Button(s.question[:BUTTON_TEXT], f"kb:pick:{s.entry_id}") for s in suggested),
            turn.button("button.none_of_these", "kb:no:"),
        )
    else:
        await to_staff(turn, question)


def _offer(turn: Turn, question: str, answer: KbAnswer) -> None:
    turn.start("enquiry", "feedback", question=question, key=answer.key)
    turn.say_text(
        answer.text,
        turn.button("button.helpful", f"kb:yes:{answer.key}"),
        turn.button("button.not_helpful", f"kb:no:{answer.key}"),
    )


async def prompt(turn: Turn) -> None:
    turn.finish()
    turn.say("enquiry.ask_again")


async def handle(turn: Turn) -> bool:
    """The question asked for; anything typed after an answer is read afresh."""
    step = turn.step
    turn.finish()
    if step == "question" and turn.text and not turn.understanding.urgent:
        await start(turn)
        return True
    return False


async def feedback(turn: Turn, value: str) -> None:
    """ "Did this help?" answered, or one of the suggested questions picked."""
    question = str(turn.data.get("question", "")) if turn.flow == "enquiry" else ""
    turn.finish()
    if value.startswith("kb:yes"):
        turn.say("enquiry.glad")
        return
    if value.startswith("kb:pick:"):
        company_id = await _company_id(turn)
        entry = value.removeprefix("kb:pick:")
        answer = (
            await turn.services.kb.answer_entry(
                turn.session,
                company_id,
                int(entry),
                estate_id=turn.estate.id if turn.estate else None,
                language=turn.lang,
            )
            if company_id is not None and entry.isdigit()
            else None
        )
        if answer is not None:
            _offer(turn, question, answer)
            return
    await to_staff(turn, question)


async def to_staff(turn: Turn, question: str) -> None:
    """No answer the owner is happy with: a colleague takes over."""
    turn.conversation.handoff_requested_at = turn.conversation.handoff_requested_at or turn.now
    if turn.owner is None or turn.estate is None:
        turn.say("enquiry.to_staff_guest", turn.button("button.back_to_bot", "cmd:cancel"))
        return
    ticket = await tickets.open_ticket(
        turn.session,
        kind="enquiry",
        estate_id=turn.estate.id,
        owner_id=turn.owner.id,
        identity_id=turn.identity.id,
        actor=Actor.of_owner(turn.owner) if turn.owner else BOT,
        channel=turn.identity.channel,
        summary=question or turn.tr("enquiry.no_text"),
        description=question,
        language=turn.lang,
        now=turn.now,
    )
    turn.ticket_id = ticket.id
    turn.say(
        "enquiry.to_staff", turn.button("button.back_to_bot", "cmd:cancel"), number=ticket.number
    )


async def callback_answer(turn: Turn, value: str) -> None:
    """The owner's answer to "is it settled?" (``enq:settled:<id>`` / ``enq:unsettled:<id>``)."""
    try:
        _, answer, ticket_id = value.split(":")
        ticket = await turn.session.get(Ticket, int(ticket_id))
    except ValueError:
        answer, ticket = "", None
    if ticket is None or ticket.kind != Kind.ENQUIRY or not turn.owns(ticket):
        turn.say("enquiry.callback_unknown")
        return
    turn.ticket_id = ticket.id
    actor = Actor.of_owner(turn.owner) if turn.owner else BOT
    settled = answer == "settled"
    await callbacks.enquiry_answered(turn.session, ticket, settled, actor, now=turn.now)
    if settled:
        turn.say("enquiry.callback_settled")
    else:
        turn.say("enquiry.callback_reopened", number=ticket.number)


# Whole answers to "is it settled?" (a WeChat template has no buttons to tap).
_SETTLED = frozenset(
    {
        "已解决",
        "解决了",
        "已经解决",
        "已经解决了",
        "问题解决了",
        "都解决了",
        "settled",
        "resolved",
        "solved",
        "it's settled",
        "all settled",
        "yes settled",
    }
)
_UNSETTLED = frozenset(
    {
        "还没有",
        "没有",
        "没解决",
        "没有解决",
        "还没解决",
        "还没有解决",
        "未解决",
        "还没",
        "not yet",
        "no",
        "not settled",
        "unsettled",
        "not resolved",
        "not solved",
        "no not yet",
    }
)
_NOISE = re.compile(r"[\s。.!！,，~～、]+")


async def answer_in_words(turn: Turn) -> bool:
    """ "已解决" / "还没有" typed after the callback question, for the enquiry it asked about."""
    said = _NOISE.sub(" ", turn.text.lower()).strip() if len(turn.text) <= 30 else ""
    if said not in _SETTLED and said not in _UNSETTLED:
        return False
    ticket = await callbacks.enquiry_awaiting_answer(
        turn.session, turn.owner.id if turn.owner else None, turn.identity.id, turn.now
    )
    if ticket is None:
        return False
    verdict = "settled" if said in _SETTLED else "unsettled"
    await callback_answer(turn, f"enq:{verdict}:{ticket.id}")
    return True
