"""Console "waiting for a person": scope, reply, take over, hand back, roles."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.models import AuditEntry, ChannelIdentity, Conversation, OutboxItem, Ticket
from tests.fakes.chat import Chat
from tests.web.conftest import ConsoleClient


async def conversation(runtime: Runtime, session: str) -> Conversation:
    async with runtime.db.session() as s:
        found = await s.scalar(
            select(Conversation)
            .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
            .where(ChannelIdentity.external_id == session)
        )
        assert found is not None
        return found


async def ask_for_people(runtime: Runtime) -> tuple[Conversation, Conversation, Conversation]:
    """An owner of DEMO-A, an unverified guest and an owner of DEMO-B each want a person."""
    guest = Chat(runtime.desk, "walk-in")
    await guest.say("<b>hello</b> 我想问问题")
    for session in ("demo-session", "demo-session-b"):
        await Chat(runtime.desk, session).say("转人工")
    await guest.say("转人工")
    return (
        await conversation(runtime, "demo-session"),
        await conversation(runtime, "walk-in"),
        await conversation(runtime, "demo-session-b"),
    )


async def audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.db.session() as s:
        rows = await s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_type == "conversation")
            .order_by(AuditEntry.id)
        )
        return list(rows)


async def test_waiting_chats_of_the_visible_estates(
    console: ConsoleClient, runtime: Runtime
) -> None:
    mine, guest, other = await ask_for_people(runtime)
    assert mine.handoff_requested_at and guest.handoff_requested_at and other.handoff_requested_at
    await console.login("agent.a")
    queue = await console.http.get("/console")
    assert 'href="/console/conversations"' in queue.text and "2 位业主等待人工" in queue.text
    page = await console.http.get("/console/conversations")
    assert page.status_code == 200
    assert f'data-conversation="{mine.id}"' in page.text and "张伟" in page.text
    assert f'data-conversation="{guest.id}"' in page.text
    assert f'data-conversation="{other.id}"' not in page.text and "Emily" not in page.text
    assert "<b>hello</b>" not in page.text and "&lt;b&gt;hello&lt;/b&gt;" in page.text
    lines = await console.http.get(
        f"/console/conversations/{mine.id}/messages", headers={"HX-Request": "true"}
    )
    assert lines.status_code == 200 and "转人工" in lines.text and "<html" not in lines.text

    await console.post("/console/logout")
    await console.login("agent.b")
    page = await console.http.get("/console/conversations")
    assert f'data-conversation="{other.id}"' in page.text
    assert f'data-conversation="{guest.id}"' in page.text  # unverified: belongs to nobody yet
    assert f'data-conversation="{mine.id}"' not in page.text


async def test_reply_take_over_and_hand_back(console: ConsoleClient, runtime: Runtime) -> None:
    _, guest, _ = await ask_for_people(runtime)
    await console.login("agent.a")
    replied = await console.post(
        f"/console/conversations/{guest.id}/reply", text="您好，我是客服李娜，请讲。"
    )
    assert replied.status_code == 303
    async with runtime.db.session() as s:
        queued = await s.scalar(
            select(OutboxItem).where(OutboxItem.chat_id == "walk-in").order_by(OutboxItem.id.desc())
        )
        assert queued is not None and queued.payload["text"] == "您好，我是客服李娜，请讲。"
    empty = await console.post(f"/console/conversations/{guest.id}/reply", text="   ")
    assert empty.status_code == 303
    assert "a reply needs some text" in (await console.http.get("/console/conversations")).text

    taken = await console.post(f"/console/conversations/{guest.id}/take-over")
    assert taken.status_code == 303
    held = await conversation(runtime, "walk-in")
    me = (await console.http.get("/console")).text
    assert held.held_by_staff_id is not None
    assert "1 位业主等待人工" in me  # the guest is looked after now
    page = await console.http.get("/console/conversations")
    assert "李娜（客户大使） 接待中" in page.text

    back = await console.post(f"/console/conversations/{guest.id}/hand-back")
    assert back.status_code == 303
    released = await conversation(runtime, "walk-in")
    assert released.held_by_staff_id is None and released.handoff_requested_at is None
    page = await console.http.get("/console/conversations")
    assert f'data-conversation="{guest.id}"' not in page.text
    # handed back to the bot: no longer reachable from this page
    again = await console.post(f"/console/conversations/{guest.id}/reply", text="hi")
    assert again.status_code == 404
    assert await audit_actions(runtime) == ["conversation_reply", "take_over", "hand_back"]


async def test_another_estates_chat_is_not_found(console: ConsoleClient, runtime: Runtime) -> None:
    _, _, other = await ask_for_people(runtime)
    await console.login("agent.a")
    assert (
        await console.http.get(f"/console/conversations/{other.id}/messages")
    ).status_code == 404
    for action, form in (("reply", {"text": "hi"}), ("take-over", {}), ("hand-back", {})):
        response = await console.post(f"/console/conversations/{other.id}/{action}", **form)
        assert response.status_code == 404, action
    assert (await conversation(runtime, "demo-session-b")).held_by_staff_id is None
    assert await audit_actions(runtime) == []


async def test_roles_and_csrf(console: ConsoleClient, runtime: Runtime) -> None:
    mine, _, _ = await ask_for_people(runtime)
    await console.login("manager")
    page = await console.http.get("/console/conversations")
    assert page.status_code == 200 and f'data-conversation="{mine.id}"' in page.text
    assert f"/console/conversations/{mine.id}/take-over" not in page.text
    assert (
        await console.post(f"/console/conversations/{mine.id}/reply", text="hi")
    ).status_code == 403
    assert (await console.post(f"/console/conversations/{mine.id}/take-over")).status_code == 403
    await console.post("/console/logout")

    await console.login("tech.a")
    assert (await console.http.get("/console/conversations")).status_code == 403
    await console.post("/console/logout")

    await console.login("agent.a")
    forged = await console.http.post(f"/console/conversations/{mine.id}/take-over")
    assert forged.status_code == 403
    assert (await conversation(runtime, "demo-session")).held_by_staff_id is None


async def test_an_owners_addition_shows_on_the_ticket_escaped(
    console: ConsoleClient, runtime: Runtime
) -> None:
    zhang = Chat(runtime.desk, "demo-session")
    await zhang.say("厨房下水道堵了，明天上午来修")
    reply = await zhang.tap("repair:submit")
    number = reply.split("工单号：", 1)[1].split("\n", 1)[0]
    assert "已补充到工单" in await zhang.say("补充一下：<script>x()</script> 洗碗池下面")
    async with runtime.db.session() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
    await console.login("agent.a")
    page = await console.http.get(f"/console/tickets/{ticket.id}")
    assert page.status_code == 200 and "业主补充" in page.text
    assert "&lt;script&gt;x()&lt;/script&gt; 洗碗池下面" in page.text
    assert "<script>x()" not in page.text
