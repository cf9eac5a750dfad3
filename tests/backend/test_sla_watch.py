"""The SLA watch: warn at 80 %, escalate at breach and when long overdue, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import SYSTEM
from backend.models import Deadline
from backend.sla_watch import run_sla_watch
from tests.factories import World

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def test_warn_breach_and_escalate(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session, kind="repair", estate_id=world.estate.id, actor=SYSTEM, now=NOW
    )
    assert not await run_sla_watch(session, NOW + timedelta(minutes=7))
    assert (await run_sla_watch(session, NOW + timedelta(minutes=8)))["warned"] == 1
    assert not await run_sla_watch(session, NOW + timedelta(minutes=9))
    done = await run_sla_watch(session, NOW + timedelta(minutes=11))
    assert done["breached"] == 1 and done["to_supervisor"] == 1 and ticket.escalation_level == 1
    deadline = await session.scalar(select(Deadline).where(Deadline.ticket_id == ticket.id))
    assert (
        deadline is not None
        and deadline.state == "breached"
        and deadline.breached_at == NOW + timedelta(minutes=10)
    )
    assert not await run_sla_watch(session, NOW + timedelta(minutes=15))
    assert (await run_sla_watch(session, NOW + timedelta(minutes=20)))["to_manager"] == 1
    assert ticket.escalation_level == 2
    assert not await run_sla_watch(session, NOW + timedelta(hours=3))
    actions = [e.action for e in await tickets.events_of(session, ticket.id)]
    assert (
        actions.count("sla_warning") == 1
        and actions.count("sla_breached") == 1
        and actions.count("escalated") == 2
    )


async def test_closed_tickets_are_left_alone(session: AsyncSession, world: World) -> None:
    ticket = await tickets.open_ticket(
        session, kind="repair", estate_id=world.estate.id, actor=SYSTEM, now=NOW
    )
    await tickets.cancel(session, ticket, "duplicate", SYSTEM, now=NOW)
    assert not await run_sla_watch(session, NOW + timedelta(hours=1))
