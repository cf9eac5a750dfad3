"""What staff do with an alert: see it (scoped), acknowledge it, answer every household."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import alerts
from backend.access import staff_context
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.models import AuditEntry, Deadline, GroupAlert, OutboxItem, Owner, Unit
from tests.alerts.helpers import bind, block, complain
from tests.factories import World, make_staff

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


async def _alert(session: AsyncSession, world: World, households: int = 3) -> GroupAlert:
    owners = await block(session, world.estate, "A3", households + 1)
    for n in range(households):
        await complain(session, owners[n], "电梯坏了", T0 + n * H)
    await alerts.detect_group_alerts(session, T0 + households * H)
    alert = await session.scalar(select(GroupAlert))
    assert alert is not None
    return alert


async def test_supervisor_and_manager_see_it_others_do_not(
    session: AsyncSession, world: World
) -> None:
    alert = await _alert(session, world)
    for staff in (world.supervisor, world.manager):
        ctx = await staff_context(session, staff)
        assert await alerts.open_count(session, ctx) == 1
        assert [r.alert.id for r in await alerts.list_alerts(session, ctx)] == [alert.id]
        detail = await alerts.alert_detail(session, ctx, alert.id)
        assert len(detail.tickets) == 3 and detail.row.building_code == "A3"
    far = await make_staff(session, "super-b", "supervisor", ["EST-B"])
    ctx = await staff_context(session, far)
    assert await alerts.open_count(session, ctx) == 0
    with pytest.raises(NotFound):
        await alerts.visible_alert(session, ctx, alert.id)
    agent = await staff_context(session, world.agent)
    assert await alerts.open_count(session, agent) == 0
    with pytest.raises(Forbidden):
        await alerts.list_alerts(session, agent)


async def test_acknowledge_until_new_households_join(session: AsyncSession, world: World) -> None:
    alert = await _alert(session, world)
    await alerts.acknowledge(session, alert, world.manager, now=T0 + 4 * H, ip="10.0.0.1")
    assert (alert.state, alert.acknowledged_by_id) == ("acknowledged", world.manager.id)
    ctx = await staff_context(session, world.supervisor)
    assert await alerts.open_count(session, ctx) == 0
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "alert_acknowledge"))
    assert entry is not None and entry.target_id == alert.id and entry.ip == "10.0.0.1"
    await alerts.acknowledge(session, alert, world.supervisor)  # twice: no change
    assert alert.acknowledged_by_id == world.manager.id

    # The same household again: still acknowledged. A new household: open again.
    owners = await _owners_of_building(session, alert)
    await complain(session, owners[0], "电梯还是坏的", T0 + 5 * H)
    report = await alerts.detect_group_alerts(session, T0 + 5 * H)
    assert report.extended == [alert.id] and not report.reopened
    assert alert.state == "acknowledged"
    await complain(session, owners[-1], "电梯还没修好", T0 + 6 * H)
    report = await alerts.detect_group_alerts(session, T0 + 7 * H)
    assert report.reopened == [alert.id] and alert.state == "open"
    assert alert.acknowledged_at is None and alert.households == 4


async def _owners_of_building(session: AsyncSession, alert: GroupAlert) -> list[Owner]:
    return list(
        await session.scalars(
            select(Owner)
            .join(Unit, Unit.id == Owner.unit_id)
            .where(Unit.building_id == alert.building_id)
            .order_by(Owner.id)
        )
    )


async def test_technician_and_other_estates_cannot_acknowledge(
    session: AsyncSession, world: World
) -> None:
    alert = await _alert(session, world)
    with pytest.raises(Forbidden):
        await alerts.acknowledge(session, alert, world.technician)
    far = await make_staff(session, "super-b", "supervisor", ["EST-B"])
    with pytest.raises(NotFound):
        await alerts.acknowledge(session, alert, far)
    assert alert.state == "open"


async def test_reply_to_all_once_per_owner_audited(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A3", 4)
    for owner in owners[:3]:
        await bind(session, owner)
    await complain(session, owners[0], "电梯坏了", T0)
    await complain(session, owners[0], "电梯还是坏的", T0 + H)  # same owner, two tickets
    await complain(session, owners[1], "电梯坏了", T0 + 2 * H)
    await complain(session, owners[2], "电梯坏了", T0 + 3 * H)
    silent = await complain(session, owners[3], "电梯坏了", T0 + 4 * H)  # no chat account
    await alerts.detect_group_alerts(session, T0 + 5 * H)
    alert = await session.scalar(select(GroupAlert))
    assert alert is not None and alert.ticket_count == 5

    text = "各位业主：3号楼电梯已报厂家抢修，预计今晚 8 点前恢复。"
    outcome = await alerts.reply_to_all(
        session, alert, world.supervisor, text, now=T0 + 6 * H, ip="10.0.0.2"
    )
    assert outcome.owners == 3 and outcome.unreachable_ticket_ids == [silent.id]
    assert len(outcome.replied_ticket_ids) == 4
    sent = list(await session.scalars(select(OutboxItem).order_by(OutboxItem.id)))
    assert len(sent) == 3 and {o.owner_id for o in sent} == {o.id for o in owners[:3]}
    assert all(o.payload["text"] == text and o.channel == "telegram" for o in sent)
    # Every reached ticket's first response is recorded (late here: 6 h after).
    kept = await session.scalars(
        select(Deadline.ticket_id).where(
            Deadline.promise == "complaint.first_response", Deadline.met_at == T0 + 6 * H
        )
    )
    assert set(kept) == set(outcome.replied_ticket_ids)
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "alert_reply_all"))
    assert entry is not None and entry.staff_id == world.supervisor.id
    assert entry.detail["owners"] == 3 and entry.detail["unreachable"] == [silent.id]
    assert (alert.state, alert.replied_by_id) == ("acknowledged", world.supervisor.id)


async def test_reply_to_all_needs_text_and_the_right_to_reply(
    session: AsyncSession, world: World
) -> None:
    alert = await _alert(session, world)
    with pytest.raises(InvalidInput):
        await alerts.reply_to_all(session, alert, world.supervisor, "   ")
    with pytest.raises(Forbidden):  # managers oversee; the front desk answers owners
        await alerts.reply_to_all(session, alert, world.manager, "hello")
