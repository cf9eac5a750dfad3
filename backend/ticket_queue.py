"""The front desk's queue: open tickets a staff member may see, most urgent and newest
first, each with an SLA badge counting down to its next promise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle
from backend.access import StaffContext
from backend.models import Building, Deadline, Estate, Owner, Staff, Ticket, Unit
from backend.vocabulary import DeadlineState

AMBER_SHARE = 0.25  # amber when less than this share of the promised time is left
PAGE = 200


@dataclass(frozen=True)
class Badge:
    """The next promise of a ticket: green (on track), amber (running out), red (breached)."""

    colour: str
    due_at: datetime
    promise: str
    seconds_left: int  # negative when breached


def badge_for(deadline: Deadline | None, now: datetime) -> Badge | None:
    if deadline is None:
        return None
    left = deadline.due_at - now
    span = deadline.due_at - deadline.started_at
    if left.total_seconds() < 0:
        colour = "red"
    elif left <= span * AMBER_SHARE:
        colour = "amber"
    else:
        colour = "green"
    return Badge(colour, deadline.due_at, deadline.promise, int(left.total_seconds()))


@dataclass(frozen=True)
class QueueFilter:
    kind: str | None = None
    state: str | None = None
    estate_id: int | None = None
    building: str | None = None
    assignee_id: int | None = None
    overdue: bool = False
    urgent: bool = False
    key_owner: bool = False
    search: str = ""
    include_closed: bool = False


@dataclass(frozen=True)
class QueueRow:
    ticket: Ticket
    estate_code: str
    unit_number: str | None
    owner_name: str | None
    assignee_name: str | None
    badge: Badge | None


async def queue(
    session: AsyncSession, ctx: StaffContext, flt: QueueFilter, now: datetime
) -> list[QueueRow]:
    assignee = Staff.__table__.alias("assignee")
    query = (
        select(Ticket, Estate.code, Unit.number, Owner.name, assignee.c.display_name)
        .join(Estate, Estate.id == Ticket.estate_id)
        .outerjoin(Unit, Unit.id == Ticket.unit_id)
        .outerjoin(Owner, Owner.id == Ticket.owner_id)
        .outerjoin(assignee, assignee.c.id == Ticket.assignee_id)
        .where(ctx.ticket_scope())
        .order_by(
            Ticket.urgent.desc(),
            Ticket.escalation_level.desc(),
            Ticket.created_at.desc(),
            Ticket.id.desc(),
        )
        .limit(PAGE)
    )
    if not flt.include_closed and not flt.state:
        query = query.where(Ticket.state.not_in([lifecycle.CLOSED, lifecycle.CANCELLED]))
    if flt.kind:
        query = query.where(Ticket.kind == flt.kind)
    if flt.state:
        query = query.where(Ticket.state == flt.state)
    if flt.estate_id:
        query = query.where(Ticket.estate_id == flt.estate_id)
    if flt.building:
        query = query.join(Building, Building.id == Unit.building_id).where(
            Building.code == flt.building
        )
    if flt.assignee_id:
        query = query.where(Ticket.assignee_id == flt.assignee_id)
    if flt.urgent:
        query = query.where(Ticket.urgent)
    if flt.key_owner:
        query = query.where(Ticket.key_owner)
    if flt.overdue:
        query = query.where(
            exists().where(
                Deadline.ticket_id == Ticket.id,
                or_(
                    Deadline.state == DeadlineState.BREACHED,
                    and_(Deadline.state == DeadlineState.PENDING, Deadline.due_at < now),
                ),
            )
        )
    term = flt.search.strip()
    if term:
        like = f"%{term}%"
        query = query.where(
            or_(
                func.upper(Ticket.number).like(like.upper()),
                Unit.number.like(like.upper()),
                Owner.phone.like(like),
                Ticket.contact_phone.like(like),
                Owner.name.like(like),
            )
        )
    rows = (await session.execute(query)).all()
    ids = [t.id for t, *_ in rows]
    next_due: dict[int, Deadline] = {}
    if ids:
        pending = await session.scalars(
            select(Deadline)
            .where(Deadline.ticket_id.in_(ids), Deadline.state == DeadlineState.PENDING)
            .order_by(Deadline.due_at)
        )
        for deadline in pending:
            next_due.setdefault(deadline.ticket_id, deadline)
    return [
        QueueRow(ticket, code, unit, owner, assignee_name, badge_for(next_due.get(ticket.id), now))
        for ticket, code, unit, owner, assignee_name in rows
    ]


async def waiting_conversations(session: AsyncSession, ctx: StaffContext) -> int:
    """Owners who asked for a person and are not yet looked after (for the header count)."""
    from backend.models import ChannelIdentity, Conversation

    count = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .join(ChannelIdentity, ChannelIdentity.id == Conversation.identity_id)
        .outerjoin(Owner, Owner.id == ChannelIdentity.owner_id)
        .where(
            Conversation.handoff_requested_at.is_not(None),
            Conversation.held_by_staff_id.is_(None),
            or_(Owner.estate_id.in_(ctx.estate_ids), ChannelIdentity.owner_id.is_(None)),
        )
    )
    return int(count or 0)
