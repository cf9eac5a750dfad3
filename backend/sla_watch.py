"""The SLA watch, every minute: warn before a promise runs out, escalate to the supervisor
when it is breached and to the manager when it is long overdue; breaches are written on
the ticket. Safe to run late or twice: each step is recorded on the deadline."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle, sla, tickets
from backend.actors import SYSTEM
from backend.models import Deadline, Ticket
from backend.vocabulary import DeadlineState

WARN_AT = 0.8  # share of the promised time after which the assignee is warned
SUPERVISOR, MANAGER = 1, 2


async def run_sla_watch(session: AsyncSession, now: datetime) -> Counter[str]:
    done: Counter[str] = Counter()
    rows = await session.execute(
        select(Deadline, Ticket)
        .join(Ticket, Ticket.id == Deadline.ticket_id)
        .where(sla.NOT_YET_KEPT)
        .order_by(Deadline.due_at)
    )
    for deadline, ticket in rows.all():
        if not lifecycle.is_open(ticket.kind, ticket.state):
            continue
        span = deadline.due_at - deadline.started_at
        if deadline.state == DeadlineState.PENDING:
            if now > deadline.due_at:
                deadline.state = DeadlineState.BREACHED
                deadline.breached_at = deadline.due_at
                await tickets.log_event(
                    session, ticket, SYSTEM, "sla_breached", note=deadline.promise, now=now
                )
                done["breached"] += 1
                if deadline.escalation_level < SUPERVISOR:
                    await _escalate(session, ticket, deadline, SUPERVISOR, now)
                    done["to_supervisor"] += 1
            elif deadline.warned_at is None and now >= deadline.started_at + span * WARN_AT:
                deadline.warned_at = now
                await tickets.log_event(
                    session, ticket, SYSTEM, "sla_warning", note=deadline.promise, now=now
                )
                done["warned"] += 1
        elif deadline.escalation_level < MANAGER and now >= deadline.due_at + span:
            await _escalate(session, ticket, deadline, MANAGER, now)
            done["to_manager"] += 1
    await session.flush()
    return done


async def _escalate(
    session: AsyncSession, ticket: Ticket, deadline: Deadline, level: int, now: datetime
) -> None:
    deadline.escalation_level = level
    while ticket.escalation_level < level:
        who = "supervisor" if ticket.escalation_level + 1 == SUPERVISOR else "manager"
        await tickets.escalate(
            session,
            ticket,
            SYSTEM,
            note=f"{deadline.promise} breached: escalated to the {who}",
            now=now,
        )
