"""Everything the console shows about one ticket, read in a handful of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle, sla
from backend.access import StaffContext, visible_ticket
from backend.models import (
    ChannelIdentity,
    Conversation,
    Deadline,
    Estate,
    HouseholdMember,
    Message,
    OutboxItem,
    Owner,
    Rating,
    Staff,
    Ticket,
    TicketEvent,
    Unit,
    WarrantyItem,
    staff_estates,
)
from backend.vocabulary import Role

CONVERSATION_LIMIT = 500


@dataclass
class ConversationLine:
    message: Message
    delivery: str | None  # outbox state of an outgoing message
    staff_name: str | None


@dataclass
class TicketView:
    ticket: Ticket
    estate: Estate
    unit: Unit | None
    owner: Owner | None
    members: list[HouseholdMember]
    identity: ChannelIdentity | None
    conversation: Conversation | None
    lines: list[ConversationLine]
    events: list[TicketEvent]
    deadlines: list[tuple[Deadline, str]]  # with the state as of now
    ratings: list[Rating]
    past_tickets: list[Ticket]
    warranty: list[WarrantyItem]
    people: dict[int, Staff]
    next_states: list[str]
    technicians: list[Staff] = field(default_factory=list)


async def ticket_view(
    session: AsyncSession, ctx: StaffContext, ticket_id: int, now: datetime
) -> TicketView:
    ticket = await visible_ticket(session, ctx, ticket_id)
    estate = await session.get(Estate, ticket.estate_id)
    assert estate is not None
    unit = await session.get(Unit, ticket.unit_id) if ticket.unit_id else None
    owner = await session.get(Owner, ticket.owner_id) if ticket.owner_id else None
    identity = (
        await session.get(ChannelIdentity, ticket.identity_id) if ticket.identity_id else None
    )
    members: list[HouseholdMember] = []
    identity_ids: list[int] = [identity.id] if identity else []
    if owner is not None:
        members = list(
            await session.scalars(
                select(HouseholdMember).where(HouseholdMember.owner_id == owner.id)
            )
        )
        identity_ids += list(
            await session.scalars(
                select(ChannelIdentity.id).where(ChannelIdentity.owner_id == owner.id)
            )
        )
    conversation = None
    if identity is not None:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.identity_id == identity.id)
        )
    rows: list[Any] = []
    if identity_ids:
        result = await session.execute(
            select(Message, OutboxItem.state, Staff.display_name)
            .outerjoin(OutboxItem, OutboxItem.message_id == Message.id)
            .outerjoin(Staff, Staff.id == Message.staff_id)
            .where(or_(Message.identity_id.in_(set(identity_ids)), Message.ticket_id == ticket.id))
            .order_by(Message.id.desc())
            .limit(CONVERSATION_LIMIT)
        )
        rows = list(result.all())
    lines = [ConversationLine(m, state, name) for m, state, name in reversed(rows)]
    events = list(
        await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    )
    deadlines = [
        (d, sla.effective_state(d, now))
        for d in await session.scalars(
            select(Deadline).where(Deadline.ticket_id == ticket.id).order_by(Deadline.id)
        )
    ]
    ratings = list(
        await session.scalars(
            select(Rating).where(Rating.ticket_id == ticket.id).order_by(Rating.id)
        )
    )
    past = []
    warranty: list[WarrantyItem] = []
    if owner is not None:
        past = list(
            await session.scalars(
                select(Ticket)
                .where(Ticket.owner_id == owner.id, Ticket.id != ticket.id, ctx.ticket_scope())
                .order_by(Ticket.created_at.desc())
                .limit(20)
            )
        )
    if unit is not None:
        warranty = list(
            await session.scalars(
                select(WarrantyItem)
                .where(WarrantyItem.unit_id == unit.id)
                .order_by(WarrantyItem.expires_on)
            )
        )
    staff_ids = {i for i in (ticket.assignee_id, ticket.ambassador_id, ticket.supervisor_id) if i}
    staff_ids |= {e.actor_id for e in events if e.actor_kind == "staff" and e.actor_id}
    people = (
        {s.id: s for s in await session.scalars(select(Staff).where(Staff.id.in_(staff_ids)))}
        if staff_ids
        else {}
    )
    options = [s for s in lifecycle.next_states(ticket.kind, ticket.state) if ctx.may_move_to(s)]
    technicians = list(
        await session.scalars(
            select(Staff)
            .join(staff_estates, staff_estates.c.staff_id == Staff.id)
            .where(
                staff_estates.c.estate_id == ticket.estate_id,
                Staff.role.in_([Role.TECHNICIAN.value, Role.SUPERVISOR.value]),
                Staff.active,
            )
            .order_by(Staff.role, Staff.display_name)
        )
    )
    return TicketView(
        ticket=ticket,
        estate=estate,
        unit=unit,
        owner=owner,
        members=members,
        identity=identity,
        conversation=conversation,
        lines=lines,
        events=events,
        deadlines=deadlines,
        ratings=ratings,
        past_tickets=past,
        warranty=warranty,
        people=people,
        next_states=options,
        technicians=technicians,
    )
