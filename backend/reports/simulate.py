"""A month of tickets with injected staff delays, written by bulk insert (for the
simulation test, the benchmark and the README screenshot).

Every ticket walks its real lifecycle (events, deadlines from ``backend.sla.PROMISES``,
ratings, callback tasks, the owner's first message) with staff acting inside every
promise, except on deadlines picked at random: there a person acts late, or never. A
"never" is only injected where it leaves no other promise hanging, so the deadlines the
report must count as breached are exactly the injected ones (``Truth.injected``).
Nothing happens after ``now``: a step due later simply has not happened yet.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import (
    CallbackTask,
    Company,
    Deadline,
    Message,
    Owner,
    Rating,
    Ticket,
    TicketEvent,
    Unit,
)
from backend.reports.simulate_rows import SCORE, Plan, Rows, Truth
from backend.vocabulary import DeadlineState

CANCEL_SHARE = 0.01


class Month(Rows):
    """Walks each ticket through its lifecycle, staff acting in time unless injected."""

    def walk(self, kind: str, t: int, start: datetime) -> None:
        {"repair": self.repair, "complaint": self.complaint, "enquiry": self.enquiry}[kind](
            t, start
        )

    def cancelled(self, t: int, start: datetime) -> bool:
        """A few tickets are withdrawn or duplicates: cancelled minutes after opening."""
        if self.rng.random() >= CANCEL_SHARE:
            return False
        at = start + self.minutes(1, 8)
        if self.happened(at):
            self.move(t, "cancelled", at)
            self.tickets[t].update(cancel_reason="duplicate", closed_at=at)
            for d in self.of_ticket[t]:
                self.deadlines[d][1]["state"] = DeadlineState.CANCELLED.value
        return True

    def repair(self, t: int, start: datetime, cycle: int = 1) -> None:
        ticket, rng = self.tickets[t], self.rng
        d = self.deadline(t, "repair.dispatch", start)
        if cycle == 1 and self.cancelled(t, start):
            return
        dispatched = self.act(d, start + self.minutes(1, 9))
        if not self.happened(dispatched):
            return
        assert dispatched is not None
        self.move(t, "dispatched", dispatched)
        self.keep(d, dispatched)
        ticket["dispatched_at"] = dispatched
        d = self.deadline(t, "repair.on_site", dispatched)
        on_site = self.act(d, dispatched + self.minutes(5, 28))
        if not self.happened(on_site):
            return
        assert on_site is not None
        self.move(t, "on_site", on_site)
        self.keep(d, on_site)
        done = on_site + self.minutes(30, 300)
        if not self.happened(done):
            return
        self.move(t, "done", done)
        ticket["resolved_at"] = done
        d = self.deadline(t, "repair.callback", done)
        if ticket["major"]:
            self.deadline(t, "repair.second_callback", done)  # due in two months
        called = self.act(d, done + self.minutes(120, 1200))
        if not self.happened(called):
            return
        assert called is not None
        self.move(t, "callback", called)
        self.keep(d, called)
        if rng.random() < 0.12:  # no answer: a phone task for the ambassador
            due = called + timedelta(hours=56)
            done_at = due - self.minutes(0, 360) if rng.random() < 0.9 else None
            done_at = done_at if self.happened(done_at) else None
            self.tasks.append(
                (
                    t,
                    {
                        "kind": "callback",
                        "owner_id": ticket["owner_id"],
                        "estate_id": ticket["estate_id"],
                        "due_at": due,
                        "created_at": called + timedelta(hours=48),
                        "done_at": done_at,
                        "outcome": "reached" if done_at else "",
                        "note": "",
                    },
                )
            )
            if done_at is not None:
                self.move(t, "closed", done_at)
                ticket["closed_at"] = done_at
            return
        rated = called + self.minutes(0, 60)
        if not self.happened(rated):
            return
        score = SCORE(rng) if cycle == 1 else rng.choice((3, 4, 5))
        self.ratings.append(
            (
                t,
                {
                    "owner_id": ticket["owner_id"],
                    "score": score,
                    "comment": "",
                    "channel": "webchat",
                    "created_at": rated,
                },
            )
        )
        if score <= 2:  # a low rating reopens the repair: pending promises are cancelled
            self.move(t, "received", rated, action="reopened")
            for d in self.of_ticket[t]:
                if self.deadlines[d][1]["met_at"] is None:
                    self.deadlines[d][1]["state"] = DeadlineState.CANCELLED.value
            ticket.update(reopen_count=1, is_repeat=True, resolved_at=None)
            self.repair(t, rated, cycle + 1)
            return
        self.move(t, "closed", rated)
        ticket["closed_at"] = rated

    def complaint(self, t: int, start: datetime) -> None:
        ticket = self.tickets[t]
        first = self.deadline(t, "complaint.first_response", start)
        reply = self.deadline(t, "complaint.reply", start)
        follow = self.deadline(t, "complaint.accept_callback", start)
        if self.cancelled(t, start):
            return
        confirmed = self.act(first, start + self.minutes(5, 110))
        if not self.happened(confirmed):
            return
        assert confirmed is not None
        self.move(t, "confirmed", confirmed)
        self.keep(first, confirmed)
        followed = self.act(follow, start + self.minutes(120, 1380))
        assert followed is not None  # never "never": the reply would keep it late
        if self.happened(followed):
            self.events.append((t, self._event("follow_up", followed, "confirmed", "confirmed")))
            self.keep(follow, followed)
        assessed = confirmed + self.minutes(10, 120)
        investigating = assessed + self.minutes(10, 240)
        if not self.happened(investigating):
            return
        self.move(t, "assessed", assessed)
        self.move(t, "investigating", investigating)
        replied = self.act(reply, start + self.minutes(26 * 60, 47 * 60))
        if not self.happened(replied):
            return
        assert replied is not None
        self.move(t, "replied", replied)
        self.keep(reply, replied)
        tracking = replied + self.minutes(120, 1440)
        if not self.happened(tracking):
            return
        self.move(t, "tracking", tracking)
        ticket["resolved_at"] = tracking
        closure = self.deadline(t, "complaint.closure_callback", tracking)
        next_day = self.cal.add_workdays(tracking.astimezone(self.zone).date(), 1)
        usual = datetime.combine(next_day, time(10), tzinfo=self.zone).astimezone(start.tzinfo)
        called = self.act(closure, usual)
        if not self.happened(called):
            return
        assert called is not None
        self.move(t, "callback", called)
        self.keep(closure, called)
        closed = called + self.minutes(10, 120)
        if self.happened(closed):
            self.move(t, "closed", closed)
            ticket["closed_at"] = closed

    def enquiry(self, t: int, start: datetime) -> None:
        answered = start + self.minutes(1, 60)
        closed = answered + self.minutes(60, 1440)
        if self.happened(answered):
            self.move(t, "answered", answered)
        if self.happened(closed):
            self.move(t, "closed", closed)
            self.tickets[t]["closed_at"] = closed


async def generate(session: AsyncSession, company_id: int, plan: Plan) -> Truth:
    """Write ``plan.tickets`` tickets of the company's units and owners; the caller commits."""
    if plan.now < plan.end:
        raise ValueError("simulate a period that has ended: nothing may happen after now")
    company = await session.get(Company, company_id)
    assert company is not None
    targets = [
        (unit_id, estate_id, owner_id)
        for unit_id, estate_id, owner_id in (
            await session.execute(
                select(Unit.id, Unit.estate_id, Owner.id)
                .join(Owner, Owner.unit_id == Unit.id)
                .where(Owner.company_id == company_id)
                .order_by(Unit.id, Owner.id)
            )
        ).all()
    ]
    if not targets:
        raise ValueError("the company has no owners to open tickets for")
    month = Month(plan, ZoneInfo(company.timezone), targets)
    for n in range(plan.tickets):
        month.ticket(n)
    for row in month.tickets:
        row["company_id"] = company_id
    # Core executemany, not the ORM unit of work; ticket ids are handed out here so the
    # other rows can point at them (no concurrent writer is expected while simulating).
    conn = await session.connection()
    first = int(await conn.scalar(select(func.max(Ticket.id))) or 0) + 1
    ids = list(range(first, first + len(month.tickets)))
    for row, ticket_id in zip(month.tickets, ids, strict=True):
        row["id"] = ticket_id
    await conn.execute(insert(Ticket), month.tickets)
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT setval(pg_get_serial_sequence('tickets', 'id'), :last)"),
            {"last": ids[-1]},
        )
    truth = month.truth()
    truth.rows["tickets"] = len(ids)
    for table, rows, when in (
        (TicketEvent, month.events, "at"),
        (Deadline, month.deadlines, "started_at"),
        (Rating, month.ratings, "created_at"),
        (CallbackTask, month.tasks, "created_at"),
        (Message, month.messages, "created_at"),
    ):
        # Written in time order, as the service writes them.
        ordered = sorted(rows, key=lambda pair, key=when: pair[1][key])
        values = [{**row, "ticket_id": ids[t] if t is not None else None} for t, row in ordered]
        for chunk in range(0, len(values), 20_000):
            await conn.execute(insert(table), values[chunk : chunk + 20_000])
        truth.rows[table.__tablename__] = len(values)
    return truth


async def seed_month(url: str, first: date, last: date, tickets: int, seed: int = 3) -> Truth:
    """Fill local days ``first``..``last`` of the database's first company with simulated
    tickets (a dashboard worth a screenshot, a browser test with known answers)."""
    from backend.db import Database
    from backend.models import utcnow
    from backend.reports.kpi import period_bounds

    db = Database(url)
    try:
        async with db.session() as session:
            company = await session.scalar(select(Company).order_by(Company.id).limit(1))
            assert company is not None
            start, end = period_bounds(first, last, ZoneInfo(company.timezone))
            plan = Plan(tickets, start, end, utcnow(), seed=seed, tag=f"S{seed}")
            return await generate(session, company.id, plan)
    finally:
        await db.dispose()


async def seed_last_month(url: str, tickets: int = 3000) -> dict[str, str]:
    """Last month (Shanghai time) simulated; returns the report's query parameters."""
    from backend.models import utcnow

    this_month = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date().replace(day=1)
    last = this_month - timedelta(days=1)
    first = last.replace(day=1)
    await seed_month(url, first, last, tickets)
    return {"from": first.isoformat(), "to": last.isoformat()}


async def add_households(
    session: AsyncSession, estate_id: int, buildings: int, units: int, prefix: str = "S"
) -> int:
    """Buildings of ``units`` units in an estate, one owner each, by bulk insert (for the
    simulation and the benchmark: tickets need households to belong to)."""
    from backend.models import Building, Estate, utcnow

    estate = await session.get(Estate, estate_id)
    assert estate is not None
    conn = await session.connection()
    codes = [f"{prefix}{b + 1}" for b in range(buildings)]
    await conn.execute(
        insert(Building), [{"estate_id": estate_id, "code": c, "name": c} for c in codes]
    )
    building_ids = (
        await conn.execute(
            select(Building.id, Building.code).where(
                Building.estate_id == estate_id, Building.code.in_(codes)
            )
        )
    ).all()
    await conn.execute(
        insert(Unit),
        [
            {"estate_id": estate_id, "building_id": bid, "number": f"{code}-{u + 1:03d}",
             "handover_date": date(2024, 5, 1)}
            for bid, code in building_ids
            for u in range(units)
        ],
    )  # fmt: skip
    made = utcnow()
    new_units = (
        await conn.execute(
            select(Unit.id).where(Unit.building_id.in_([bid for bid, _ in building_ids]))
        )
    ).all()
    await conn.execute(
        insert(Owner),
        [
            {"company_id": estate.company_id, "estate_id": estate_id, "unit_id": uid,
             "name": f"业主{uid}", "phone": f"139{uid:08d}", "email": "", "language": "zh",
             "stage": "stable", "key_owner": False, "care_opt_outs": [], "notes": "",
             "created_at": made, "updated_at": made}
            for (uid,) in new_units
        ],
    )  # fmt: skip
    return len(new_units)
