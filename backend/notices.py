"""What owners are told about their tickets: the repair card and status updates.

Every text comes from ``locales/``; each notice also carries a template key and data
for channels that must use template messages (WeChat outside its 48-hour window).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle, sla
from backend.i18n import t, when
from backend.messaging import Button, OutboundMessage, enqueue, latest_identity
from backend.models import ChannelIdentity, Deadline, Estate, Staff, Ticket
from backend.vocabulary import PUSH_CHANNELS, DeadlineState

RATING_SCORES = (5, 4, 3, 2, 1)  # very satisfied … very dissatisfied
# Moves the owner hears about (dispatch sends the repair card, callback the rating question).
ANNOUNCED = frozenset(
    {
        "on_site",
        "done",
        "confirmed",
        "investigating",
        "replied",
        "tracking",
        "answered",
        "closed",
        "cancelled",
        "received",
        "open",
    }
)


def state_name(ticket: Ticket, lang: str) -> str:
    return t(lang, f"state.{ticket.kind}.{ticket.state}")


def kind_name(kind: str, lang: str) -> str:
    return t(lang, f"kind.{kind}")


def _person(staff: Staff | None, lang: str) -> str:
    if staff is None:
        return t(lang, "card.to_be_assigned")
    return f"{staff.shown_name} {staff.phone}".strip()


async def next_promise(session: AsyncSession, ticket: Ticket) -> Deadline | None:
    return await session.scalar(
        select(Deadline)
        .where(Deadline.ticket_id == ticket.id, Deadline.state == DeadlineState.PENDING)
        .order_by(Deadline.due_at)
        .limit(1)
    )


async def status_line(
    session: AsyncSession, ticket: Ticket, lang: str, zone: ZoneInfo, now: datetime
) -> str:
    """One ticket as the owner's status list shows it: state and the next promised time,
    or that the time has passed and a supervisor is on it (the SLA watch escalated it)."""
    first_open = await session.scalar(
        select(Deadline)
        .where(
            Deadline.ticket_id == ticket.id,
            sla.NOT_YET_KEPT,
        )
        .order_by(Deadline.due_at)
        .limit(1)
    )
    if first_open is None or not lifecycle.is_open(ticket.kind, ticket.state):
        promise = ""
    elif first_open.due_at < now:
        promise = t(lang, "status.overdue")
    else:
        promise = t(
            lang, f"card.promise.{first_open.promise}", time=when(first_open.due_at, lang, zone)
        )
    return t(
        lang,
        "status.line",
        number=ticket.number,
        summary=ticket.summary,
        state=state_name(ticket, lang),
        promise=promise,
    ).rstrip(" ·")


async def repair_card(session: AsyncSession, ticket: Ticket, lang: str) -> OutboundMessage:
    """维修卡片: number, repair unit, supervisor and ambassador with phones, promised times."""
    estate = await session.get(Estate, ticket.estate_id)
    assert estate is not None
    zone = ZoneInfo(estate.timezone)
    supervisor = await session.get(Staff, ticket.supervisor_id) if ticket.supervisor_id else None
    ambassador = await session.get(Staff, ticket.ambassador_id) if ticket.ambassador_id else None
    technician = await session.get(Staff, ticket.assignee_id) if ticket.assignee_id else None
    repair_unit = estate.settings.get("repair_unit_en" if lang == "en" else "repair_unit") or t(
        lang,
        "card.repair_unit_default",
        estate=estate.name_en if lang == "en" and estate.name_en else estate.name,
    )
    deadline = await next_promise(session, ticket)
    promise = t(
        lang,
        "card.promise_dispatch",
        time=when(ticket.created_at + timedelta(minutes=10), lang, zone),
    )
    if deadline is not None:
        promise = t(
            lang, f"card.promise.{deadline.promise}", time=when(deadline.due_at, lang, zone)
        )
    text = t(
        lang,
        "card.repair",
        number=ticket.number,
        summary=ticket.summary,
        repair_unit=repair_unit,
        supervisor=_person(supervisor, lang),
        ambassador=_person(ambassador, lang),
        technician=_person(technician, lang),
        promise=promise,
    )
    return OutboundMessage(
        text,
        template="repair_card",
        template_data={
            "number": ticket.number,
            "summary": ticket.summary,
            "supervisor": _person(supervisor, lang),
            "ambassador": _person(ambassador, lang),
            "promise": promise,
        },
    )


def rating_buttons(ticket: Ticket, lang: str) -> tuple[Button, ...]:
    return tuple(
        Button(t(lang, f"rating.score.{s}"), f"rate:{ticket.id}:{s}") for s in RATING_SCORES
    )


async def update_for(
    session: AsyncSession, ticket: Ticket, to_state: str, lang: str, now: datetime
) -> OutboundMessage | None:
    """The message a move of ``ticket`` into ``to_state`` sends the owner, if any."""
    estate = await session.get(Estate, ticket.estate_id)
    assert estate is not None
    zone = ZoneInfo(estate.timezone)
    data = {"number": ticket.number, "summary": ticket.summary}
    if to_state == "dispatched":
        return await repair_card(session, ticket, lang)
    if to_state == "callback":
        text = t(lang, f"update.{ticket.kind}.callback", **data)
        return OutboundMessage(
            text, rating_buttons(ticket, lang), template="callback", template_data=data
        )
    key = f"update.{ticket.kind}.{to_state}"
    if to_state == lifecycle.CANCELLED:
        data["reason"] = ticket.cancel_reason
    if to_state in (
        "confirmed",
        "on_site",
        "done",
        "replied",
        "tracking",
        "answered",
        "closed",
        "cancelled",
        "received",
        "investigating",
        "open",
    ):
        deadline = await next_promise(session, ticket)
        data["promise"] = when(deadline.due_at, lang, zone) if deadline else ""
        return OutboundMessage(
            t(lang, key, **data),
            template="ticket_update",
            template_data={**data, "state": state_name(ticket, lang)},
        )
    return None


async def notify_owner(
    session: AsyncSession,
    ticket: Ticket,
    message: OutboundMessage,
    key: str,
    *,
    staff_id: int | None = None,
) -> bool:
    """Queue ``message`` to the owner on the channel they last used; False if unreachable."""
    identity = None
    if ticket.owner_id is not None:
        identity = await latest_identity(session, ticket.owner_id)
    if identity is None and ticket.identity_id is not None:
        identity = await session.get(ChannelIdentity, ticket.identity_id)
        if identity is not None and identity.channel not in PUSH_CHANNELS:
            identity = None
    if identity is None:
        return False
    queued = await enqueue(
        session,
        key=key,
        identity=identity,
        message=message,
        ticket_id=ticket.id,
        staff_id=staff_id,
        language=ticket.language,
    )
    return queued is not None


async def announce_transition(
    session: AsyncSession, ticket: Ticket, to_state: str, now: datetime, sequence: int
) -> bool:
    """Tell the owner about a move (``sequence`` keeps the key unique if it recurs)."""
    message = await update_for(session, ticket, to_state, ticket.language, now)
    if message is None:
        return False
    return await notify_owner(session, ticket, message, f"ticket:{ticket.id}:{to_state}:{sequence}")
