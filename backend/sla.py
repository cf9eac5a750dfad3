"""Service promises (DOMAIN.md) and the deadlines they put on tickets.

A promise starts on a *signal* (a ticket entering a state, or an event such as a
staff reply) and is kept by another signal. Defaults below; a company or one estate
may override amount and unit, or switch a promise off, in the ``sla_policies`` table.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.calendar import WorkCalendar
from backend.errors import InvalidInput
from backend.models import CompanyHoliday, Deadline, SlaPolicy, Ticket
from backend.vocabulary import DeadlineState, Kind

# A promise not yet kept: pending, or marked breached by the SLA watch and still to keep
# (kept late, its time is still recorded for "done late" in the reports).
NOT_YET_KEPT = and_(
    Deadline.state.in_([DeadlineState.PENDING, DeadlineState.BREACHED]),
    Deadline.met_at.is_(None),
)


class Span(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_DAYS = "working_days"
    MONTHS = "months"


def state_signal(state: str) -> str:
    return f"state:{state}"


def event_signal(event: str) -> str:
    return f"event:{event}"


# Events that keep promises without moving the ticket.
STAFF_REPLY = "staff_reply"
FOLLOW_UP = "follow_up"  # a progress callback to the owner of an open complaint
SECOND_CALLBACK = "second_callback"
ENQUIRY_CALLBACK = "enquiry_callback"  # the owner asked whether a handled enquiry is settled
REOPENED = "reopened"


@dataclass(frozen=True)
class Promise:
    key: str
    kind: Kind
    amount: int
    span: Span
    starts_on: frozenset[str]
    stops_on: frozenset[str]
    major_only: bool = False
    title_zh: str = ""
    title_en: str = ""


def _p(
    key: str,
    kind: Kind,
    amount: int,
    span: Span,
    starts: Iterable[str],
    stops: Iterable[str],
    zh: str,
    en: str,
    major_only: bool = False,
) -> Promise:
    return Promise(key, kind, amount, span, frozenset(starts), frozenset(stops), major_only, zh, en)


S, E = state_signal, event_signal
# fmt: off
PROMISES: tuple[Promise, ...] = (
    _p("repair.dispatch", Kind.REPAIR, 10, Span.MINUTES, [S("received")], [S("dispatched")],
       "派单", "dispatch with a named responsible person"),
    _p("repair.on_site", Kind.REPAIR, 30, Span.MINUTES, [S("dispatched")], [S("on_site")],
       "首次到场", "first on-site inspection"),
    _p("repair.callback", Kind.REPAIR, 24, Span.HOURS, [S("done")], [S("callback")],
       "维修回访", "callback after the repair"),
    _p("repair.second_callback", Kind.REPAIR, 2, Span.MONTHS, [S("done")], [E(SECOND_CALLBACK)],
       "重大维修二次回访", "second callback after a major repair", major_only=True),
    _p("complaint.first_response", Kind.COMPLAINT, 2, Span.HOURS, [S("accepted")],
       [S("confirmed"), E(STAFF_REPLY)], "投诉首次响应", "first response to the complaint"),
    _p("complaint.reply", Kind.COMPLAINT, 48, Span.HOURS, [S("accepted"), E(REOPENED)],
       [S("replied")], "投诉答复", "substantive reply"),
    _p("complaint.accept_callback", Kind.COMPLAINT, 24, Span.HOURS, [S("accepted")],
       [E(FOLLOW_UP), S("replied")], "受理后回访", "callback after acceptance"),
    _p("complaint.closure_callback", Kind.COMPLAINT, 3, Span.WORKING_DAYS, [S("tracking")],
       [S("callback")], "结案后回访", "callback after closure"),
    _p("enquiry.callback", Kind.ENQUIRY, 7 * 24, Span.HOURS, [S("answered")],
       [E(ENQUIRY_CALLBACK)], "物业服务回访", "callback after a property-service enquiry"),
)
# fmt: on
PROMISES_BY_KEY: Mapping[str, Promise] = {p.key: p for p in PROMISES}


@dataclass(frozen=True)
class Rule:
    """A promise as it applies to one estate after overrides."""

    promise: Promise
    amount: int
    span: Span
    enabled: bool = True


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, _stdcal.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def due_at(start: datetime, amount: int, span: Span, tz: ZoneInfo, cal: WorkCalendar) -> datetime:
    """When a promise started at ``start`` (aware) falls due, as an aware UTC time.

    Working-day promises end at the close (23:59:59 local) of the n-th working day
    after the start day; month promises keep the local time of day.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if span is Span.MINUTES:
        return (start + timedelta(minutes=amount)).astimezone(UTC)
    if span is Span.HOURS:
        return (start + timedelta(hours=amount)).astimezone(UTC)
    local = start.astimezone(tz)
    if span is Span.MONTHS:
        due_local = add_months(local, amount)
    else:
        day = cal.add_workdays(local.date(), amount)
        due_local = datetime.combine(day, time(23, 59, 59), tzinfo=tz)
    return due_local.astimezone(UTC)


async def load_calendar(session: AsyncSession, company_id: int) -> WorkCalendar:
    rows = await session.execute(
        select(CompanyHoliday.day, CompanyHoliday.is_workday).where(
            CompanyHoliday.company_id == company_id
        )
    )
    return WorkCalendar({day: is_workday for day, is_workday in rows.all()})


async def load_rules(session: AsyncSession, company_id: int, estate_id: int) -> dict[str, Rule]:
    """Defaults, then the company's overrides, then the estate's."""
    rules = {p.key: Rule(p, p.amount, p.span) for p in PROMISES}
    rows = (
        await session.scalars(
            select(SlaPolicy)
            .where(
                SlaPolicy.company_id == company_id,
                or_(SlaPolicy.estate_id.is_(None), SlaPolicy.estate_id == estate_id),
            )
            .order_by(SlaPolicy.estate_id.is_not(None))
        )
    ).all()
    for row in rows:  # company-wide rows first, so estate rows win
        promise = PROMISES_BY_KEY.get(row.promise)
        if promise is None:
            continue
        rules[row.promise] = Rule(promise, row.amount, Span(row.unit), row.enabled)
    return rules


async def set_policy(
    session: AsyncSession,
    *,
    company_id: int,
    promise: str,
    amount: int,
    unit: str,
    estate_id: int | None = None,
    enabled: bool = True,
) -> SlaPolicy:
    if promise not in PROMISES_BY_KEY:
        raise InvalidInput(f"unknown promise {promise!r}")
    if amount <= 0:
        raise InvalidInput("a promise needs a positive amount")
    try:
        span = Span(unit)
    except ValueError:
        raise InvalidInput(f"unknown unit {unit!r}") from None
    same_scope = (
        SlaPolicy.estate_id.is_(None) if estate_id is None else SlaPolicy.estate_id == estate_id
    )
    row = await session.scalar(
        select(SlaPolicy).where(
            SlaPolicy.company_id == company_id, SlaPolicy.promise == promise, same_scope
        )
    )
    if row is None:
        row = SlaPolicy(company_id=company_id, estate_id=estate_id, promise=promise)
        session.add(row)
    row.amount, row.unit, row.enabled = amount, span.value, enabled
    await session.flush()
    return row


def effective_state(deadline: Deadline, now: datetime) -> str:
    """A pending deadline whose time has passed is breached even before the watch marks it."""
    if deadline.state == DeadlineState.PENDING and now > deadline.due_at:
        return DeadlineState.BREACHED.value
    return deadline.state


async def apply_signal(
    session: AsyncSession,
    ticket: Ticket,
    signal: str,
    at: datetime,
    tz: ZoneInfo,
) -> list[Deadline]:
    """Stop the promises this signal keeps, start the ones it begins; return new deadlines."""
    pending = (
        await session.scalars(
            select(Deadline).where(
                Deadline.ticket_id == ticket.id,
                NOT_YET_KEPT,
            )
        )
    ).all()
    for deadline in pending:
        promise = PROMISES_BY_KEY.get(deadline.promise)
        if promise is not None and signal in promise.stops_on:
            deadline.met_at = at
            if at <= deadline.due_at:
                deadline.state = DeadlineState.MET
            else:
                deadline.state = DeadlineState.BREACHED
                deadline.breached_at = deadline.breached_at or deadline.due_at
    starting = [
        p
        for p in PROMISES
        if p.kind == ticket.kind and signal in p.starts_on and (ticket.major or not p.major_only)
    ]
    if not starting:
        return []
    rules = await load_rules(session, ticket.company_id, ticket.estate_id)
    cal = await load_calendar(session, ticket.company_id)
    started: list[Deadline] = []
    for promise in starting:
        rule = rules[promise.key]
        if not rule.enabled:
            continue
        deadline = Deadline(
            ticket_id=ticket.id,
            promise=promise.key,
            started_at=at,
            due_at=due_at(at, rule.amount, rule.span, tz, cal),
        )
        session.add(deadline)
        started.append(deadline)
    await session.flush()
    return started


async def cancel_pending(session: AsyncSession, ticket_id: int) -> None:
    pending = (
        await session.scalars(
            select(Deadline).where(
                Deadline.ticket_id == ticket_id, Deadline.state == DeadlineState.PENDING
            )
        )
    ).all()
    for deadline in pending:
        deadline.state = DeadlineState.CANCELLED


async def mark_breaches(session: AsyncSession, now: datetime) -> list[Deadline]:
    """Record every pending deadline whose time has passed; the SLA watch calls this."""
    overdue = (
        await session.scalars(
            select(Deadline).where(Deadline.state == DeadlineState.PENDING, Deadline.due_at < now)
        )
    ).all()
    for deadline in overdue:
        deadline.state = DeadlineState.BREACHED
        deadline.breached_at = deadline.due_at
    await session.flush()
    return list(overdue)
