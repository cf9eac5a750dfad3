"""Opening tickets and moving them through their lifecycle, every move logged.

The lifecycles themselves are in ``backend.lifecycle``; the promises each move starts
or keeps are in ``backend.sla``. Callers pass ``now`` so jobs and tests control time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle, sla, topics
from backend.actors import Actor
from backend.errors import DomainError, IllegalTransition, InvalidInput, NotFound
from backend.models import (
    Deadline,
    Estate,
    Owner,
    Staff,
    Ticket,
    TicketCounter,
    TicketEvent,
    Unit,
    staff_estates,
    utcnow,
)
from backend.vocabulary import KIND_PREFIX, MAJOR_REPAIR_CATEGORIES, Kind, RepairCategory, Role

REPEAT_WINDOW = timedelta(days=90)
SAME_REPAIR_WINDOW = timedelta(days=30)
# R-20261126-0007: kind, the estate's local day, the company's daily sequence.
NUMBER_PATTERN = r"[RCE]-\d{8}-\d{3,}"
NUMBER_IN_TEXT = re.compile(rf"\b({NUMBER_PATTERN})\b", re.I)
SUMMARY_LENGTH = 80
# "你好，" / "物业您好！" / "Hi," before the problem: not part of a ticket's one-line summary.
_OPENING = re.compile(
    r"^(?:(?:物业|管家|师傅)?(?:你好|您好|在吗)|hi|hello|hey|dear \w+|"
    r"good (?:morning|afternoon|evening))"
    r"(?![a-z])[\s,，:：!！。.~～?？]*",
    re.I,
)
DISPATCH_ROLES = frozenset({Role.TECHNICIAN, Role.SUPERVISOR})
OWNER_ADDED = "owner_added"


def summary_of(text: str) -> str:
    """The one line lists show: greetings off the front, whitespace folded, 80 characters."""
    line = " ".join(text.split())
    while (opening := _OPENING.match(line)) and opening.end() < len(line):
        line = line[opening.end() :]
    return line[:SUMMARY_LENGTH]


def estate_zone(estate: Estate) -> ZoneInfo:
    return ZoneInfo(estate.timezone)


async def allocate_number(
    session: AsyncSession, company_id: int, kind: Kind, local_day: date
) -> str:
    """Next human-readable number for the company, e.g. ``R-20261126-0007``.

    The counter row is updated in place, so concurrent writers on PostgreSQL queue on
    its row lock instead of handing out the same number.
    """
    prefix = KIND_PREFIX[kind]
    bump = (
        update(TicketCounter)
        .where(
            TicketCounter.company_id == company_id,
            TicketCounter.prefix == prefix,
            TicketCounter.day == local_day,
        )
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
        .execution_options(synchronize_session=False)
    )
    seq = (await session.execute(bump)).scalar_one_or_none()
    if seq is None:
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(TicketCounter).values(
                        company_id=company_id, prefix=prefix, day=local_day, last=1
                    )
                )
            seq = 1
        except IntegrityError:  # another writer created today's row first
            seq = (await session.execute(bump)).scalar_one()
    return f"{prefix}-{local_day:%Y%m%d}-{seq:04d}"


async def _estate_staff(session: AsyncSession, estate_id: int, role: Role) -> Staff | None:
    return await session.scalar(
        select(Staff)
        .join(staff_estates, staff_estates.c.staff_id == Staff.id)
        .where(staff_estates.c.estate_id == estate_id, Staff.role == role, Staff.active)
        .order_by(Staff.id)
        .limit(1)
    )


async def _find_repeat_of(
    session: AsyncSession, unit_id: int, location: str, category: str, now: datetime
) -> Ticket | None:
    """The latest repair on the same unit, same spot and same kind within 90 days."""
    return await session.scalar(
        select(Ticket)
        .where(
            Ticket.kind == Kind.REPAIR,
            Ticket.unit_id == unit_id,
            Ticket.location == location,
            Ticket.category == category,
            Ticket.state != lifecycle.CANCELLED,
            Ticket.created_at >= now - REPEAT_WINDOW,
        )
        .order_by(Ticket.created_at.desc())
        .limit(1)
    )


def _log(
    session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    action: str,
    at: datetime,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id,
        at=at,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
    )
    session.add(event)
    return event


async def open_ticket(
    session: AsyncSession,
    *,
    kind: str,
    estate_id: int,
    actor: Actor,
    channel: str = "console",
    owner_id: int | None = None,
    unit_id: int | None = None,
    identity_id: int | None = None,
    summary: str = "",
    description: str = "",
    category: str | None = None,
    location: str = "",
    item: str = "",
    urgent: bool = False,
    unverified: bool = False,
    contact_phone: str = "",
    preferred_time: str = "",
    language: str = "zh",
    now: datetime | None = None,
) -> Ticket:
    now = now or utcnow()
    k = lifecycle.as_kind(kind)
    estate = await session.get(Estate, estate_id)
    if estate is None:
        raise NotFound(f"no estate with id {estate_id}")
    owner = await session.get(Owner, owner_id) if owner_id is not None else None
    if owner_id is not None and owner is None:
        raise NotFound(f"no owner with id {owner_id}")
    if owner is not None:
        if owner.estate_id != estate_id:
            raise InvalidInput("the owner does not live in this estate")
        unit_id = unit_id or owner.unit_id
    if unit_id is not None:
        unit = await session.get(Unit, unit_id)
        if unit is None or unit.estate_id != estate_id:
            raise InvalidInput("the unit is not in this estate")
    if k is Kind.REPAIR:
        category = category or RepairCategory.OTHER.value
        if category not in RepairCategory.__members__.values():
            raise InvalidInput(f"unknown repair category {category!r}")
    else:
        category = None

    summary = summary_of(summary)
    tz = estate_zone(estate)
    number = await allocate_number(session, estate.company_id, k, now.astimezone(tz).date())
    repeat_of = None
    if k is Kind.REPAIR and unit_id is not None and category is not None:
        repeat_of = await _find_repeat_of(session, unit_id, location, category, now)
    ambassador = await _estate_staff(session, estate_id, Role.AGENT)
    supervisor = await _estate_staff(session, estate_id, Role.SUPERVISOR)
    state = lifecycle.initial_state(k)
    ticket = Ticket(
        company_id=estate.company_id,
        estate_id=estate_id,
        unit_id=unit_id,
        owner_id=owner_id,
        identity_id=identity_id,
        number=number,
        kind=k.value,
        state=state,
        channel=channel,
        category=category,
        topic=topics.classify(f"{summary}\n{description}") if k is Kind.COMPLAINT else None,
        location=location,
        item=item,
        summary=summary[:300],
        description=description,
        contact_phone=contact_phone or (owner.phone if owner else ""),
        preferred_time=preferred_time,
        language=language,
        urgent=urgent,
        key_owner=bool(owner and owner.key_owner),
        unverified=unverified,
        major=category in MAJOR_REPAIR_CATEGORIES,
        is_repeat=repeat_of is not None,
        repeat_of_id=repeat_of.id if repeat_of else None,
        ambassador_id=ambassador.id if ambassador else None,
        supervisor_id=supervisor.id if supervisor else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    await session.flush()
    note = f"repeat of {repeat_of.number}" if repeat_of else ""
    _log(session, ticket, actor, "created", now, to_state=state, note=note)
    await sla.apply_signal(session, ticket, sla.state_signal(state), now, tz)
    return ticket


def of_chat(owner_id: int | None, identity_id: int) -> ColumnElement[bool]:
    """Tickets of this owner, or opened from this chat account (an unverified one's)."""
    if owner_id is None:
        return Ticket.identity_id == identity_id
    return or_(Ticket.identity_id == identity_id, Ticket.owner_id == owner_id)


async def open_of_chat(
    session: AsyncSession,
    owner_id: int | None,
    identity_id: int,
    *,
    number: str | None = None,
    since: datetime | None = None,
    urgent: bool = False,
) -> Ticket | None:
    """The open ticket with this number, or the last one opened since ``since``, among the
    owner's and this chat's (``owner_id`` None: only those opened from this chat)."""
    query = select(Ticket).where(
        of_chat(owner_id, identity_id),
        Ticket.state.not_in([lifecycle.CLOSED, lifecycle.CANCELLED]),
    )
    if urgent:
        query = query.where(Ticket.urgent)
    if number is not None:
        query = query.where(Ticket.number == number.upper())
    if since is not None:
        query = query.where(Ticket.created_at >= since)
    return await session.scalar(query.order_by(Ticket.id.desc()).limit(1))


async def same_repair_open(
    session: AsyncSession,
    owner_id: int,
    identity_id: int,
    *,
    location: str,
    category: str,
    now: datetime,
) -> Ticket | None:
    """The owner's repair of the same spot and kind whose work is not done yet: a second
    report of it is more likely news about it than a new fault."""
    if not location or category == RepairCategory.OTHER:
        return None
    return await session.scalar(
        select(Ticket)
        .where(
            of_chat(owner_id, identity_id),
            Ticket.kind == Kind.REPAIR,
            Ticket.state.in_(lifecycle.CANCELLABLE[Kind.REPAIR]),
            Ticket.location == location,
            Ticket.category == category,
            Ticket.created_at >= now - SAME_REPAIR_WINDOW,
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )


async def withdrawable(
    session: AsyncSession,
    owner_id: int,
    identity_id: int,
    *,
    number: str | None = None,
    kind: str | None = None,
    limit: int = 5,
) -> list[Ticket]:
    """The owner's tickets they may still withdraw themselves: those staff could cancel
    (a repair before its work is done; a complaint before the reply)."""
    kinds = [lifecycle.as_kind(kind)] if kind else list(lifecycle.CANCELLABLE)
    query = select(Ticket).where(
        of_chat(owner_id, identity_id),
        or_(*(and_(Ticket.kind == k, Ticket.state.in_(lifecycle.CANCELLABLE[k])) for k in kinds)),
    )
    if number is not None:
        query = query.where(Ticket.number == number.upper())
    return list(await session.scalars(query.order_by(Ticket.id.desc()).limit(limit)))


async def get_ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


async def get_by_number(session: AsyncSession, company_id: int, number: str) -> Ticket:
    ticket = await session.scalar(
        select(Ticket).where(Ticket.company_id == company_id, Ticket.number == number.upper())
    )
    if ticket is None:
        raise NotFound(f"no ticket numbered {number}")
    return ticket


async def _zone_of(session: AsyncSession, ticket: Ticket) -> ZoneInfo:
    estate = await session.get(Estate, ticket.estate_id)
    assert estate is not None
    return estate_zone(estate)


async def _check_assignee(session: AsyncSession, ticket: Ticket, staff_id: int) -> Staff:
    staff = await session.get(Staff, staff_id)
    if staff is None or not staff.active:
        raise NotFound(f"no active staff member with id {staff_id}")
    estate_ids = (
        await session.scalars(
            select(staff_estates.c.estate_id).where(staff_estates.c.staff_id == staff_id)
        )
    ).all()
    if ticket.estate_id not in estate_ids:
        raise InvalidInput(f"{staff.shown_name} does not work on this ticket's estate")
    return staff


async def transition(
    session: AsyncSession,
    ticket: Ticket,
    to_state: str,
    actor: Actor,
    *,
    note: str = "",
    assignee_id: int | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Move ``ticket`` to ``to_state`` if its lifecycle allows it; log it; start/keep promises."""
    now = now or utcnow()
    from_state = ticket.state
    lifecycle.check_transition(ticket.kind, from_state, to_state)
    data: dict[str, Any] = {}
    if to_state == lifecycle.CANCELLED:
        reason = reason.strip()
        if not reason:
            raise InvalidInput("cancelling a ticket needs a reason")
        ticket.cancel_reason = reason[:300]
        note = note or reason
    if ticket.kind == Kind.REPAIR and to_state == "dispatched":
        staff_id = assignee_id or ticket.assignee_id
        if staff_id is None:
            raise DomainError("dispatch needs a named responsible person", code="assignee_required")
        staff = await _check_assignee(session, ticket, staff_id)
        if staff.role not in DISPATCH_ROLES:
            raise InvalidInput(f"{staff.shown_name} is not a technician or supervisor")
        ticket.assignee_id = staff.id
        ticket.dispatched_at = now
        data["assignee_id"] = staff.id
        data["assignee"] = staff.shown_name
    elif assignee_id is not None:
        await _check_assignee(session, ticket, assignee_id)
        ticket.assignee_id = assignee_id
        data["assignee_id"] = assignee_id

    reopen = lifecycle.is_reopen(ticket.kind, from_state, to_state)
    tz = await _zone_of(session, ticket)
    ticket.state = to_state
    ticket.updated_at = now
    if reopen:
        ticket.reopen_count += 1
        ticket.closed_at = None
        ticket.resolved_at = None
        if ticket.kind == Kind.REPAIR:
            ticket.is_repeat = True
        await sla.cancel_pending(session, ticket.id)
    if to_state in ("done", "tracking"):
        ticket.resolved_at = now
    if to_state in (lifecycle.CLOSED, lifecycle.CANCELLED):
        ticket.closed_at = now
    if to_state == lifecycle.CANCELLED:
        await sla.cancel_pending(session, ticket.id)
    _log(
        session,
        ticket,
        actor,
        "reopened" if reopen else "transition",
        now,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
    )
    if reopen:
        await sla.apply_signal(session, ticket, sla.event_signal(sla.REOPENED), now, tz)
    await sla.apply_signal(session, ticket, sla.state_signal(to_state), now, tz)
    return ticket


async def cancel(
    session: AsyncSession, ticket: Ticket, reason: str, actor: Actor, now: datetime | None = None
) -> Ticket:
    return await transition(session, ticket, lifecycle.CANCELLED, actor, reason=reason, now=now)


async def reopen(
    session: AsyncSession, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Ticket:
    k = lifecycle.as_kind(ticket.kind)
    if ticket.state not in lifecycle.REOPEN_FROM[k]:
        raise IllegalTransition(f"a {k.value} ticket in state {ticket.state} cannot be reopened")
    return await transition(session, ticket, lifecycle.REOPEN_TO[k], actor, note=note, now=now)


async def record(
    session: AsyncSession,
    ticket: Ticket,
    event: str,
    actor: Actor,
    *,
    note: str = "",
    now: datetime | None = None,
) -> TicketEvent:
    """Log an event that keeps a promise without moving the ticket (a reply, a callback)."""
    if event not in (sla.STAFF_REPLY, sla.FOLLOW_UP, sla.SECOND_CALLBACK, sla.ENQUIRY_CALLBACK):
        raise InvalidInput(f"unknown ticket event {event!r}")
    now = now or utcnow()
    logged = _log(
        session,
        ticket,
        actor,
        event,
        now,
        from_state=ticket.state,
        to_state=ticket.state,
        note=note,
    )
    ticket.updated_at = now
    await sla.apply_signal(
        session, ticket, sla.event_signal(event), now, await _zone_of(session, ticket)
    )
    return logged


async def set_flag(
    session: AsyncSession,
    ticket: Ticket,
    flag: str,
    value: bool,
    actor: Actor,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Emergency (``urgent``) and key-owner flags; both are logged like transitions."""
    if flag not in ("urgent", "key_owner"):
        raise InvalidInput(f"unknown flag {flag!r}")
    now = now or utcnow()
    setattr(ticket, flag, value)
    ticket.updated_at = now
    _log(
        session,
        ticket,
        actor,
        f"{flag}_{'set' if value else 'cleared'}",
        now,
        from_state=ticket.state,
        to_state=ticket.state,
        note=note,
    )
    return ticket


async def escalate(
    session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """One level up: 1 = supervisor, 2 = manager."""
    if not lifecycle.is_open(ticket.kind, ticket.state):
        raise IllegalTransition("only an open ticket can be escalated")
    if ticket.escalation_level >= 2:
        raise IllegalTransition("the ticket is already with the manager")
    now = now or utcnow()
    ticket.escalation_level += 1
    ticket.updated_at = now
    _log(
        session,
        ticket,
        actor,
        "escalated",
        now,
        from_state=ticket.state,
        to_state=ticket.state,
        note=note,
        data={"level": ticket.escalation_level},
    )
    return ticket


async def assign(
    session: AsyncSession,
    ticket: Ticket,
    staff_id: int,
    actor: Actor,
    *,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    if not lifecycle.is_open(ticket.kind, ticket.state):
        raise IllegalTransition("a closed or cancelled ticket cannot be reassigned")
    staff = await _check_assignee(session, ticket, staff_id)
    now = now or utcnow()
    previous = ticket.assignee_id
    ticket.assignee_id = staff.id
    ticket.updated_at = now
    _log(
        session,
        ticket,
        actor,
        "assigned",
        now,
        from_state=ticket.state,
        to_state=ticket.state,
        note=note,
        data={"from": previous, "to": staff.id, "assignee": staff.shown_name},
    )
    return ticket


async def log_event(
    session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    action: str,
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> TicketEvent:
    """Something worth keeping on the ticket's record that neither moves it nor keeps a promise."""
    now = now or utcnow()
    return _log(
        session,
        ticket,
        actor,
        action,
        now,
        from_state=ticket.state,
        to_state=ticket.state,
        note=note,
        data=data,
    )


async def add_note(
    session: AsyncSession, ticket: Ticket, actor: Actor, note: str, *, now: datetime | None = None
) -> TicketEvent:
    """An internal note on the ticket's log (never shown to the owner)."""
    if not note.strip():
        raise InvalidInput("a note needs some text")
    now = now or utcnow()
    ticket.updated_at = now
    return _log(
        session,
        ticket,
        actor,
        "note",
        now,
        from_state=ticket.state,
        to_state=ticket.state,
        note=note.strip()[:4000],
    )


async def add_from_owner(
    session: AsyncSession,
    ticket: Ticket,
    actor: Actor,
    text: str,
    photos: Sequence[str],
    *,
    message_id: int,
    now: datetime,
) -> TicketEvent:
    """What the owner adds after the ticket was opened ("补充一下…", a photo of the damage):
    kept on its record for whoever handles it, rather than opening a second ticket."""
    if not text.strip() and not photos:
        raise InvalidInput("an addition needs text or a photo")
    ticket.attachments = [*ticket.attachments, *photos]
    ticket.updated_at = now
    return await log_event(
        session,
        ticket,
        actor,
        OWNER_ADDED,
        note=text.strip()[:4000],
        data={"message_id": message_id, "photos": list(photos)},
        now=now,
    )


async def withdraw_from_owner(
    session: AsyncSession, ticket: Ticket, message_id: int
) -> TicketEvent | None:
    """Take back an addition the owner says was a new problem; None when there is none."""
    events = await session.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.action == OWNER_ADDED
        )
    )
    event = next((e for e in events if e.data.get("message_id") == message_id), None)
    if event is None:
        return None
    photos = list(event.data.get("photos", []))
    remaining = list(ticket.attachments)
    for ref in photos:
        if ref in remaining:
            remaining.remove(ref)
    ticket.attachments = remaining
    await session.delete(event)
    return event


async def deadlines_of(
    session: AsyncSession, ticket_ids: Sequence[int]
) -> dict[int, list[Deadline]]:
    result: dict[int, list[Deadline]] = {tid: [] for tid in ticket_ids}
    if not ticket_ids:
        return result
    rows = await session.scalars(
        select(Deadline).where(Deadline.ticket_id.in_(ticket_ids)).order_by(Deadline.id)
    )
    for deadline in rows:
        result[deadline.ticket_id].append(deadline)
    return result


async def events_of(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    rows = await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return list(rows)


@dataclass(frozen=True)
class TicketFilter:
    estate_code: str | None = None
    kind: str | None = None
    state: str | None = None
    estate_ids: frozenset[int] | None = None  # scoping: None = every estate
    limit: int | None = None


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    estate_code: str
    unit_number: str | None
    deadlines: list[Deadline]

    def as_json(self, now: datetime) -> dict[str, Any]:
        t = self.ticket
        return {
            "id": t.id,
            "number": t.number,
            "kind": t.kind,
            "state": t.state,
            "estate": self.estate_code,
            "unit": self.unit_number,
            "owner_id": t.owner_id,
            "urgent": t.urgent,
            "key_owner": t.key_owner,
            "channel": t.channel,
            "category": t.category,
            "summary": t.summary,
            "is_repeat": t.is_repeat,
            "assignee_id": t.assignee_id,
            "created_at": t.created_at.isoformat(),
            "deadlines": [
                {
                    "promise": d.promise,
                    "due_at": d.due_at.isoformat(),
                    "state": sla.effective_state(d, now),
                    "met_at": d.met_at.isoformat() if d.met_at else None,
                }
                for d in self.deadlines
            ],
        }


async def list_tickets(session: AsyncSession, flt: TicketFilter) -> list[TicketRow]:
    query = (
        select(Ticket, Estate.code, Unit.number)
        .join(Estate, Estate.id == Ticket.estate_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .order_by(Ticket.urgent.desc(), Ticket.created_at.desc(), Ticket.id.desc())
    )
    if flt.estate_code:
        query = query.where(Estate.code == flt.estate_code)
    if flt.kind:
        query = query.where(Ticket.kind == lifecycle.as_kind(flt.kind).value)
    if flt.state:
        query = query.where(Ticket.state == flt.state)
    if flt.estate_ids is not None:
        query = query.where(Ticket.estate_id.in_(flt.estate_ids))
    if flt.limit:
        query = query.limit(flt.limit)
    rows = (await session.execute(query)).all()
    deadlines = await deadlines_of(session, [t.id for t, _, _ in rows])
    return [TicketRow(t, code, number, deadlines[t.id]) for t, code, number in rows]
