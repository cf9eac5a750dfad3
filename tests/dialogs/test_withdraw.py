"""不用修了 / cancel my repair: the owner withdraws a ticket staff could still cancel."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.models import Deadline, Owner, Ticket, TicketEvent
from tests.dialogs.helpers import tickets_of
from tests.fakes.chat import Chat


async def _own_tickets(runtime: Runtime, phone: str) -> list[Ticket]:
    async with runtime.db.session() as s:
        rows = await s.scalars(
            select(Ticket)
            .join(Owner, Owner.id == Ticket.owner_id)
            .where(Owner.phone == phone)
            .order_by(Ticket.id)
        )
        return list(rows)


async def test_withdraw_a_repair_after_one_confirmation(zhang: Chat, runtime: Runtime) -> None:
    await zhang.say("厨房水龙头关不紧，明天上午来修")
    await zhang.tap("repair:submit")
    [ticket] = await tickets_of(runtime.db, "demo-session")
    reply = await zhang.say(f"取消 {ticket.number} 这个报修")
    assert f"确定撤销 {ticket.number}（厨房水龙头关不紧，明天上午来修）吗" in reply
    assert zhang.buttons() == [f"wd:yes:{ticket.id}", f"wd:keep:{ticket.id}"]
    assert f"已撤销 {ticket.number}" in await zhang.tap("wd:yes")
    async with runtime.db.session() as s:
        row = await s.get(Ticket, ticket.id)
        assert row is not None and row.state == "cancelled"
        event = await s.scalar(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.to_state == "cancelled"
            )
        )
        assert event is not None and event.actor_kind == "owner"
        assert f"取消 {ticket.number} 这个报修" in event.note
        pending = await s.scalars(
            select(Deadline).where(Deadline.ticket_id == ticket.id, Deadline.state == "pending")
        )
        assert list(pending) == []
    # Nothing left that may be withdrawn: a clear answer.
    async with runtime.db.session() as s:
        for other in await s.scalars(select(Ticket).where(Ticket.owner_id == row.owner_id)):
            other.state = "done" if other.kind == "repair" else "closed"
    assert "没有可以撤销的工单" in await zhang.say("不用修了")


async def test_several_to_choose_from_and_keeping_it(emily: Chat, runtime: Runtime) -> None:
    await emily.say("The bedroom light is broken, come tomorrow morning")
    await emily.tap("repair:submit")
    open_repairs = [
        t
        for t in await _own_tickets(runtime, "+6591234567")
        if t.kind == "repair" and t.state in ("received", "dispatched", "on_site")
    ]
    assert len(open_repairs) >= 2  # the demo's and this one
    reply = await emily.say("cancel my repair")
    assert "Which ticket" in reply
    assert set(emily.buttons()) >= {f"wd:ask:{t.id}" for t in open_repairs}
    newest = open_repairs[-1]
    assert f"Withdraw {newest.number}" in await emily.tap(f"wd:ask:{newest.id}")
    assert "carry on" in await emily.tap("wd:keep")
    assert all(t.state != "cancelled" for t in await _own_tickets(runtime, "+6591234567"))


async def test_saying_it_while_reporting_drops_the_draft(zhang: Chat, runtime: Runtime) -> None:
    await zhang.say("主卧空调不制冷了")
    assert "已取消" in await zhang.say("取消报修")
    assert await tickets_of(runtime.db, "demo-session") == []


async def test_someone_elses_ticket_and_a_forged_button(
    zhang: Chat, emily: Chat, stranger: Chat, runtime: Runtime
) -> None:
    [emilys, *_] = [t for t in await _own_tickets(runtime, "+6591234567") if t.kind == "repair"]
    assert "没有可以撤销的工单" in await zhang.say(f"撤销 {emilys.number} 这张工单")
    reply = zhang.text(await zhang.send("确定撤销", value=f"wd:yes:{emilys.id}"))
    assert "没有可以撤销的工单" in reply
    async with runtime.db.session() as s:
        row = await s.get(Ticket, emilys.id)
        assert row is not None and row.state != "cancelled"
    # An unverified chat is not told about anyone's tickets.
    assert "撤销" not in await stranger.say("取消报修")
