"""Status: the owner's open tickets with state and next promise; nobody else's."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.models import Owner, Ticket
from tests.fakes.chat import Chat, Clock


async def test_open_tickets_with_state_and_next_promise(zhang: Chat, runtime: Runtime) -> None:
    await zhang.say("厨房下水道堵了，明天上午来修")
    await zhang.tap("repair:submit")
    reply = await zhang.say("我的报修怎么样了")
    assert "处理中的工单" in reply and "厨房下水道堵了" in reply and "已受理，待派单" in reply
    assert "前派单到维修人员" in reply


async def test_a_promise_past_its_time_says_so(zhang: Chat, runtime: Runtime, clock: Clock) -> None:
    await zhang.say("厨房下水道堵了，明天上午来修")
    await zhang.tap("repair:submit")
    clock.advance(minutes=15)  # dispatch was promised within 10 minutes
    reply = await zhang.say("我的报修怎么样了")
    line = next(x for x in reply.splitlines() if "厨房下水道堵了" in x)
    assert "已超过承诺时间，主管正在督办" in line and "前派单" not in line


async def test_one_ticket_by_number_and_only_ones_own(
    zhang: Chat, emily: Chat, runtime: Runtime
) -> None:
    async with runtime.db.session() as s:
        zhang_ticket = await s.scalar(
            select(Ticket)
            .join(Owner, Owner.id == Ticket.owner_id)
            .where(Owner.phone == "13800138000")
            .limit(1)
        )
        assert zhang_ticket is not None
        number = zhang_ticket.number
    assert number in await zhang.say(f"{number} 进度如何")
    reply = await emily.say(f"What's the status of {number}?")
    assert f"couldn't find ticket {number}" in reply


async def test_english_status_and_nothing_open(emily: Chat, runtime: Runtime) -> None:
    async with runtime.db.session() as s:
        for ticket in await s.scalars(
            select(Ticket)
            .join(Owner, Owner.id == Ticket.owner_id)
            .where(Owner.phone == "+6591234567")
        ):
            ticket.state = "closed"
    assert "no open tickets" in await emily.say("any update on my repair?")


async def test_an_unknown_user_sees_no_ticket_data(stranger: Chat) -> None:
    reply = await stranger.say("我的报修怎么样了")
    assert "验证业主身份" in reply and "R-" not in reply
    reply = await stranger.say("取消")
    reply = await stranger.say("R-20261126-0001 怎么样了")
    assert "验证业主身份" in reply and "卫生间" not in reply
