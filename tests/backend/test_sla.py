"""Deadlines for every promise of DOMAIN.md, overrides, and met/breached bookkeeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend import sla, tickets
from backend.actors import BOT
from backend.calendar import WorkCalendar
from backend.errors import InvalidInput
from backend.models import Deadline, Ticket
from tests.factories import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


async def deadlines(session: AsyncSession, ticket: Ticket) -> dict[str, Deadline]:
    rows = (await tickets.deadlines_of(session, [ticket.id]))[ticket.id]
    return {d.promise: d for d in rows}


async def walk(
    session: AsyncSession, ticket: Ticket, world: World, states: list[tuple[str, datetime]]
) -> None:
    for state, at in states:
        await tickets.transition(
            session,
            ticket,
            state,
            BOT,
            now=at,
            assignee_id=world.technician.id if state == "dispatched" else None,
        )


async def test_repair_promises(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=BOT,
        category="water_leak",
        location="roof",
        now=NOW,
    )
    await walk(
        session,
        ticket,
        world,
        [
            ("dispatched", NOW + timedelta(minutes=9)),
            ("on_site", NOW + timedelta(minutes=45)),  # 36 min after dispatch: late
            ("done", NOW + timedelta(hours=3)),
            ("callback", NOW + timedelta(hours=20)),
        ],
    )
    d = await deadlines(session, ticket)
    assert d["repair.dispatch"].due_at == NOW + timedelta(minutes=10)
    assert d["repair.dispatch"].state == "met"
    assert d["repair.dispatch"].met_at == NOW + timedelta(minutes=9)
    assert d["repair.on_site"].due_at == NOW + timedelta(minutes=39)
    assert d["repair.on_site"].state == "breached"
    assert d["repair.on_site"].met_at == NOW + timedelta(minutes=45)
    assert d["repair.callback"].due_at == NOW + timedelta(hours=27)
    assert d["repair.callback"].state == "met"
    # A leak is a major repair: second callback two months after the work.
    second = d["repair.second_callback"]
    assert second.due_at == NOW + timedelta(hours=3) + (
        datetime(2027, 1, 26) - datetime(2026, 11, 26)
    )
    assert second.state == "pending"
    await tickets.record(session, ticket, sla.SECOND_CALLBACK, BOT, now=NOW + timedelta(days=50))
    assert (await deadlines(session, ticket))["repair.second_callback"].state == "met"


async def test_minor_repair_has_no_second_callback(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=world.estate.id,
        actor=BOT,
        category="door_window",
        now=NOW,
    )
    await walk(session, ticket, world, [("dispatched", NOW), ("on_site", NOW), ("done", NOW)])
    assert set(await deadlines(session, ticket)) == {
        "repair.dispatch",
        "repair.on_site",
        "repair.callback",
    }


async def test_complaint_promises(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=BOT,
        now=NOW,
    )
    d = await deadlines(session, ticket)
    assert d["complaint.first_response"].due_at == NOW + timedelta(hours=2)
    assert d["complaint.reply"].due_at == NOW + timedelta(hours=48)
    assert d["complaint.accept_callback"].due_at == NOW + timedelta(hours=24)
    await tickets.record(session, ticket, sla.STAFF_REPLY, BOT, now=NOW + timedelta(minutes=30))
    await tickets.record(session, ticket, sla.FOLLOW_UP, BOT, now=NOW + timedelta(hours=25))
    d = await deadlines(session, ticket)
    assert d["complaint.first_response"].state == "met"
    assert d["complaint.accept_callback"].state == "breached"
    assert d["complaint.reply"].state == "pending"


async def test_complaint_closed_on_30_september_2026_is_called_back_by_10_october(
    session: AsyncSession, world: World
) -> None:
    opened = local(2026, 9, 28, 9, 0)
    ticket = await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=BOT,
        now=opened,
    )
    closed = local(2026, 9, 30, 16, 30)
    await walk(
        session,
        ticket,
        world,
        [
            ("confirmed", opened + timedelta(hours=1)),
            ("assessed", opened + timedelta(hours=2)),
            ("investigating", opened + timedelta(hours=3)),
            ("replied", opened + timedelta(hours=30)),
            ("tracking", closed),
        ],
    )
    d = (await deadlines(session, ticket))["complaint.closure_callback"]
    # 8, 9 and 10 October are its three working days: 1–7 October is the National Day
    # holiday and Saturday 10 October is a make-up working day.
    assert d.due_at == local(2026, 10, 10, 23, 59, 59)
    assert d.due_at.tzinfo is not None
    await tickets.transition(session, ticket, "callback", BOT, now=local(2026, 10, 10, 15, 0))
    d = (await deadlines(session, ticket))["complaint.closure_callback"]
    assert d.state == "met"


async def test_working_day_deadline_in_an_unpublished_year_does_not_crash(
    session: AsyncSession, world: World
) -> None:
    ticket = await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=world.estate.id,
        actor=BOT,
        now=local(2027, 9, 28, 9, 0),
    )
    for state in ("confirmed", "assessed", "investigating", "replied"):
        await tickets.transition(session, ticket, state, BOT, now=local(2027, 9, 29, 9, 0))
    await tickets.transition(session, ticket, "tracking", BOT, now=local(2027, 9, 30, 10, 0))
    d = (await deadlines(session, ticket))["complaint.closure_callback"]
    assert d.due_at == local(2027, 10, 5, 23, 59, 59)  # weekends only: Fri 1, Mon 4, Tue 5


async def test_company_holidays_count_in_unpublished_years(
    session: AsyncSession, world: World
) -> None:
    from backend.models import CompanyHoliday

    for day in range(1, 8):
        session.add(
            CompanyHoliday(
                company_id=world.company.id, day=datetime(2027, 10, day).date(), name="国庆"
            )
        )
    session.add(
        CompanyHoliday(
            company_id=world.company.id, day=datetime(2027, 10, 9).date(), is_workday=True
        )
    )
    await session.flush()
    cal = await sla.load_calendar(session, world.company.id)
    due = sla.due_at(local(2027, 9, 30, 10, 0), 3, sla.Span.WORKING_DAYS, SHANGHAI, cal)
    # Friday 8, make-up Saturday 9, then Monday 11 (Sunday 10 is a weekend day).
    assert due == local(2027, 10, 11, 23, 59, 59)


async def test_overrides_per_company_and_per_estate(session: AsyncSession, world: World) -> None:
    await sla.set_policy(
        session, company_id=world.company.id, promise="repair.dispatch", amount=15, unit="minutes"
    )
    await sla.set_policy(
        session,
        company_id=world.company.id,
        estate_id=world.other_estate.id,
        promise="repair.dispatch",
        amount=5,
        unit="minutes",
    )
    await sla.set_policy(
        session,
        company_id=world.company.id,
        estate_id=world.other_estate.id,
        promise="repair.on_site",
        amount=1,
        unit="hours",
        enabled=False,
    )
    a = await tickets.open_ticket(
        session, kind="repair", estate_id=world.estate.id, actor=BOT, now=NOW
    )
    b = await tickets.open_ticket(
        session, kind="repair", estate_id=world.other_estate.id, actor=BOT, now=NOW
    )
    assert (await deadlines(session, a))["repair.dispatch"].due_at == NOW + timedelta(minutes=15)
    assert (await deadlines(session, b))["repair.dispatch"].due_at == NOW + timedelta(minutes=5)
    await tickets.transition(
        session, b, "dispatched", BOT, assignee_id=world.far_technician.id, now=NOW
    )
    assert "repair.on_site" not in await deadlines(session, b)  # switched off for that estate
    rules = await sla.load_rules(session, world.company.id, world.estate.id)
    assert rules["repair.dispatch"].amount == 15
    # Setting the same policy again updates it instead of adding a row.
    await sla.set_policy(
        session, company_id=world.company.id, promise="repair.dispatch", amount=20, unit="minutes"
    )
    assert (await sla.load_rules(session, world.company.id, world.estate.id))[
        "repair.dispatch"
    ].amount == 20


async def test_bad_policies_are_refused(session: AsyncSession, world: World) -> None:
    with pytest.raises(InvalidInput, match="unknown promise"):
        await sla.set_policy(
            session, company_id=world.company.id, promise="x", amount=1, unit="hours"
        )
    with pytest.raises(InvalidInput, match="unknown unit"):
        await sla.set_policy(
            session, company_id=world.company.id, promise="repair.dispatch", amount=1, unit="weeks"
        )
    with pytest.raises(InvalidInput, match="positive"):
        await sla.set_policy(
            session, company_id=world.company.id, promise="repair.dispatch", amount=0, unit="hours"
        )


async def test_mark_breaches_records_overdue_deadlines(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session, kind="repair", estate_id=world.estate.id, actor=BOT, now=NOW
    )
    assert await sla.mark_breaches(session, NOW + timedelta(minutes=5)) == []
    breached = await sla.mark_breaches(session, NOW + timedelta(minutes=11))
    assert [d.promise for d in breached] == ["repair.dispatch"]
    assert breached[0].breached_at == NOW + timedelta(minutes=10)
    # Dispatching late keeps it breached and records when it finally happened.
    await tickets.transition(
        session,
        ticket,
        "dispatched",
        BOT,
        assignee_id=world.technician.id,
        now=NOW + timedelta(minutes=30),
    )
    d = (await deadlines(session, ticket))["repair.dispatch"]
    assert d.state == "breached"
    assert d.met_at == NOW + timedelta(minutes=30)  # kept late: the time is still recorded


def test_due_at_arithmetic() -> None:
    cal = WorkCalendar()
    start = local(2026, 12, 31, 22, 0)
    assert sla.due_at(start, 2, sla.Span.MONTHS, SHANGHAI, cal) == local(2027, 2, 28, 22, 0)
    assert sla.due_at(start, 24, sla.Span.HOURS, SHANGHAI, cal).tzinfo == UTC
    with pytest.raises(ValueError, match="aware"):
        sla.due_at(datetime(2026, 1, 1), 1, sla.Span.HOURS, SHANGHAI, cal)
    assert sla.add_months(datetime(2028, 1, 31), 1) == datetime(2028, 2, 29)
