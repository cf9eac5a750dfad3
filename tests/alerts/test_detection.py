"""Group-complaint detection on hand-made tickets: thresholds, windows, scopes, re-runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import SYSTEM, Actor
from backend.alerts import detect_group_alerts
from backend.models import GroupAlert, GroupAlertTicket, OutboxItem, Ticket, TicketEvent
from tests.alerts.helpers import block, complain, repair
from tests.factories import World

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


async def alerts_of(session: AsyncSession) -> list[GroupAlert]:
    return list(await session.scalars(select(GroupAlert).order_by(GroupAlert.id)))


async def linked(session: AsyncSession, alert: GroupAlert) -> set[int]:
    rows = await session.scalars(
        select(GroupAlertTicket.ticket_id).where(GroupAlertTicket.alert_id == alert.id)
    )
    return set(rows)


async def test_three_households_of_one_building_make_one_alert(
    session: AsyncSession, world: World
) -> None:
    owners = await block(session, world.estate, "A3", 5)
    made = [
        await complain(session, owners[0], "楼上装修太吵了", T0),
        await complain(session, owners[1], "装修电钻从早上七点就开始", T0 + 5 * H),
        await complain(session, owners[2], "樓上裝修噪音", T0 + 20 * H),
    ]
    assert {t.topic for t in made} == {"renovation"}
    report = await detect_group_alerts(session, T0 + 21 * H)
    [alert] = await alerts_of(session)
    assert report.created == [alert.id] and report.linked == 3
    assert (alert.kind, alert.subject, alert.scope) == ("complaint", "renovation", "building")
    assert alert.building_id is not None and alert.estate_id == world.estate.id
    assert (alert.households, alert.ticket_count, alert.state) == (3, 3, "open")
    assert (alert.first_ticket_at, alert.last_ticket_at) == (T0, T0 + 20 * H)
    assert await linked(session, alert) == {t.id for t in made}
    for ticket in made:
        events = await tickets.events_of(session, ticket.id)
        assert [e.data["alert_id"] for e in events if e.action == "group_alert"] == [alert.id]


async def test_three_tickets_from_two_households_are_no_group(
    session: AsyncSession, world: World
) -> None:
    owners = await block(session, world.estate, "A3", 2)
    await complain(session, owners[0], "楼上装修太吵", T0)
    await complain(session, owners[0], "装修又开始了", T0 + H)
    await complain(session, owners[1], "装修噪音", T0 + 2 * H)
    assert not await detect_group_alerts(session, T0 + 3 * H)
    assert await alerts_of(session) == []


async def test_building_topics_stay_in_their_building_estate_topics_do_not(
    session: AsyncSession, world: World
) -> None:
    one = (await block(session, world.estate, "A5", 1))[0]
    two = (await block(session, world.estate, "A6", 1))[0]
    three = (await block(session, world.estate, "A7", 1))[0]
    for n, owner in enumerate((one, two, three)):
        await complain(session, owner, "晚上太吵，噪音扰民", T0 + n * H)
    assert not await detect_group_alerts(session, T0 + 4 * H)
    # Fees are the estate's problem: three households anywhere in it are a group.
    for n, owner in enumerate((one, two, three)):
        await complain(session, owner, "物业费涨价没有通知", T0 + (5 + n) * H)
    await detect_group_alerts(session, T0 + 9 * H)
    [alert] = await alerts_of(session)
    assert (alert.subject, alert.scope, alert.building_id, alert.households) == (
        "fees",
        "estate",
        None,
        3,
    )


async def test_households_further_apart_than_the_window_are_no_group(
    session: AsyncSession, world: World
) -> None:
    owners = await block(session, world.estate, "A3", 3)
    await complain(session, owners[0], "装修太吵", T0)
    await complain(session, owners[1], "装修太吵", T0 + 13 * H)
    await complain(session, owners[2], "装修太吵", T0 + 25 * H)  # 25 h after the first
    assert not await detect_group_alerts(session, T0 + 26 * H, since=T0 - H)
    assert await alerts_of(session) == []


async def test_rerun_extends_the_same_alert(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A3", 6)
    for n in range(3):
        await complain(session, owners[n], "电梯坏了", T0 + n * H)
    first = await detect_group_alerts(session, T0 + 3 * H)
    again = await detect_group_alerts(session, T0 + 3 * H)
    assert first.created and not again
    [alert] = await alerts_of(session)
    # Later households (and a repeat from one already counted) join, within a window of
    # the alert's latest ticket, even past 24 h from the first.
    late = [
        await complain(session, owners[3], "电梯还是坏的", T0 + 20 * H),
        await complain(session, owners[0], "电梯到底什么时候修好", T0 + 30 * H),
        await complain(session, owners[4], "电梯停了两天", T0 + 40 * H),
    ]
    report = await detect_group_alerts(session, T0 + 41 * H)
    assert report.created == [] and report.extended == [alert.id] and report.linked == 3
    await session.refresh(alert)
    assert (alert.households, alert.ticket_count) == (5, 6)
    assert {t.id for t in late} <= await linked(session, alert)
    assert len(await alerts_of(session)) == 1
    # One event per ticket, however often detection runs.
    await detect_group_alerts(session, T0 + 42 * H)
    count = await session.scalar(
        select(func.count()).select_from(TicketEvent).where(TicketEvent.action == "group_alert")
    )
    assert count == 6


async def test_a_quiet_gap_starts_a_new_alert(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A3", 6)
    for n in range(3):
        await complain(session, owners[n], "装修太吵", T0 + n * H)
    await detect_group_alerts(session, T0 + 3 * H)
    later = T0 + 5 * 24 * H
    for n in range(3, 6):
        await complain(session, owners[n], "装修又开始了", later + n * H)
    await detect_group_alerts(session, later + 7 * H)
    assert [a.households for a in await alerts_of(session)] == [3, 3]


async def test_cancelled_tickets_and_other_topics_do_not_count(
    session: AsyncSession, world: World
) -> None:
    owners = await block(session, world.estate, "A3", 4)
    cancelled = await complain(session, owners[0], "装修太吵", T0)
    await tickets.cancel(session, cancelled, "duplicate", Actor.of_staff(world.agent), now=T0 + H)
    await complain(session, owners[1], "装修太吵", T0 + H)
    await complain(session, owners[2], "装修太吵", T0 + 2 * H)
    for owner in owners:
        await complain(session, owner, "我要投诉", T0 + 3 * H)  # topic other
    assert not await detect_group_alerts(session, T0 + 4 * H)


async def test_flood_of_lift_repairs(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A9", 8)
    minutes = timedelta(minutes=1)
    for n in range(4):
        await repair(session, owners[n], "lift", T0 + 20 * n * minutes)
    assert not await detect_group_alerts(session, T0 + 90 * minutes)  # 4 < 5 households
    made = await repair(session, owners[4], "lift", T0 + 100 * minutes)
    report = await detect_group_alerts(session, T0 + 101 * minutes)
    [alert] = await alerts_of(session)
    assert report.created == [alert.id]
    assert (alert.kind, alert.subject, alert.scope, alert.households) == (
        "flood",
        "lift",
        "building",
        5,
    )
    assert made.id in await linked(session, alert)
    # Five households over three hours are ordinary traffic.
    other = await block(session, world.estate, "A10", 5)
    for n, owner in enumerate(other):
        await repair(session, owner, "water_leak", T0 + n * 45 * minutes)
    assert not (await detect_group_alerts(session, T0 + 4 * H)).created


async def test_company_settings_override_the_thresholds(
    session: AsyncSession, world: World
) -> None:
    world.company.settings = {"group_alerts": {"households": 2, "window_hours": 2}}
    owners = await block(session, world.estate, "A3", 4)
    await complain(session, owners[0], "垃圾没人清运", T0)
    await complain(session, owners[1], "垃圾没人清运", T0 + 3 * H)  # outside 2 h
    assert not await detect_group_alerts(session, T0 + 4 * H)
    await complain(session, owners[2], "垃圾没人清运", T0 + 4 * H)
    await detect_group_alerts(session, T0 + 5 * H)
    [alert] = await alerts_of(session)
    assert alert.households == 2 and alert.scope == "estate"
    world.company.settings = {"group_alerts": {"households": "many", "window_hours": -1}}
    assert not await detect_group_alerts(session, T0 + 5 * H)  # bad values: defaults


async def test_one_scan_over_a_month_finds_what_runs_every_few_minutes_find(
    session: AsyncSession, world: World
) -> None:
    owners = await block(session, world.estate, "A3", 4)
    times = [T0, T0 + 10 * H, T0 + 20 * H, T0 + 40 * H]
    for owner, at in zip(owners, times, strict=True):
        await complain(session, owner, "装修太吵", at)
    report = await detect_group_alerts(session, T0 + 30 * 24 * H, since=T0 - H)
    [alert] = await alerts_of(session)
    assert report.created == [alert.id] and alert.households == 4


async def test_staff_chat_gets_new_alerts_once(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A3", 3)
    for n, owner in enumerate(owners):
        await complain(session, owner, "装修太吵", T0 + n * H)
    await detect_group_alerts(session, T0 + 3 * H, staff_chat="-100200300")
    await detect_group_alerts(session, T0 + 4 * H, staff_chat="-100200300")
    [item] = list(await session.scalars(select(OutboxItem)))
    assert (item.channel, item.chat_id, item.owner_id) == ("telegram", "-100200300", None)
    assert "装修" in item.payload["text"] and "3" in item.payload["text"]
    assert item.idempotency_key.startswith("alert:")


async def test_tickets_without_a_unit_are_not_counted(session: AsyncSession, world: World) -> None:
    for n in range(3):
        await tickets.open_ticket(
            session,
            kind="complaint",
            estate_id=world.estate.id,
            actor=SYSTEM,
            summary="装修太吵",
            now=T0 + n * H,
        )
    assert not await detect_group_alerts(session, T0 + 4 * H)
    assert await session.scalar(select(func.count()).select_from(Ticket)) == 3
