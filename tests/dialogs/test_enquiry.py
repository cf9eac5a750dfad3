"""Enquiries: knowledge-base answer with "did this help?"; no answer → staff."""

from __future__ import annotations

from backend.composition import Runtime
from tests.dialogs.helpers import conversation_of, tickets_of
from tests.fakes.chat import Chat


async def test_answered_from_the_knowledge_base(zhang: Chat, runtime: Runtime) -> None:
    reply = await zhang.say("物业费怎么交？")
    assert "2.80 元/平方米/月" in reply
    assert zhang.buttons() == ["kb:yes:property-fee", "kb:no:property-fee"]
    assert "很高兴" in await zhang.tap("kb:yes")
    assert await tickets_of(runtime.db, "demo-session") == []


async def test_not_helpful_opens_an_enquiry_and_hands_over(emily: Chat, runtime: Runtime) -> None:
    reply = await emily.say("Where are the parcel lockers?")
    assert "south and north gate lobbies" in reply
    reply = await emily.tap("kb:no")
    assert "passed your question to a colleague (ticket E-" in reply
    [ticket] = await tickets_of(runtime.db, "demo-session-b")
    assert ticket.kind == "enquiry" and ticket.summary == "Where are the parcel lockers?"
    conversation = await conversation_of(runtime.db, "demo-session-b")
    assert conversation is not None and conversation.handoff_requested_at is not None


async def test_no_good_answer_goes_to_staff(zhang: Chat, runtime: Runtime) -> None:
    reply = await zhang.say("请问小区业委会下次开会是什么时候？")
    assert "已转给工作人员" in reply
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.kind == "enquiry"


async def test_estate_specific_answers(zhang: Chat, emily: Chat) -> None:
    assert "阳光花园装修时间" in await zhang.say("周末可以装修吗")
    assert "Lakeside Court renovation hours" in await emily.say(
        "Can renovation work be done on weekends?"
    )


async def test_an_unverified_user_may_ask_general_questions(
    stranger: Chat, runtime: Runtime
) -> None:
    reply = await stranger.say("How much is the renovation deposit?")
    assert "RMB 3,000" in reply
    reply = await stranger.say("周末可以装修吗")  # an estate entry: not for an unknown user
    assert "阳光花园装修时间" not in reply
