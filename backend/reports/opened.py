"""The tickets opened in a period: volumes, repeat repairs, complaint closure (one grouped
pass, then the reopened few from the event log) and where they were (buildings, defects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.lifecycle import CANCELLED
from backend.models import Ticket, TicketEvent, Unit
from backend.reports.model import Kpi, Period, Scope, Volumes
from backend.reports.queries import (
    CLOSED_COMPLAINT,
    STATE_EVENTS,
    in_scope,
    opened_in,
    reopened_by,
)
from backend.vocabulary import Kind


def state_then(period: Period) -> Any:
    """The ticket's state at the end of the period: its last state event before then."""
    return (
        select(TicketEvent.to_state)
        .where(
            TicketEvent.ticket_id == Ticket.id,
            TicketEvent.action.in_(STATE_EVENTS),
            TicketEvent.at < period.as_of,
        )
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )


# Outcome of a ticket opened in the period, for the repeat and closure KPIs.
REPEAT, CLOSED_THEN, LOOK_UP = 1, 1, 3  # 0: neither; LOOK_UP: reopened, ask the event log


async def tickets_opened(
    session: AsyncSession, scope: Scope, period: Period
) -> tuple[Volumes, Kpi, Kpi]:
    """The tickets opened in the period: volumes by kind, channel, repair category,
    complaint topic and estate; the repeat-repair and complaint-closure KPIs.

    One grouped pass answers every ticket never reopened from its own columns (a repeat
    has ``repeat_of_id``; a complaint reached ``tracking`` when ``resolved_at`` is set,
    which only a reopen clears). The few reopened ones are then looked up in the event
    log. Keeping subqueries out of the big GROUP BY lets PostgreSQL hash it (measured
    0.10 s instead of 0.45 s for 100 000 tickets).
    """
    outcome = case(
        (Ticket.state == CANCELLED, None),
        (
            Ticket.kind == Kind.REPAIR,
            case(
                (Ticket.repeat_of_id.is_not(None), REPEAT),
                (Ticket.reopen_count > 0, LOOK_UP),
                else_=0,
            ),
        ),
        (
            Ticket.kind == Kind.COMPLAINT,
            case(
                (Ticket.reopen_count > 0, LOOK_UP),
                (Ticket.resolved_at < period.as_of, CLOSED_THEN),
                else_=0,
            ),
        ),
        else_=None,
    )
    columns = (
        Ticket.kind,
        Ticket.channel,
        Ticket.category,
        Ticket.topic,
        Ticket.estate_id,
        (Ticket.state == CANCELLED).label("cancelled"),
        outcome.label("outcome"),
    )
    grouped = await session.execute(
        select(*columns, func.count())
        .where(in_scope(Ticket, scope), opened_in(period))
        .group_by(*columns)
    )
    volumes = Volumes()
    found: dict[tuple[str, int], int] = {}  # (kind, outcome) → tickets, not cancelled
    for row in grouped.all():
        kind, channel, category, topic, estate_id, is_cancelled, result, count = tuple(row)
        volumes.total += count
        volumes.add("kind", kind, count)
        volumes.add("channel", channel, count)
        volumes.add("estate", str(estate_id), count)  # ids; the caller puts codes in
        if kind == Kind.REPAIR:
            volumes.add("category", category or "", count)
        elif kind == Kind.COMPLAINT:
            volumes.add("topic", topic or "", count)
        if is_cancelled:
            volumes.cancelled += count
        elif result is not None:
            found[(kind, int(result))] = found.get((kind, int(result)), 0) + count
    if found.get((Kind.REPAIR, LOOK_UP)) or found.get((Kind.COMPLAINT, LOOK_UP)):
        for kind, result, count in await _reopened(session, scope, period):
            found[(kind, LOOK_UP)] -= count
            found[(kind, result)] = found.get((kind, result), 0) + count

    def total(kind: str) -> int:
        return sum(n for (k, _), n in found.items() if k == kind)

    same_spot = found.get((Kind.REPAIR, REPEAT), 0)
    reopened = found.get((Kind.REPAIR, 2), 0)
    repeat = Kpi(
        "repeat_repairs",
        same_spot + reopened,
        total(Kind.REPAIR),
        {"same_spot_within_90_days": same_spot, "reopened": reopened},
    )
    closure = Kpi(
        "complaint_closure", found.get((Kind.COMPLAINT, CLOSED_THEN), 0), total(Kind.COMPLAINT)
    )
    return volumes, repeat, closure


async def _reopened(
    session: AsyncSession, scope: Scope, period: Period
) -> list[tuple[str, int, int]]:
    """(kind, outcome, count) of the reopened tickets opened in the period: a repair 2 if
    reopened by the period's end (else 0), a complaint 1 if closed at its end (else 0)."""
    outcome = case(
        (and_(Ticket.kind == Kind.REPAIR, reopened_by(period)), 2),
        (and_(Ticket.kind == Kind.COMPLAINT, state_then(period).in_(CLOSED_COMPLAINT)), 1),
        else_=0,
    ).label("outcome")
    rows = await session.execute(
        select(Ticket.kind, outcome, func.count())
        .where(
            in_scope(Ticket, scope),
            opened_in(period),
            Ticket.state != CANCELLED,
            Ticket.reopen_count > 0,
            or_(Ticket.kind == Kind.COMPLAINT, Ticket.repeat_of_id.is_(None)),
        )
        .group_by(Ticket.kind, outcome)
    )
    return [(str(k), int(o), int(n)) for k, o, n in cast(list[tuple[Any, ...]], rows.all())]


@dataclass(frozen=True)
class Place:
    """Tickets opened in the period at one estate and building, of one kind, spot and problem."""

    estate_id: int
    building_id: int | None
    kind: str
    location: str
    category: str | None
    cancelled: bool
    count: int


async def places(session: AsyncSession, scope: Scope, period: Period) -> list[Place]:
    """Tickets opened, counted by estate, building, kind, location, category, cancelled."""
    cancelled = (Ticket.state == CANCELLED).label("cancelled")
    rows = await session.execute(
        select(
            Ticket.estate_id,
            Unit.building_id,
            Ticket.kind,
            Ticket.location,
            Ticket.category,
            cancelled,
            func.count(),
        )
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .where(in_scope(Ticket, scope), opened_in(period))
        .group_by(
            Ticket.estate_id,
            Unit.building_id,
            Ticket.kind,
            Ticket.location,
            Ticket.category,
            cancelled,
        )
    )
    return [
        Place(int(e), b, str(k), str(loc or ""), c, bool(x), int(n))
        for e, b, k, loc, c, x, n in cast(list[tuple[Any, ...]], rows.all())
    ]
