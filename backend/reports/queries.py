"""One SQL aggregate per KPI (docs/kpi.md has the definitions in words); the tickets
opened in the period are counted in ``backend.reports.opened``.

Every query counts in the database (GROUP BY, CASE sums, EXISTS), so a month of 100 000
tickets costs a handful of index range scans, not 100 000 ORM objects. "By the end of
the period" is read from the event log (``period.as_of``), so a report on a past month
does not change when one of its tickets is reopened later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend.lifecycle import CLOSED
from backend.models import (
    CallbackTask,
    Deadline,
    Message,
    Owner,
    Rating,
    Ticket,
    TicketEvent,
    Unit,
)
from backend.reports.model import Kpi, Period, Scope, SlaRow
from backend.reports.sql import Spread, read_spread, seconds_between, shifted, spread_columns
from backend.sla import PROMISES
from backend.vocabulary import DeadlineState, Direction, Kind

# What the bot read in an owner's message that should have become a ticket.
RECORDABLE_INTENTS = ("repair", "complaint", "urgent")
LINK_HOURS = 24  # a ticket of the same chat account or owner this close records the message
CLOSED_COMPLAINT = ("tracking", "callback", CLOSED)  # tracked to closure, called back, closed
SATISFIED = 4  # 5 very satisfied, 4 satisfied
# Every callback (回访) promise of DOMAIN.md: after a repair, after a major repair, after a
# complaint is accepted and after it is closed.
CALLBACK_PROMISES = (
    "repair.callback",
    "repair.second_callback",
    "complaint.accept_callback",
    "complaint.closure_callback",
)
STATE_EVENTS = ("created", "transition", "reopened")  # the events that move a ticket


def one(value: Any) -> int:
    return int(value or 0)


def in_scope(ticket: Any, scope: Scope) -> ColumnElement[bool]:
    """The tickets of the scope: ``ticket`` is ``Ticket`` or an alias of it."""
    if scope.whole_database:
        return true()
    conditions: list[ColumnElement[bool]] = [ticket.company_id == scope.company_id]
    if scope.estate_ids is not None:
        conditions.append(ticket.estate_id.in_(sorted(scope.estate_ids)))
    if scope.building_id is not None:
        units = select(Unit.id).where(Unit.building_id == scope.building_id)
        conditions.append(ticket.unit_id.in_(units))
    return and_(*conditions)


def opened_in(period: Period, ticket: Any = Ticket) -> ColumnElement[bool]:
    return and_(ticket.created_at >= period.start, ticket.created_at < period.as_of)


def reopened_by(period: Period, ticket: Any = Ticket) -> Any:
    """EXISTS: the ticket was reopened before the end of the period.

    ``at >= created_at`` is always true; it keeps PostgreSQL probing the event log per
    ticket (callers only ask for tickets with ``reopen_count > 0``) instead of hashing
    every reopen ever logged.
    """
    return exists().where(
        TicketEvent.ticket_id == ticket.id,
        TicketEvent.action == "reopened",
        TicketEvent.at < period.as_of,
        TicketEvent.at >= ticket.created_at,
    )


async def tickets_recorded(session: AsyncSession, scope: Scope, period: Period) -> Kpi:
    """Owner messages read as repair/complaint/emergency that ended up on a ticket."""
    dialect = session.get_bind().dialect.name
    m, owner, linked, near = Message, aliased(Owner), aliased(Ticket), aliased(Ticket)
    window = and_(
        near.created_at >= shifted(dialect, m.created_at, -LINK_HOURS),
        near.created_at <= shifted(dialect, m.created_at, LINK_HOURS),
    )
    # The IS NOT NULL guards spare the database a probe for messages without one.
    same_account = and_(
        m.identity_id.is_not(None), exists().where(near.identity_id == m.identity_id, window)
    )
    same_owner = and_(m.owner_id.is_not(None), exists().where(near.owner_id == m.owner_id, window))
    recorded = or_(m.ticket_id.is_not(None), same_owner, same_account)  # cheapest first
    unplaced = and_(m.owner_id.is_(None), m.ticket_id.is_(None))
    if scope.whole_database:
        placed: ColumnElement[bool] = true()
    elif scope.estate_ids is None and scope.building_id is None:
        placed = or_(
            owner.company_id == scope.company_id, linked.company_id == scope.company_id, unplaced
        )
    else:
        placed = func.coalesce(owner.company_id, linked.company_id) == scope.company_id
        if scope.estate_ids is not None:
            estate = func.coalesce(owner.estate_id, linked.estate_id)
            placed = and_(placed, estate.in_(sorted(scope.estate_ids)))
        if scope.building_id is not None:
            units = select(Unit.id).where(Unit.building_id == scope.building_id)
            placed = and_(placed, func.coalesce(owner.unit_id, linked.unit_id).in_(units))
    query = select(
        func.count(),
        func.sum(case((recorded, 1), else_=0)),
        func.sum(case((m.ticket_id.is_not(None), 1), else_=0)),
        func.sum(case((unplaced, 1), else_=0)),
    ).select_from(m)
    if not scope.whole_database:  # place the message by its owner, else by its ticket
        query = query.outerjoin(owner, owner.id == m.owner_id).outerjoin(
            linked, linked.id == m.ticket_id
        )
    row = (
        await session.execute(
            query.where(
                m.direction == Direction.IN,
                m.intent.in_(RECORDABLE_INTENTS),
                m.created_at >= period.start,
                m.created_at < period.as_of,
                placed,
            )
        )
    ).one()
    total, done, linked_count, unplaced_count = (one(v) for v in row)
    parts = {"linked": linked_count, "matched": done - linked_count, "unplaced": unplaced_count}
    return Kpi("tickets_recorded", done, total, parts)


async def repair_satisfaction(session: AsyncSession, scope: Scope, period: Period) -> Kpi:
    """Repair ratings given in the period: 5 or 4 (satisfied) of all."""
    rows = await session.execute(
        select(Rating.score, func.count())
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(
            Ticket.kind == Kind.REPAIR,
            in_scope(Ticket, scope),
            Rating.created_at >= period.start,
            Rating.created_at < period.as_of,
        )
        .group_by(Rating.score)
    )
    scores = {int(score): int(count) for score, count in rows.all()}
    satisfied = sum(n for score, n in scores.items() if score >= SATISFIED)
    parts = {f"score_{s}": scores.get(s, 0) for s in (5, 4, 3, 2, 1)}
    return Kpi("repair_satisfaction", satisfied, sum(scores.values()), parts)


async def accepted_first_time(session: AsyncSession, scope: Scope, period: Period) -> Kpi:
    """Repairs closed in the period that had never been reopened by its end."""
    closed = select(TicketEvent.ticket_id).where(
        TicketEvent.to_state == CLOSED,
        TicketEvent.action == "transition",
        TicketEvent.at >= period.start,
        TicketEvent.at < period.as_of,
    )
    row = (
        await session.execute(
            select(
                func.count(),
                func.sum(case((Ticket.reopen_count == 0, 1), (~reopened_by(period), 1), else_=0)),
            )
            .select_from(Ticket)
            .where(Ticket.kind == Kind.REPAIR, Ticket.id.in_(closed), in_scope(Ticket, scope))
        )
    ).one()
    return Kpi("accepted_first_time", one(row[1]), one(row[0]))


async def sla(session: AsyncSession, scope: Scope, period: Period) -> list[SlaRow]:
    """Every promise's deadlines due in the period: met, late, open, pending, and the
    median and 90th percentile of start → kept, in one pass over the deadlines."""
    dialect = session.get_bind().dialect.name
    d = Deadline
    kept = d.met_at.is_not(None)
    outcomes = (
        and_(kept, d.met_at <= d.due_at),
        and_(kept, d.met_at > d.due_at),
        and_(d.met_at.is_(None), d.due_at < period.now),
        and_(d.met_at.is_(None), d.due_at >= period.now),
    )
    query = select(
        d.promise,
        *(func.sum(case((c, 1), else_=0)) for c in outcomes),
        *spread_columns(dialect, seconds_between(dialect, d.met_at, d.started_at)),
    ).where(
        d.promise.in_([p.key for p in PROMISES]),  # one index range per promise, in order
        d.due_at >= period.start,
        d.due_at < period.end,
        d.state != DeadlineState.CANCELLED,
    )
    if not scope.whole_database:
        query = query.join(Ticket, Ticket.id == d.ticket_id).where(in_scope(Ticket, scope))
    found = {
        promise: ([one(v) for v in values[:4]], read_spread(dialect, values[4:]))
        for promise, *values in (await session.execute(query.group_by(d.promise))).all()
    }
    result = []
    for promise in PROMISES:
        (met, late, open_, pending), spread = found.get(promise.key, ([0, 0, 0, 0], Spread()))
        result.append(
            SlaRow(
                promise.key,
                promise.kind.value,
                met=met,
                late=late,
                open=open_,
                pending=pending,
                median_s=spread.median,
                p90_s=spread.p90,
            )
        )
    return result


async def callback_tasks(session: AsyncSession, scope: Scope, period: Period) -> tuple[int, int]:
    """Phone callbacks due in the period (not those not due yet): (due, done)."""
    row = (
        await session.execute(
            select(func.count(), func.sum(case((CallbackTask.done_at.is_not(None), 1), else_=0)))
            .select_from(CallbackTask)
            .join(Ticket, Ticket.id == CallbackTask.ticket_id)
            .where(
                CallbackTask.kind == "callback",
                CallbackTask.due_at >= period.start,
                CallbackTask.due_at < period.end,
                or_(CallbackTask.due_at < period.now, CallbackTask.done_at.is_not(None)),
                in_scope(Ticket, scope),
            )
        )
    ).one()
    return one(row[0]), one(row[1])


def callbacks_done(rows: list[SlaRow], tasks: tuple[int, int]) -> Kpi:
    """Callback promises due in the period that were kept (late too), plus phone tasks."""
    chosen = [r for r in rows if r.promise in CALLBACK_PROMISES]
    kept = sum(r.met + r.late for r in chosen)
    owed = sum(r.met + r.late + r.open for r in chosen)
    tasks_due, tasks_done = tasks
    parts = {
        "promises_due": owed,
        "promises_kept": kept,
        "phone_tasks_due": tasks_due,
        "phone_tasks_done": tasks_done,
    }
    return Kpi("callbacks_done", kept + tasks_done, owed + tasks_due, parts)
