"""转人工 / talk to a person: staff take the conversation, the bot keeps quiet."""

from __future__ import annotations

from sqlalchemy import select

from backend import desk
from backend.composition import Runtime
from backend.models import ChannelIdentity, Staff
from tests.dialogs.helpers import conversation_of, outbox_to
from tests.fakes.chat import Chat


async def staff_named(runtime: Runtime, username: str) -> Staff:
    async with runtime.db.session() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None
        return staff


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
    assert await zhang.send("卫生间漏水") == []  # held by staff: no bot reply
    assert "English" in " ".join(
        b.label for m in await zhang.send("帮助") for b in m.buttons
    )  # commands still work
    async with runtime.db.session() as s:
        await desk.hand_back(s, identity.id)
    assert "什么时候上门" in await zhang.say("卫生间漏水")


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
