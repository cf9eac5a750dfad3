"""Callbacks (回访): every repair and complaint is called back, on time, once.

- repair done → the rating question a couple of hours later, never in quiet hours
  (a repair finished at 20:30 is called back the next morning, inside 24 hours);
- complaint accepted → a progress follow-up within 24 hours;
- complaint closed (tracked to closure) → the rating question on the next working day
  (调休-aware), inside the 3-working-day promise;
- no answer for a day → asked once more; another day → a phone task for the
  ambassador in the console, so 100 % of callbacks end done and counted;
- major repairs (leaks, cracks) → a second callback two months after the work;
- an enquiry a colleague answered (a property-service issue handled) → "is it settled?"
  a day later, inside the one-week promise; "not yet" reopens it for staff.
Run every few minutes by the scheduler; safe to run again at any time.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import desk, lifecycle, notices, ratings, sla, tickets
from backend.actors import SYSTEM, Actor
from backend.calendar import WorkCalendar
from backend.care_time import QuietHours
from backend.errors import InvalidInput
from backend.i18n import t
from backend.messaging import Button, OutboundMessage
from backend.models import CallbackTask, Deadline, Estate, Staff, Ticket, TicketEvent
from backend.vocabulary import DeadlineState, Kind

CALLBACK_AFTER = timedelta(hours=2)
FOLLOW_UP_AFTER = timedelta(hours=2)
RETRY_AFTER = timedelta(hours=24)
TASK_AFTER = timedelta(hours=24)  # after the retry
TASK_DUE_IN = timedelta(hours=8)
SECOND_CALLBACK_LEAD = timedelta(days=7)
COMPLAINT_CALLBACK_AT = time(10, 0)
ENQUIRY_CALLBACK_AFTER = timedelta(hours=24)
VISIT_WITHIN = timedelta(days=30)

# Phone tasks (CallbackTask.kind): an unanswered callback, and the follow-ups that could
# not be sent because the owner has no chat account; done, the latter keep their promise.
CALLBACK_TASK, FOLLOW_UP_TASK, SECOND_CALLBACK_TASK = "callback", "follow_up", "second_callback"
ENQUIRY_CALLBACK_TASK = "enquiry_callback"
PROMISE_OF_TASK = {
    FOLLOW_UP_TASK: sla.FOLLOW_UP,
    SECOND_CALLBACK_TASK: sla.SECOND_CALLBACK,
    ENQUIRY_CALLBACK_TASK: sla.ENQUIRY_CALLBACK,
}


@dataclass
class CallbackReport:
    done: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return dict(self.done)


class _Estates:
    """Estates and their quiet hours, loaded once per run."""

    def __init__(self, estates: list[Estate]) -> None:
        self.by_id = {e.id: e for e in estates}
        self.quiet = {e.id: QuietHours.of(e) for e in estates}

    def is_quiet(self, estate_id: int, now: datetime) -> bool:
        return self.quiet[estate_id].is_quiet(now)


async def _tickets(session: AsyncSession, *conditions: Any) -> list[Ticket]:
    return list(await session.scalars(select(Ticket).where(*conditions).order_by(Ticket.id)))


async def _last_event(session: AsyncSession, ticket_id: int, *actions: str) -> TicketEvent | None:
    return await session.scalar(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.action.in_(actions))
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )


def first_workday_after(cal: WorkCalendar, day: date) -> date:
    return cal.add_workdays(day, 1)


async def _pending(session: AsyncSession, promise: str) -> list[tuple[Ticket, Deadline]]:
    """Tickets with this promise still pending, and its deadline."""
    rows = await session.execute(
        select(Ticket, Deadline)
        .join(Deadline, Deadline.ticket_id == Ticket.id)
        .where(Deadline.promise == promise, Deadline.state == DeadlineState.PENDING)
    )
    return [(ticket, deadline) for ticket, deadline in rows.all()]


async def run_callbacks(session: AsyncSession, now: datetime) -> CallbackReport:
    report = CallbackReport()
    estates = _Estates(list(await session.scalars(select(Estate))))
    # Repairs done: ask how it went.
    for ticket in await _tickets(session, Ticket.kind == Kind.REPAIR, Ticket.state == "done"):
        if (
            ticket.resolved_at
            and ticket.resolved_at + CALLBACK_AFTER <= now
            and not estates.is_quiet(ticket.estate_id, now)
        ):
            await desk.move(
                session, ticket, "callback", SYSTEM, note="callback question sent", now=now
            )
            report.done["repair_callback"] += 1
    # Complaints tracked to closure: the callback on the next working day.
    for ticket in await _tickets(
        session, Ticket.kind == Kind.COMPLAINT, Ticket.state == "tracking"
    ):
        if ticket.resolved_at is None:
            continue
        estate = estates.by_id[ticket.estate_id]
        zone = ZoneInfo(estate.timezone)
        cal = await sla.load_calendar(session, ticket.company_id)
        day = first_workday_after(cal, ticket.resolved_at.astimezone(zone).date())
        when = datetime.combine(day, COMPLAINT_CALLBACK_AT, tzinfo=zone)
        if now >= when and not estates.is_quiet(ticket.estate_id, now):
            await desk.move(
                session, ticket, "callback", SYSTEM, note="callback question sent", now=now
            )
            report.done["complaint_callback"] += 1
    # Due a while after their promise started: a complaint's progress follow-up inside 24
    # hours; "is it settled?" a day after a colleague answered an enquiry.
    for promise, after, step in (
        ("complaint.accept_callback", FOLLOW_UP_AFTER, _follow_up),
        ("enquiry.callback", ENQUIRY_CALLBACK_AFTER, _enquiry_callback),
    ):
        for ticket, deadline in await _pending(session, promise):
            if deadline.started_at + after <= now and not estates.is_quiet(ticket.estate_id, now):
                done = await step(session, ticket, now)
                if done:
                    report.done[done] += 1
    # Callbacks nobody answered: ask once more, then hand to a person.
    for ticket in await _tickets(session, Ticket.state == "callback"):
        asked = await _last_event(session, ticket.id, "transition", "reopened")
        if asked is None or asked.to_state != "callback":
            continue
        retried = await _last_event(session, ticket.id, "callback_retry")
        if retried is None or retried.at < asked.at:
            if asked.at + RETRY_AFTER <= now and not estates.is_quiet(ticket.estate_id, now):
                await _ask_again(session, ticket, now)
                report.done["callback_retry"] += 1
        elif retried.at + TASK_AFTER <= now and await _make_task(session, ticket, now):
            report.done["callback_task"] += 1
    # Major repairs: the second callback, a week before it is due.
    for ticket, deadline in await _pending(session, "repair.second_callback"):
        if deadline.due_at - SECOND_CALLBACK_LEAD <= now and not estates.is_quiet(
            ticket.estate_id, now
        ):
            message = OutboundMessage(
                t(ticket.language, "callback.second", number=ticket.number, summary=ticket.summary)
            )
            if await notices.notify_owner(
                session, ticket, message, f"second_callback:ticket:{ticket.id}"
            ):
                await tickets.record(
                    session,
                    ticket,
                    sla.SECOND_CALLBACK,
                    SYSTEM,
                    note="second callback message sent",
                    now=now,
                )
                report.done["second_callback"] += 1
            elif await _make_task(session, ticket, now, kind=SECOND_CALLBACK_TASK):
                report.done["second_callback_task"] += 1
    return report


def enquiry_callback_buttons(ticket: Ticket, lang: str) -> tuple[Button, ...]:
    return (
        Button(t(lang, "button.enquiry_settled"), f"enq:settled:{ticket.id}"),
        Button(t(lang, "button.enquiry_unsettled"), f"enq:unsettled:{ticket.id}"),
    )


async def _enquiry_callback(session: AsyncSession, ticket: Ticket, now: datetime) -> str | None:
    """The question, or a phone task when the owner has no chat account to receive it."""
    message = OutboundMessage(
        t(ticket.language, "callback.enquiry", number=ticket.number, summary=ticket.summary),
        enquiry_callback_buttons(ticket, ticket.language),
        template="callback",
        template_data={"number": ticket.number, "summary": ticket.summary},
    )
    if await notices.notify_owner(session, ticket, message, f"enquiry_callback:ticket:{ticket.id}"):
        await tickets.record(
            session, ticket, sla.ENQUIRY_CALLBACK, SYSTEM, note="callback question sent", now=now
        )
        return "enquiry_callback"
    made = await _make_task(session, ticket, now, kind=ENQUIRY_CALLBACK_TASK)
    return "enquiry_callback_task" if made else None


async def _follow_up(session: AsyncSession, ticket: Ticket, now: datetime) -> str | None:
    """The progress message, or a phone task when the owner has no chat account to
    receive it (the promise is kept when the call is recorded, never by a message
    that went nowhere)."""
    owner_of = await session.get(Staff, ticket.ambassador_id) if ticket.ambassador_id else None
    name = (
        f"{owner_of.shown_name} {owner_of.phone}".strip()
        if owner_of
        else t(ticket.language, "card.to_be_assigned")
    )
    text = t(ticket.language, "callback.follow_up", number=ticket.number, owner=name)
    if not await notices.notify_owner(
        session, ticket, OutboundMessage(text), f"follow_up:ticket:{ticket.id}"
    ):
        made = await _make_task(session, ticket, now, kind=FOLLOW_UP_TASK)
        return "complaint_follow_up_task" if made else None
    await tickets.record(
        session, ticket, sla.FOLLOW_UP, SYSTEM, note="progress follow-up sent", now=now
    )
    return "complaint_follow_up"


async def _ask_again(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    text = t(ticket.language, "callback.retry", number=ticket.number, summary=ticket.summary)
    message = OutboundMessage(
        text,
        notices.rating_buttons(ticket, ticket.language),
        template="callback",
        template_data={"number": ticket.number},
    )
    await notices.notify_owner(
        session, ticket, message, f"callback_retry:ticket:{ticket.id}:{now:%Y%m%d%H%M}"
    )
    await tickets.log_event(
        session, ticket, SYSTEM, "callback_retry", note="rating question asked again", now=now
    )


ANSWER_WITHIN = timedelta(days=7)  # an answer in words counts this long after the question


async def enquiry_awaiting_answer(
    session: AsyncSession, owner_id: int | None, identity_id: int, now: datetime
) -> Ticket | None:
    """The owner's enquiry whose "is it settled?" is the last thing that happened to it,
    asked within the week: an answer in words belongs to it, and to nothing else."""
    candidates = await session.scalars(
        select(Ticket)
        .where(
            Ticket.kind == Kind.ENQUIRY,
            Ticket.state.in_(lifecycle.REOPEN_FROM[Kind.ENQUIRY]),
            tickets.of_chat(owner_id, identity_id),
        )
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(3)
    )
    for ticket in list(candidates):
        last = await session.scalar(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id.desc())
            .limit(1)
        )
        if (
            last is not None
            and last.action == sla.ENQUIRY_CALLBACK
            and last.at >= now - ANSWER_WITHIN
        ):
            return ticket
    return None


async def enquiry_answered(
    session: AsyncSession, ticket: Ticket, settled: bool, actor: Actor, *, now: datetime
) -> None:
    """The owner's answer to the enquiry callback: settled closes an answered enquiry,
    not yet reopens it for staff (unless a colleague has it open again already)."""
    if settled:
        if ticket.state == "answered":
            await tickets.transition(
                session, ticket, lifecycle.CLOSED, actor, note="settled, at callback", now=now
            )
    elif ticket.state in lifecycle.REOPEN_FROM[Kind.ENQUIRY]:
        await tickets.reopen(session, ticket, actor, note="not settled, at callback", now=now)


_TASK_NOTES = {
    "callback": "no answer to the callback: phone callback task for the ambassador",
    "follow_up": "owner not reachable by chat: phone follow-up task for the ambassador",
    "second_callback": "owner not reachable by chat: phone second callback task",
    "enquiry_callback": "owner not reachable by chat: phone callback task for the enquiry",
}


async def _make_task(
    session: AsyncSession, ticket: Ticket, now: datetime, *, kind: str = CALLBACK_TASK
) -> bool:
    exists = await session.scalar(
        select(CallbackTask.id).where(
            CallbackTask.kind == kind,
            CallbackTask.ticket_id == ticket.id,
            CallbackTask.done_at.is_(None),
        )
    )
    if exists:
        return False
    session.add(
        CallbackTask(
            kind=kind,
            ticket_id=ticket.id,
            owner_id=ticket.owner_id,
            estate_id=ticket.estate_id,
            assignee_id=ticket.ambassador_id,
            due_at=now + TASK_DUE_IN,
            created_at=now,
        )
    )
    await tickets.log_event(
        session,
        ticket,
        SYSTEM,
        "callback_task",
        note=_TASK_NOTES[kind],
        now=now,
    )
    await session.flush()
    return True


async def plan_visits(session: AsyncSession, day: date, now: datetime) -> int:
    """New owners (moved in yesterday) get a visit/call task within their first month."""
    from backend.models import Owner

    created = 0
    for owner in await session.scalars(
        select(Owner).where(Owner.moved_in_on == day - timedelta(days=1))
    ):
        exists = await session.scalar(
            select(CallbackTask.id).where(
                CallbackTask.kind == "visit", CallbackTask.owner_id == owner.id
            )
        )
        if exists:
            continue
        ambassador = await session.scalar(
            select(Staff.id)
            .join(Staff.estates)
            .where(Estate.id == owner.estate_id, Staff.role == "agent", Staff.active)
            .order_by(Staff.id)
            .limit(1)
        )
        session.add(
            CallbackTask(
                kind="visit",
                owner_id=owner.id,
                estate_id=owner.estate_id,
                assignee_id=ambassador,
                due_at=now + VISIT_WITHIN,
                created_at=now,
            )
        )
        created += 1
    await session.flush()
    return created


async def complete_task(
    session: AsyncSession,
    task: CallbackTask,
    staff: Staff,
    *,
    outcome: str,
    score: int | None = None,
    note: str = "",
    now: datetime,
) -> CallbackTask:
    """A person made the call: record what happened; a rating given on the phone counts."""
    if task.done_at is not None:
        raise InvalidInput("this callback task is already done")
    if outcome not in ("reached", "unreachable", "refused"):
        raise InvalidInput("outcome is reached, unreachable or refused")
    task.done_at, task.done_by_id, task.outcome, task.score, task.note = (
        now,
        staff.id,
        outcome,
        score,
        note.strip()[:2000],
    )
    if task.ticket_id is not None:
        ticket = await session.get(Ticket, task.ticket_id)
        assert ticket is not None
        actor = Actor.of_staff(staff)
        if outcome == "reached" and score is not None and ticket.state == "callback":
            await ratings.rate(session, ticket, score, actor, channel="phone", now=now)
        elif task.kind in PROMISE_OF_TASK:  # the follow-up made by phone keeps its promise
            await tickets.record(
                session,
                ticket,
                PROMISE_OF_TASK[task.kind],
                actor,
                note=f"phone {task.kind.replace('_', ' ')}: {outcome}",
                now=now,
            )
        elif ticket.state == "callback":
            await desk.move(
                session,
                ticket,
                "closed",
                actor,
                note=f"phone callback: {outcome}. {note}".strip(),
                now=now,
            )
        await tickets.log_event(
            session, ticket, actor, "callback_task", note=f"phone callback done: {outcome}", now=now
        )
    await session.flush()
    return task
