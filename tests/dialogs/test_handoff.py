"""转人工 / talk to a person: staff take the conversation, the bot keeps quiet."""

from __future__ import annotations

from sqlalchemy import select

from backend import desk
from backend.composition import Runtime
from backend.models import ChannelIdentity, Staff
from tests.dialogs.helpers import conversation_of, outbox_to, tickets_of
from tests.fakes.chat import Chat, Clock


async def staff_named(runtime: Runtime, username: str) -> Staff:
    async with runtime.db.session() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None
        return staff


async def take_over(runtime: Runtime, session_id: str, username: str) -> None:
    """The colleague ``username`` takes the chat of web-chat session ``session_id``."""
    agent = await staff_named(runtime, username)
    async with runtime.db.session() as s:
        identity = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == session_id)
        )
        assert identity is not None
        await desk.take_over(s, identity.id, agent)


async def test_handoff_then_staff_reply_reaches_the_owner(zhang: Chat, runtime: Runtime) -> None:
    assert "转接人工客服" in await zhang.say("转人工")
    assert await zhang.send("你好，在吗？") == []  # waiting for a colleague: the bot is silent
    agent = await staff_named(runtime, "agent.a")
    async with runtime.db.session() as s:
        identity = await s.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == "demo-session")
        )
        assert identity is not None
        await desk.take_over(s, identity.id, agent)
        await desk.reply(
            s, agent, "您好，我是客户大使李娜，请问有什么可以帮您？", identity=identity
        )
    rows = await outbox_to(runtime.db, "demo-session")
    assert rows[-1].payload["text"].startswith("您好，我是客户大使李娜")
    assert await zhang.send("客厅的灯不亮了") == []  # held by staff: no bot reply
    assert "English" in " ".join(
        b.label for m in await zhang.send("帮助") for b in m.buttons
    )  # commands still work
    async with runtime.db.session() as s:
        await desk.hand_back(s, identity.id)
    assert "什么时候上门" in await zhang.say("客厅的灯不亮了")


async def test_english_handoff_can_be_withdrawn(emily: Chat, runtime: Runtime) -> None:
    await emily.transcript(
        [
            ("talk to a person", r"asked a colleague to take over"),
            ("tap:cmd:cancel", r"back with the assistant"),
            ("hello", r"How can I help"),
        ]
    )
    conversation = await conversation_of(runtime.db, "demo-session-b")
    assert conversation is not None and conversation.handoff_requested_at is None


async def test_a_waiting_owner_hears_now_and_then_that_messages_arrive(
    zhang: Chat, emily: Chat, runtime: Runtime, clock: Clock
) -> None:
    await zhang.say("转人工")
    clock.advance(minutes=3)
    assert await zhang.send("在吗？") == []  # just told a colleague will reply
    clock.advance(minutes=10)
    reply = await zhang.say("还有人吗")
    assert "收到，已转给工作人员" in reply and zhang.buttons() == ["cmd:cancel"]
    clock.advance(minutes=5)
    assert await zhang.send("？？") == []  # not again within ten minutes
    await emily.say("talk to a person")
    clock.advance(minutes=11)
    assert "A colleague will reply here" in await emily.say("hello? anyone there")
    # Once a colleague holds the chat, the bot says nothing more.
    await take_over(runtime, "demo-session", "agent.a")
    clock.advance(minutes=30)
    assert await zhang.send("你好") == []


async def test_an_emergency_while_waiting_is_not_left_waiting(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    await zhang.say("转人工")
    reply = await zhang.say("家里有很重的煤气味，怎么办")
    assert "燃气" in reply or "煤气" in reply
    [ticket] = [t for t in await tickets_of(runtime.db, "demo-session") if t.urgent]
    conversation = await conversation_of(runtime.db, "demo-session")
    assert conversation is not None and conversation.handoff_requested_at is not None
    # A colleague holding the chat reads it and acts: the bot does not step in.
    await emily.say("talk to a person")
    await take_over(runtime, "demo-session-b", "agent.b")
    assert await emily.send("there's smoke coming from the meter box!") == []
    assert ticket.number.startswith("R-")
