"""Enquiries: knowledge-base answer with "did this help?"; no answer → staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend import desk, tickets
from backend.actors import SYSTEM
from backend.callbacks import run_callbacks
from backend.composition import Runtime
from backend.models import KbEntry, Ticket
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


async def test_a_week_after_staff_answered_the_owner_says_whether_it_is_settled(
    emily: Chat, zhang: Chat, runtime: Runtime
) -> None:
    """The property-service callback, both answers, both languages."""
    await emily.say("Where are the parcel lockers?")
    await emily.tap("kb:no")
    await zhang.say("请问小区业委会下次开会是什么时候？")
    [english] = await tickets_of(runtime.db, "demo-session-b")
    [chinese] = await tickets_of(runtime.db, "demo-session")
    answered = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    async with runtime.db.session() as s:
        for ticket in (english, chinese):
            await tickets.transition(
                s, await s.get_one(Ticket, ticket.id), "answered", SYSTEM, now=answered
            )
        report = await run_callbacks(s, answered + timedelta(days=1))
    assert report.done["enquiry_callback"] == 2

    # Both chats still wait for a colleague (the bot keeps quiet), yet the answer counts.
    waiting = await conversation_of(runtime.db, "demo-session-b")
    assert waiting is not None and waiting.handoff_requested_at is not None
    assert await emily.say("hello?") == ""
    reply = await emily.send("Not yet", value=f"enq:unsettled:{english.id}")
    assert "reopened " + english.number in Chat.text(reply)
    reply = await zhang.send("✅ 已解决", value=f"enq:settled:{chinese.id}")
    assert "很高兴问题已经解决" in Chat.text(reply)
    # Someone else's ticket number in a forged button does nothing.
    forged = await zhang.send("还没有", value=f"enq:unsettled:{english.id}")
    assert "没有找到您的这条咨询" in Chat.text(forged)
    async with runtime.db.session() as s:
        assert (await s.get_one(Ticket, english.id)).state == "open"
        assert (await s.get_one(Ticket, chinese.id)).state == "closed"


async def test_the_callback_answered_in_words(emily: Chat, zhang: Chat, runtime: Runtime) -> None:
    """A WeChat template carries no buttons: "已解决" / "not yet" count for the enquiry
    whose question was the last thing that happened to it."""
    await emily.say("Where are the parcel lockers?")
    await emily.tap("kb:no")
    await zhang.say("请问小区业委会下次开会是什么时候？")
    [english] = await tickets_of(runtime.db, "demo-session-b")
    [chinese] = await tickets_of(runtime.db, "demo-session")
    answered = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # the chats' clock: 26 Nov 02:00
    async with runtime.db.session() as s:
        for ticket in (english, chinese):
            await desk.hand_back(s, ticket.identity_id or 0)  # the colleague is done
            await tickets.transition(
                s, await s.get_one(Ticket, ticket.id), "answered", SYSTEM, now=answered
            )
    assert "很高兴问题已经解决" not in await zhang.say("已解决")  # not asked yet
    async with runtime.db.session() as s:
        await run_callbacks(s, answered + timedelta(days=1))
    assert "reopened " + english.number in await emily.say("Not yet!")
    assert "很高兴问题已经解决" in await zhang.say("已解决。")
    assert "很高兴问题已经解决" not in await zhang.say("已解决")  # answered: once
    async with runtime.db.session() as s:
        assert (await s.get_one(Ticket, english.id)).state == "open"
        assert (await s.get_one(Ticket, chinese.id)).state == "closed"


async def test_close_but_unsure_offers_did_you_mean(zhang: Chat, runtime: Runtime) -> None:
    reply = await zhang.say("停车费怎么收的")
    assert "您想问的是下面哪一个" in reply
    labels = [b.label for m in zhang.last for b in m.buttons]
    assert "访客停车怎么收费" in labels and "停车月卡多少钱" in labels
    assert labels[-1] == "都不是，转人工" and len(labels) <= 4
    permit = next(b.value for m in zhang.last for b in m.buttons if b.label == "停车月卡多少钱")
    reply = zhang.text(await zhang.send("停车月卡多少钱", value=permit))
    assert "地下车位 300 元/月" in reply
    assert zhang.buttons() == ["kb:yes:parking-permit", "kb:no:parking-permit"]
    assert await tickets_of(runtime.db, "demo-session") == []
    # Not what was asked after all: the colleague sees the owner's own question.
    assert "已转给工作人员" in await zhang.tap("kb:no")
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.summary == "停车费怎么收的"


async def test_none_of_the_suggestions_goes_to_staff_and_typing_reads_afresh(
    zhang: Chat, runtime: Runtime
) -> None:
    await zhang.say("停车费怎么收的")
    assert "2.80 元/平方米/月" in await zhang.say("物业费怎么交？")  # typed, not tapped
    await zhang.say("停车费怎么收的")
    assert "已转给工作人员" in await zhang.tap("kb:no:")
    [ticket] = await tickets_of(runtime.db, "demo-session")
    assert ticket.summary == "停车费怎么收的"
    # Another estate's entry, picked with a forged button, is not shown.
    async with runtime.db.session() as s:
        other = await s.scalar(select(KbEntry.id).where(KbEntry.key == "property-fee-b"))
    await zhang.send("转人工")
    await zhang.send("取消")
    reply = zhang.text(await zhang.send("x", value=f"kb:pick:{other}"))
    assert "S$" not in reply and "GIRO" not in reply
