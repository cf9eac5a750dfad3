"""Opening tickets and moving them: numbers, the event log, repeats, flags."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import BOT, Actor
from backend.errors import DomainError, IllegalTransition, InvalidInput
from backend.models import Ticket, TicketEvent
from tests.factories import World

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def open_repair(session: AsyncSession, world: World, **kw: object) -> Ticket:
    fields: dict[str, object] = {
        "kind": "repair",
        "estate_id": world.estate.id,
        "owner_id": world.owner.id,
        "actor": BOT,
        "channel": "webchat",
        "summary": "卫生间漏水",
        "category": "water_leak",
        "location": "bathroom",
        "now": NOW,
    }
    fields.update(kw)
    return await tickets.open_ticket(session, **fields)  # type: ignore[arg-type]


async def test_numbers_are_readable_and_unique_per_company(
    session: AsyncSession, world: World
) -> None:
    first = await open_repair(session, world)
    second = await open_repair(session, world, location="kitchen")
    complaint = await tickets.open_ticket(
        session, kind="complaint", estate_id=world.other_estate.id, actor=BOT, now=NOW
    )
    assert first.number == "R-20261126-0001"
    assert second.number == "R-20261126-0002"
    assert complaint.number == "C-20261126-0001"
    assert re.fullmatch(r"[RCE]-\d{8}-\d{4}", first.number)


async def test_number_uses_the_estate_local_day(session: AsyncSession, world: World) -> None:
    late_evening_utc = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # 01:00 on the 27th in Shanghai
    ticket = await open_repair(session, world, now=late_evening_utc)
    assert ticket.number.startswith("R-20261127-")


async def test_opening_logs_an_event_and_starts_the_dispatch_clock(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    events = await tickets.events_of(session, ticket.id)
    assert [(e.action, e.from_state, e.to_state, e.actor_kind) for e in events] == [
        ("created", None, "received", "bot")
    ]
    deadlines = (await tickets.deadlines_of(session, [ticket.id]))[ticket.id]
    assert [(d.promise, d.due_at) for d in deadlines] == [
        ("repair.dispatch", NOW + timedelta(minutes=10))
    ]
    assert ticket.contact_phone == world.owner.phone
    assert ticket.ambassador_id == world.agent.id
    assert ticket.supervisor_id == world.supervisor.id
    assert ticket.major is True  # leaks get a second callback


async def test_full_repair_path_is_logged_with_actor_time_from_to_and_note(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    staff = Actor.of_staff(world.agent)
    path = ["dispatched", "on_site", "done", "callback", "closed"]
    for minutes, state in enumerate(path, start=1):
        await tickets.transition(
            session,
            ticket,
            state,
            staff,
            note=f"step {state}",
            assignee_id=world.technician.id if state == "dispatched" else None,
            now=NOW + timedelta(minutes=minutes),
        )
    events = await tickets.events_of(session, ticket.id)
    moves = [(e.from_state, e.to_state, e.note, e.actor_name, e.at) for e in events[1:]]
    expected_from = ["received", *path[:-1]]
    assert moves == [
        (f, t, f"step {t}", world.agent.display_name, NOW + timedelta(minutes=m))
        for m, (f, t) in enumerate(zip(expected_from, path, strict=True), start=1)
    ]
    assert ticket.state == "closed"
    assert ticket.assignee_id == world.technician.id
    assert ticket.closed_at == NOW + timedelta(minutes=5)
    assert events[1].data["assignee"] == world.technician.display_name


async def test_dispatch_needs_a_named_responsible_person(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    with pytest.raises(DomainError, match="named responsible person"):
        await tickets.transition(session, ticket, "dispatched", BOT, now=NOW)
    with pytest.raises(InvalidInput, match="not a technician"):
        await tickets.transition(session, ticket, "dispatched", BOT, assignee_id=world.agent.id)
    with pytest.raises(InvalidInput, match="does not work on this ticket's estate"):
        await tickets.transition(
            session, ticket, "dispatched", BOT, assignee_id=world.far_technician.id
        )
    assert ticket.state == "received"


async def test_illegal_transition_changes_nothing(session: AsyncSession, world: World) -> None:
    ticket = await open_repair(session, world)
    with pytest.raises(IllegalTransition, match="cannot go from received to done"):
        await tickets.transition(session, ticket, "done", BOT, now=NOW)
    assert ticket.state == "received"
    assert len(await tickets.events_of(session, ticket.id)) == 1


async def test_cancel_needs_a_reason_and_voids_pending_deadlines(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    with pytest.raises(InvalidInput, match="reason"):
        await tickets.cancel(session, ticket, "  ", BOT)
    await tickets.cancel(session, ticket, "owner fixed it himself", BOT, now=NOW)
    assert ticket.state == "cancelled"
    assert ticket.cancel_reason == "owner fixed it himself"
    deadlines = (await tickets.deadlines_of(session, [ticket.id]))[ticket.id]
    assert [d.state for d in deadlines] == ["cancelled"]
    with pytest.raises(IllegalTransition):
        await tickets.reopen(session, ticket, BOT)


async def test_reopen_marks_a_repeat_repair_and_restarts_dispatch(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    for state in ("dispatched", "on_site", "done", "callback"):
        await tickets.transition(
            session, ticket, state, BOT, assignee_id=world.technician.id, now=NOW
        )
    assert not ticket.is_repeat
    later = NOW + timedelta(days=1)
    await tickets.reopen(session, ticket, BOT, note="rating: very dissatisfied", now=later)
    assert ticket.state == "received"
    assert ticket.is_repeat and ticket.reopen_count == 1
    events = await tickets.events_of(session, ticket.id)
    assert events[-1].action == "reopened"
    deadlines = (await tickets.deadlines_of(session, [ticket.id]))[ticket.id]
    assert deadlines[-1].promise == "repair.dispatch"
    assert deadlines[-1].due_at == later + timedelta(minutes=10)


async def test_same_unit_spot_and_kind_within_90_days_is_a_repeat(
    session: AsyncSession, world: World
) -> None:
    first = await open_repair(session, world)
    again = await open_repair(session, world, now=NOW + timedelta(days=89))
    other_spot = await open_repair(session, world, location="kitchen", now=NOW + timedelta(days=89))
    other_kind = await open_repair(session, world, category="crack", now=NOW + timedelta(days=89))
    assert again.is_repeat and again.repeat_of_id == first.id
    assert not other_spot.is_repeat and not other_kind.is_repeat
    events = await tickets.events_of(session, again.id)
    assert events[0].note == f"repeat of {first.number}"


async def test_after_90_days_it_is_a_new_problem(session: AsyncSession, world: World) -> None:
    await open_repair(session, world)
    much_later = await open_repair(session, world, now=NOW + timedelta(days=91))
    assert not much_later.is_repeat


async def test_a_cancelled_repair_does_not_make_a_repeat(
    session: AsyncSession, world: World
) -> None:
    first = await open_repair(session, world)
    await tickets.cancel(session, first, "duplicate message", BOT, now=NOW)
    second = await open_repair(session, world, now=NOW + timedelta(hours=1))
    assert not second.is_repeat


async def test_flags_escalation_and_reassignment_are_logged(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    staff = Actor.of_staff(world.supervisor)
    await tickets.set_flag(session, ticket, "urgent", True, staff, note="water in the meter box")
    await tickets.set_flag(session, ticket, "key_owner", True, staff)
    await tickets.escalate(session, ticket, staff)
    await tickets.escalate(session, ticket, staff)
    with pytest.raises(IllegalTransition, match="already with the manager"):
        await tickets.escalate(session, ticket, staff)
    await tickets.assign(session, ticket, world.technician.id, staff)
    actions = [e.action for e in await tickets.events_of(session, ticket.id)]
    assert actions == [
        "created",
        "urgent_set",
        "key_owner_set",
        "escalated",
        "escalated",
        "assigned",
    ]
    assert ticket.urgent and ticket.key_owner and ticket.escalation_level == 2
    with pytest.raises(InvalidInput, match="unknown flag"):
        await tickets.set_flag(session, ticket, "vip", True, staff)


async def test_key_owner_flag_is_copied_from_the_household(
    session: AsyncSession, world: World
) -> None:
    world.owner.key_owner = True
    ticket = await open_repair(session, world)
    assert ticket.key_owner


async def test_unverified_urgent_ticket_without_owner(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=world.estate.id,
        actor=BOT,
        urgent=True,
        unverified=True,
        summary="燃气味很重",
        category="other",
        now=NOW,
    )
    assert ticket.owner_id is None and ticket.unverified and ticket.urgent


async def test_owner_of_another_estate_is_refused(session: AsyncSession, world: World) -> None:
    with pytest.raises(InvalidInput, match="does not live in this estate"):
        await open_repair(session, world, owner_id=world.far_owner.id)


async def test_list_filters_and_json_shape(session: AsyncSession, world: World) -> None:
    await open_repair(session, world)
    await tickets.open_ticket(
        session, kind="enquiry", estate_id=world.other_estate.id, actor=BOT, now=NOW
    )
    await session.commit()
    rows = await tickets.list_tickets(session, tickets.TicketFilter(estate_code="EST-A"))
    assert [r.ticket.kind for r in rows] == ["repair"]
    data = rows[0].as_json(NOW)
    for key in (
        "id",
        "number",
        "kind",
        "state",
        "estate",
        "unit",
        "owner_id",
        "urgent",
        "channel",
        "category",
        "summary",
        "created_at",
        "deadlines",
    ):
        assert key in data
    assert data["estate"] == "EST-A" and data["unit"] == "A-1-101"
    assert data["deadlines"][0]["state"] == "pending"
    assert rows[0].as_json(NOW + timedelta(minutes=11))["deadlines"][0]["state"] == "breached"
    only_enquiries = await tickets.list_tickets(session, tickets.TicketFilter(kind="enquiry"))
    assert len(only_enquiries) == 1
    count = await session.scalar(select(func.count()).select_from(TicketEvent))
    assert count == 2


@pytest.mark.parametrize(
    ("said", "summary"),
    [
        ("hi the kitchen tap keeps dripping", "the kitchen tap keeps dripping"),
        ("物业您好！您好，电梯坏了", "电梯坏了"),
        ("在吗？楼道灯坏了", "楼道灯坏了"),
        ("Hey\n\n there  is a leak", "there is a leak"),
        ("hiking trail lights are off", "hiking trail lights are off"),
        ("你好", "你好"),
        ("卫" * 200, "卫" * 80),
    ],
)
def test_a_summary_is_one_line_without_the_greeting(said: str, summary: str) -> None:
    assert tickets.summary_of(said) == summary


async def test_an_owners_addition_is_kept_and_can_be_taken_back(
    session: AsyncSession, world: World
) -> None:
    ticket = await open_repair(session, world)
    actor = Actor.of_owner(world.owner)
    with pytest.raises(InvalidInput):
        await tickets.add_from_owner(session, ticket, actor, " ", [], message_id=1, now=NOW)
    await tickets.add_from_owner(
        session, ticket, actor, "在洗碗池下面", ["p1"], message_id=7, now=NOW
    )
    assert ticket.attachments == ["p1"]
    assert await tickets.withdraw_from_owner(session, ticket, 8) is None
    taken = await tickets.withdraw_from_owner(session, ticket, 7)
    assert taken is not None and taken.note == "在洗碗池下面" and ticket.attachments == []
    await session.flush()
    actions = await session.scalars(
        select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
    )
    assert "owner_added" not in list(actions)
