"""Callbacks on a controlled clock: on time, never in quiet hours, retried, then a task."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import SYSTEM, Actor
from backend.callbacks import complete_task, plan_visits, run_callbacks
from backend.callbacks import enquiry_answered as owner_says
from backend.messaging import identity_for
from backend.models import CallbackTask, Deadline, OutboxItem, Rating, Ticket
from tests.factories import World

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


async def repair_done(
    session: AsyncSession, world: World, done_at: datetime, category: str = "door_window"
) -> Ticket:
    identity = await identity_for(session, "webchat", "owner-chat")
    identity.owner_id, identity.verified_at = world.owner.id, done_at
    ticket = await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=SYSTEM,
        category=category,
        summary="窗户关不上",
        now=done_at - timedelta(hours=3),
    )
    for state in ("dispatched", "on_site", "done"):
        await tickets.transition(
            session, ticket, state, SYSTEM, assignee_id=world.technician.id, now=done_at
        )
    return ticket


async def outbox_texts(session: AsyncSession) -> list[str]:
    return [
        r.payload["text"] for r in await session.scalars(select(OutboxItem).order_by(OutboxItem.id))
    ]


async def test_a_repair_done_at_2030_is_called_back_next_morning_within_24_hours(
    session: AsyncSession, world: World
) -> None:
    done = local(2026, 11, 26, 20, 30)
    ticket = await repair_done(session, world, done)
    assert not (await run_callbacks(session, done + timedelta(hours=2))).done  # 22:30: quiet hours
    assert not (await run_callbacks(session, local(2026, 11, 27, 7, 55))).done
    morning = local(2026, 11, 27, 8, 0)
    assert (await run_callbacks(session, morning)).done["repair_callback"] == 1
    assert ticket.state == "callback"
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == ticket.id, Deadline.promise == "repair.callback"
        )
    )
    assert deadline is not None and deadline.state == "met" and deadline.met_at == morning
    assert morning - done < timedelta(hours=24)
    assert any("维修回访" in text for text in await outbox_texts(session))
    assert not (await run_callbacks(session, morning + timedelta(minutes=5))).done  # once


async def test_complaint_closed_30_september_is_called_back_on_8_october(
    session: AsyncSession, world: World
) -> None:
    opened = local(2026, 9, 28, 9, 0)
    ticket = await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=SYSTEM,
        now=opened,
    )
    identity = await identity_for(session, "webchat", "c")
    identity.owner_id = world.owner.id
    for state in ("confirmed", "assessed", "investigating", "replied"):
        await tickets.transition(session, ticket, state, SYSTEM, now=opened + timedelta(hours=1))
    await tickets.transition(session, ticket, "tracking", SYSTEM, now=local(2026, 9, 30, 16, 30))
    for day in range(1, 8):  # the National Day holiday
        report = await run_callbacks(session, local(2026, 10, day, 11, 0))
        assert not report.done.get("complaint_callback"), day
    assert (await run_callbacks(session, local(2026, 10, 8, 10, 0))).done["complaint_callback"] == 1
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == ticket.id, Deadline.promise == "complaint.closure_callback"
        )
    )
    assert (
        deadline is not None
        and deadline.state == "met"
        and deadline.due_at == local(2026, 10, 10, 23, 59, 59)
    )


async def test_complaint_follow_up_inside_24_hours(session: AsyncSession, world: World) -> None:
    accepted = local(2026, 11, 26, 10, 0)
    ticket = await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=SYSTEM,
        now=accepted,
    )
    identity = await identity_for(session, "webchat", "f")
    identity.owner_id = world.owner.id
    assert not (await run_callbacks(session, accepted + timedelta(hours=1))).done
    assert (await run_callbacks(session, accepted + timedelta(hours=2))).done[
        "complaint_follow_up"
    ] == 1
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == ticket.id, Deadline.promise == "complaint.accept_callback"
        )
    )
    assert deadline is not None and deadline.state == "met"
    assert any("正在处理中" in t for t in await outbox_texts(session))


async def test_unanswered_callback_is_asked_again_then_becomes_a_phone_task(
    session: AsyncSession, world: World
) -> None:
    done = local(2026, 11, 26, 10, 0)
    ticket = await repair_done(session, world, done)
    await run_callbacks(session, done + timedelta(hours=2))
    asked = done + timedelta(hours=2)
    assert not (await run_callbacks(session, asked + timedelta(hours=23))).done
    assert (await run_callbacks(session, asked + timedelta(hours=24))).done["callback_retry"] == 1
    assert not (await run_callbacks(session, asked + timedelta(hours=30))).done
    assert (await run_callbacks(session, asked + timedelta(hours=48))).done["callback_task"] == 1
    assert not (await run_callbacks(session, asked + timedelta(hours=50))).done.get("callback_task")
    task = await session.scalar(select(CallbackTask).where(CallbackTask.ticket_id == ticket.id))
    assert task is not None and task.assignee_id == world.agent.id
    await complete_task(
        session,
        task,
        world.agent,
        outcome="reached",
        score=4,
        note="业主说很好",
        now=asked + timedelta(hours=52),
    )
    rating = await session.scalar(select(Rating).where(Rating.ticket_id == ticket.id))
    assert rating is not None and rating.score == 4 and rating.channel == "phone"
    assert ticket.state == "closed"


async def test_major_repairs_get_a_second_callback(session: AsyncSession, world: World) -> None:
    done = local(2026, 9, 1, 10, 0)
    ticket = await repair_done(session, world, done, category="water_leak")
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == ticket.id, Deadline.promise == "repair.second_callback"
        )
    )
    assert deadline is not None and deadline.due_at == local(2026, 11, 1, 10, 0).astimezone(UTC)
    assert not (await run_callbacks(session, local(2026, 10, 20, 10, 0))).done.get(
        "second_callback"
    )
    assert (await run_callbacks(session, local(2026, 10, 25, 10, 0))).done["second_callback"] == 1
    assert deadline.state == "met"
    assert any("二次回访" in t for t in await outbox_texts(session))


async def test_new_owners_get_a_visit_task(session: AsyncSession, world: World) -> None:
    world.owner.moved_in_on = date(2026, 11, 25)
    assert await plan_visits(session, date(2026, 11, 26), local(2026, 11, 26, 9, 0)) == 1
    assert await plan_visits(session, date(2026, 11, 26), local(2026, 11, 26, 10, 0)) == 0


async def test_owners_without_a_chat_account_get_their_follow_ups_by_phone(
    session: AsyncSession, world: World
) -> None:
    """A follow-up that could reach nobody is a phone task; the promise is kept by the call."""
    accepted = local(2026, 11, 26, 10, 0)
    complaint = await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=SYSTEM,
        now=accepted,
    )
    first = await run_callbacks(session, accepted + timedelta(hours=2))
    assert first.done == {"complaint_follow_up_task": 1}
    assert not (await run_callbacks(session, accepted + timedelta(hours=3))).done  # one task
    assert await outbox_texts(session) == []
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == complaint.id, Deadline.promise == "complaint.accept_callback"
        )
    )
    assert deadline is not None and deadline.state == "pending"
    task = await session.scalar(select(CallbackTask).where(CallbackTask.ticket_id == complaint.id))
    assert task is not None and task.kind == "follow_up"
    await complete_task(
        session, task, world.agent, outcome="reached", now=accepted + timedelta(hours=4)
    )
    assert deadline.state == "met"
    assert complaint.state == "accepted"  # a follow-up call does not move the complaint
    assert not (await run_callbacks(session, accepted + timedelta(hours=5))).done


async def test_a_second_callback_nobody_can_receive_is_a_phone_task(
    session: AsyncSession, world: World
) -> None:
    ticket = await repair_done(session, world, local(2026, 9, 1, 10, 0), category="water_leak")
    identity = await identity_for(session, "webchat", "owner-chat")
    identity.owner_id = None  # the owner unbound their chat account since
    ticket.identity_id = None
    await session.flush()
    report = await run_callbacks(session, local(2026, 10, 25, 10, 0))
    assert report.done.get("second_callback_task") == 1 and "second_callback" not in report.done
    task = await session.scalar(
        select(CallbackTask).where(
            CallbackTask.ticket_id == ticket.id, CallbackTask.kind == "second_callback"
        )
    )
    assert task is not None
    await complete_task(
        session, task, world.agent, outcome="unreachable", now=local(2026, 10, 26, 9, 0)
    )
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == ticket.id, Deadline.promise == "repair.second_callback"
        )
    )
    assert deadline is not None and deadline.state == "met"


async def enquiry_answered(session: AsyncSession, world: World, answered_at: datetime) -> Ticket:
    """A question the bot could not answer, answered by a colleague at ``answered_at``."""
    identity = await identity_for(session, "webchat", "owner-chat")
    identity.owner_id, identity.verified_at = world.owner.id, answered_at
    ticket = await tickets.open_ticket(
        session,
        kind="enquiry",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        identity_id=identity.id,
        actor=SYSTEM,
        summary="装修押金什么时候退",
        now=answered_at - timedelta(hours=1),
    )
    await tickets.transition(session, ticket, "answered", SYSTEM, now=answered_at)
    return ticket


async def enquiry_deadline(session: AsyncSession, ticket: Ticket) -> Deadline:
    deadline = await session.scalar(
        select(Deadline).where(
            Deadline.ticket_id == ticket.id, Deadline.promise == "enquiry.callback"
        )
    )
    assert deadline is not None
    return deadline


async def test_an_answered_enquiry_is_asked_whether_it_is_settled_within_a_week(
    session: AsyncSession, world: World
) -> None:
    """DOMAIN: property-service issue handled → callback within 1 week."""
    answered = local(2026, 11, 26, 15, 0)
    ticket = await enquiry_answered(session, world, answered)
    deadline = await enquiry_deadline(session, ticket)
    assert deadline.due_at == answered + timedelta(days=7)
    assert not (await run_callbacks(session, answered + timedelta(hours=23))).done
    asked = answered + timedelta(hours=24)
    assert (await run_callbacks(session, asked)).done["enquiry_callback"] == 1
    assert deadline.state == "met" and deadline.met_at == asked
    row = await session.scalar(select(OutboxItem).order_by(OutboxItem.id.desc()).limit(1))
    assert row is not None and "问题解决了吗" in row.payload["text"]
    assert [b["value"] for b in row.payload["buttons"]] == [
        f"enq:settled:{ticket.id}",
        f"enq:unsettled:{ticket.id}",
    ]
    assert row.payload["template"] == "callback"  # outside WeChat's window: a template
    assert not (await run_callbacks(session, asked + timedelta(hours=1))).done  # once


async def test_settled_closes_the_enquiry_and_not_yet_reopens_it(
    session: AsyncSession, world: World
) -> None:
    first = await enquiry_answered(session, world, local(2026, 11, 26, 15, 0))
    await owner_says(
        session, first, True, Actor.of_owner(world.owner), now=local(2026, 11, 27, 16, 0)
    )
    assert first.state == "closed"
    second = await enquiry_answered(session, world, local(2026, 11, 26, 15, 0))
    await owner_says(
        session, second, False, Actor.of_owner(world.owner), now=local(2026, 11, 27, 16, 0)
    )
    assert second.state == "open" and second.reopen_count == 1
    # Answered again later: a new week's promise starts for the new answer.
    await tickets.transition(session, second, "answered", SYSTEM, now=local(2026, 11, 28, 9, 0))
    pending = await session.scalars(
        select(Deadline.state).where(
            Deadline.ticket_id == second.id, Deadline.promise == "enquiry.callback"
        )
    )
    assert sorted(pending) == ["cancelled", "pending"]


async def test_an_enquiry_owner_without_a_chat_gets_a_phone_task(
    session: AsyncSession, world: World
) -> None:
    answered = local(2026, 11, 26, 15, 0)
    ticket = await enquiry_answered(session, world, answered)
    identity = await identity_for(session, "webchat", "owner-chat")
    identity.owner_id = None  # unbound since
    ticket.identity_id = None
    await session.flush()
    report = await run_callbacks(session, answered + timedelta(hours=24))
    assert report.done == {"enquiry_callback_task": 1}
    task = await session.scalar(select(CallbackTask).where(CallbackTask.ticket_id == ticket.id))
    assert task is not None and task.kind == "enquiry_callback"
    await complete_task(
        session, task, world.agent, outcome="reached", now=answered + timedelta(hours=30)
    )
    assert (await enquiry_deadline(session, ticket)).state == "met"
