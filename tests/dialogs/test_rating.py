"""Rating after the callback: one tap, an optional comment; a low rating reopens."""

from __future__ import annotations

from sqlalchemy import select

from backend import desk
from backend.actors import SYSTEM
from backend.composition import Runtime
from backend.messaging import OutboundMessage
from backend.models import Rating, Staff, Ticket
from tests.dialogs.helpers import outbox_to, tickets_of
from tests.fakes.chat import Chat


async def repair_at_callback(chat: Chat, runtime: Runtime, text: str, technician: str) -> Ticket:
    await chat.say(text)
    await chat.tap("time:asap")
    await chat.tap("repair:submit")
    [ticket] = await tickets_of(runtime.db, chat.session)
    async with runtime.db.session() as s:
        ticket = await s.get(Ticket, ticket.id)  # type: ignore[assignment]
        tech = await s.scalar(select(Staff).where(Staff.username == technician))
        assert ticket is not None and tech is not None
        await desk.move(s, ticket, "dispatched", SYSTEM, assignee_id=tech.id)
        await desk.move(s, ticket, "on_site", SYSTEM)
        await desk.move(s, ticket, "done", SYSTEM)
        await desk.move(s, ticket, "callback", SYSTEM)
    return ticket


async def test_updates_reach_the_owner_and_a_good_rating_closes(
    zhang: Chat, runtime: Runtime
) -> None:
    ticket = await repair_at_callback(zhang, runtime, "卧室插座没电了", "tech.a")
    texts = [row.payload["text"] for row in await outbox_to(runtime.db, "demo-session")]
    assert any("维修师傅：赵师傅" in t for t in texts)  # repair card with the named technician
    assert any("已到达现场" in t for t in texts) and any("维修完成" in t for t in texts)
    callback = (await outbox_to(runtime.db, "demo-session"))[-1].payload
    assert "维修回访" in callback["text"]
    zhang.last = [
        __import__("backend.messaging", fromlist=["OutboundMessage"]).OutboundMessage.from_payload(
            callback
        )
    ]
    assert "感谢您的评价" in await zhang.tap(f"rate:{ticket.id}:5")
    assert "已记录您的意见" in await zhang.say("师傅很专业，点赞")
    async with runtime.db.session() as s:
        rating = await s.scalar(select(Rating).where(Rating.ticket_id == ticket.id))
        fresh = await s.get(Ticket, ticket.id)
    assert rating is not None and rating.score == 5 and rating.comment == "师傅很专业，点赞"
    assert fresh is not None and fresh.state == "closed"
    assert "已经评价过" in Chat.text(await zhang.send("满意", value=f"rate:{ticket.id}:4"))


async def test_a_low_rating_reopens_for_the_supervisor(emily: Chat, runtime: Runtime) -> None:
    ticket = await repair_at_callback(
        emily, runtime, "The bathroom extractor fan is not working", "tech.b"
    )
    emily.last = [
        OutboundMessage.from_payload((await outbox_to(runtime.db, "demo-session-b"))[-1].payload)
    ]
    reply = await emily.tap(f"rate:{ticket.id}:1")
    assert "reopened" in reply and ticket.number in reply
    assert "Thanks for your feedback" in await emily.tap("rating:skip")
    async with runtime.db.session() as s:
        fresh = await s.get(Ticket, ticket.id)
    assert (
        fresh is not None
        and fresh.state == "received"
        and fresh.is_repeat
        and fresh.escalation_level == 1
    )


async def test_nobody_else_can_rate_a_ticket(zhang: Chat, emily: Chat, runtime: Runtime) -> None:
    ticket = await repair_at_callback(zhang, runtime, "阳台地漏反味", "tech.a")
    reply = await emily.send("5", value=f"rate:{ticket.id}:1")
    assert "couldn't find a ticket" in Chat.text(reply)
    async with runtime.db.session() as s:
        assert await s.scalar(select(Rating).where(Rating.ticket_id == ticket.id)) is None


async def test_a_rating_in_words_counts_when_a_ticket_waits_for_one(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    """On WeChat a callback outside the 48-hour window is a template: no buttons to tap."""
    assert "评价" not in await zhang.say("非常满意")  # nothing waits for a rating: smalltalk
    ticket = await repair_at_callback(zhang, runtime, "卧室插座没电了", "tech.a")
    assert "感谢您的评价" in await zhang.say("非常满意！")
    english = await repair_at_callback(
        emily, runtime, "The bathroom extractor fan is not working", "tech.b"
    )
    assert "reopened" in await emily.say("Not satisfied.")
    # Rated already: "满意" now is the optional comment, not a second rating.
    assert "已记录您的意见" in await zhang.say("满意")
    async with runtime.db.session() as s:
        scores = {
            r.ticket_id: r.score
            for r in await s.scalars(
                select(Rating).where(Rating.ticket_id.in_([ticket.id, english.id]))
            )
        }
        fresh = await s.get(Ticket, ticket.id)
        reopened = await s.get(Ticket, english.id)
    assert scores == {ticket.id: 5, english.id: 2}
    assert fresh is not None and fresh.state == "closed"
    assert reopened is not None and reopened.state == "received"
