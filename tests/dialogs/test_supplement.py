"""Adding to a ticket already open ("补充…", "add: …", a photo after the card): onto
its record, not a second ticket; "it's a new problem" takes it back out."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.messaging import Media
from backend.models import Message, Owner, Ticket, TicketEvent
from tests.dialogs.helpers import tickets_of
from tests.fakes.chat import Chat, Clock


async def _repair(chat: Chat, text: str = "厨房下水道堵了，明天上午来修") -> Ticket:
    await chat.say(text)
    await chat.tap("repair:submit")
    return (await tickets_of(chat.desk.db, chat.session))[-1]


async def _additions(runtime: Runtime, ticket_id: int) -> list[TicketEvent]:
    async with runtime.db.session() as s:
        rows = await s.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action == "owner_added")
            .order_by(TicketEvent.id)
        )
        return list(rows)


async def _ticket(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.db.session() as s:
        ticket = await s.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def test_added_words_go_onto_the_ticket_just_opened(zhang: Chat, runtime: Runtime) -> None:
    ticket = await _repair(zhang)
    assert "补充情况请以“补充”开头发送" in zhang.text(zhang.last)
    reply = await zhang.say("补充一下，堵的是洗碗池下面那根管子")
    assert f"已补充到工单 {ticket.number}" in reply and "负责的同事会看到" in reply
    [button] = zhang.buttons()
    assert button.startswith("supp:new:")
    assert len(await tickets_of(runtime.db, "demo-session")) == 1
    [added] = await _additions(runtime, ticket.id)
    assert added.note == "堵的是洗碗池下面那根管子" and added.actor_kind == "owner"
    async with runtime.db.session() as s:
        message = await s.get(Message, added.data["message_id"])
        assert message is not None and message.ticket_id == ticket.id


async def test_supplement_alone_asks_for_it_and_a_photo_is_kept(
    zhang: Chat, runtime: Runtime
) -> None:
    ticket = await _repair(zhang)
    assert f"请发送要补充到工单 {ticket.number} 的内容" in await zhang.say("补充")
    reply = zhang.text(await zhang.send(media=[Media("photo", "pipe-1")]))
    assert f"照片已补充到工单 {ticket.number}" in reply
    assert (await _ticket(runtime, ticket.id)).attachments == ["pipe-1"]
    # The flow is over: the next message is read as it stands.
    assert "有什么可以帮您" in await zhang.say("你好")


async def test_a_photo_after_the_card_is_evidence_for_that_ticket(
    zhang: Chat, runtime: Runtime, clock: Clock
) -> None:
    ticket = await _repair(zhang)
    clock.advance(minutes=30)
    reply = zhang.text(await zhang.send(media=[Media("photo", "sink-1")]))
    assert f"照片已补充到工单 {ticket.number}" in reply
    assert (await _ticket(runtime, ticket.id)).attachments == ["sink-1"]
    # Hours later a photo alone is a new report again.
    clock.advance(hours=3)
    reply = zhang.text(await zhang.send(media=[Media("photo", "wall-1")]))
    assert "照片已收到" in reply and "请描述一下需要维修的问题" in reply


async def test_a_new_problem_after_all_is_taken_back_and_answered(
    zhang: Chat, runtime: Runtime
) -> None:
    ticket = await _repair(zhang)
    await zhang.say("补充：卫生间的灯也不亮了")
    [tapped] = zhang.buttons()
    reply = await zhang.tap("supp:new")
    assert "什么时候上门" in reply
    assert await _additions(runtime, ticket.id) == []
    await zhang.tap("time:asap")
    assert "报修已受理" in await zhang.tap("repair:submit")
    first, second = await tickets_of(runtime.db, "demo-session")
    assert first.id == ticket.id and second.summary.startswith("卫生间的灯也不亮了")
    # The same button again: nothing left to take back.
    reply = zhang.text(await zhang.send("这是个新问题", value=tapped))
    assert "无法撤回" in reply


async def test_a_photo_taken_back_starts_a_repair_from_it(zhang: Chat, runtime: Runtime) -> None:
    ticket = await _repair(zhang)
    await zhang.send(media=[Media("photo", "door-1")])
    reply = await zhang.tap("supp:new")
    assert "照片已收到" in reply and "请描述一下需要维修的问题" in reply
    assert (await _ticket(runtime, ticket.id)).attachments == []
    await zhang.say("入户门锁坏了")
    await zhang.tap("loc:other")
    await zhang.tap("time:asap")
    await zhang.tap("repair:submit")
    assert (await tickets_of(runtime.db, "demo-session"))[-1].attachments == ["door-1"]


async def test_english_and_by_ticket_number_days_later(
    emily: Chat, zhang: Chat, runtime: Runtime, clock: Clock
) -> None:
    ticket = await _repair(emily, "The kitchen tap keeps dripping, please come tomorrow morning")
    reply = await emily.say("add: the access code for the gate is 4412")
    assert f"Added to ticket {ticket.number}" in reply
    assert [e.note for e in await _additions(runtime, ticket.id)] == [
        "the access code for the gate is 4412"
    ]
    clock.advance(days=3)
    # Past the day without a number: read as it stands (a new repair here).
    assert "When would you like" in await emily.say("add: the bathroom fan is broken too")
    await emily.say("cancel")
    reply = await emily.say(f"to add {ticket.number}: the tap is under the island")
    assert f"Added to ticket {ticket.number}" in reply
    # Someone else's number is not added to (and not shown).
    reply = await zhang.say(f"补充 {ticket.number} 我家也漏水")
    assert "已补充" not in reply and "dripping" not in reply


async def test_nothing_is_added_for_an_unverified_chat_or_to_a_closed_ticket(
    zhang: Chat, stranger: Chat, runtime: Runtime
) -> None:
    ticket = await _repair(zhang)
    async with runtime.db.session() as s:
        row = await s.get(Ticket, ticket.id)
        assert row is not None
        row.state = "closed"
        # The demo's own tickets of 张伟 are closed too: nothing open is left to add to.
        owner_id = row.owner_id
        for other in await s.scalars(select(Ticket).where(Ticket.owner_id == owner_id)):
            other.state = "closed"
        assert await s.get(Owner, owner_id) is not None
    reply = await zhang.say("补充一下，卫生间也漏水了")
    assert "已补充" not in reply and "什么时候上门" in reply
    assert "已补充" not in await stranger.say("补充一下，我家门口的灯坏了")


async def test_news_after_an_emergency_goes_onto_the_urgent_ticket(
    zhang: Chat, stranger: Chat, runtime: Runtime, clock: Clock
) -> None:
    await zhang.say("电梯困人了，3号楼，快来人")
    [urgent] = [t for t in await tickets_of(runtime.db, "demo-session") if t.urgent]
    reply = await zhang.say("好的谢谢，人已经出来了")
    assert f"已补充到工单 {urgent.number}" in reply
    assert [e.note for e in await _additions(runtime, urgent.id)] == ["好的谢谢，人已经出来了"]
    # A question is still answered as one; "not about that" is one tap away.
    assert "2.80 元/平方米/月" in await zhang.say("物业费怎么交？")
    assert "已补充到工单" in await zhang.say("我们已经出来了，在楼下等")
    assert "报修、投诉，还是咨询" in await zhang.tap("supp:new")  # read afresh: unclear
    # An hour later thanks are thanks again.
    clock.advance(hours=2)
    assert "不客气" in await zhang.say("谢谢")
    # The same for a chat not yet verified: the urgent ticket is the one it opened.
    await stranger.say("家里有很重的煤气味")
    await stranger.say("阳光花园A栋1单元102")  # where they are, asked for the supervisor
    [theirs] = [t for t in await tickets_of(runtime.db, "stranger-1") if t.urgent]
    assert f"已补充到工单 {theirs.number}" in await stranger.say("好的，已经开窗了，人在楼下")
    [added] = await _additions(runtime, theirs.id)
    assert added.actor_kind == "chat" and added.note == "好的，已经开窗了，人在楼下"
    # A new fault is not news about the emergency.
    assert "已补充" not in await zhang.say("厨房下水道堵了")
