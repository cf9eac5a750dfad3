"""A month of owner traffic for the early-warning acceptance test (bulk inserts, seconds).

Background: ``tickets`` random tickets (repairs, complaints, enquiries) over one month in
``estates`` × ``buildings`` × ``units`` households, with realistic staff delays (some
dispatches, first responses and replies late) so the reports have something to show.

Why the background can never form a group by chance — by construction, not by luck:
every key the detector counts (topic or repair category, per building, or per estate for
estate-wide subjects) gets at most ``c`` distinct households per calendar day (UTC), where
``2 c < threshold``. A detection window is at most one day long, so it touches at most two
calendar days and sees at most ``2 c`` households: 2 < 3 for complaints (c = 1), 4 < 5 for
floods (c = 2). When a random pick would add a household to a full day, the ticket goes to
a household already counted that day instead (one household complaining twice is
ordinary). Topic "other" and category "other" are never clustered, so they are free.

Injected: group complaints (building and estate-wide topics) and floods (a lift outage, a
burst pipe, an estate-wide power problem), each in its own estate so they cannot merge,
each with its households inside one window. Their tickets are numbered ``INJ-…``.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.alerts import ESTATE_CATEGORIES, ESTATE_TOPICS
from backend.models import Building, Company, Deadline, Estate, Owner, Rating, Ticket, Unit
from backend.topics import OTHER, TOPICS, classify
from backend.vocabulary import RepairCategory

TZ = ZoneInfo("Asia/Shanghai")
MONTH = date(2026, 10, 1)
START = datetime(2026, 10, 1, tzinfo=TZ).astimezone(UTC)
END = datetime(2026, 11, 1, tzinfo=TZ).astimezone(UTC)
COMPLAINT_CAP = 1  # distinct households per key and day: 2 × 1 < 3
FLOOD_CAP = 2  # 2 × 2 < 5

PHRASES: dict[str, tuple[str, ...]] = {
    "noise": ("晚上太吵了，严重扰民", "楼下广场舞音响声音大", "the noise at night is unbearable"),
    "renovation": ("楼上装修电钻太早", "装修砸墙声音从早到晚", "renovation drilling starts at 7am"),
    "parking": ("车位被别人占了", "地库乱停车挡道", "someone is parking in my parking space"),
    "rubbish": ("垃圾两天没人清运", "垃圾桶满了溢出来", "rubbish bins not emptied"),
    "pets": ("狗整晚叫", "遛狗不拴绳，狗屎不清理", "dogs barking all night"),
    "security": ("小区有小偷，电动车被偷", "门禁坏了陌生人随便进", "my bike was stolen"),
    "staff_service": ("客服态度很差", "前台推诿不处理", "the staff were rude"),
    "fees": ("物业费涨价没有通知", "水费账单不对", "overcharged on the management fee"),
    "neighbours": ("楼上邻居高空抛物", "隔壁邻居私搭乱建", "the upstairs neighbour"),
    "water_power": ("又停水了也没通知", "家里没电跳闸", "no water since this morning"),
    "lift": ("电梯又坏了", "电梯困梯", "the lift is out of order"),
    "leak": ("楼道漏水", "天花板渗水", "water leaking from the ceiling"),
    "smell": ("楼道有异味", "油烟味太重", "terrible smell from the drains"),
    OTHER: ("我要投诉", "对处理结果不满意", "I want to complain"),
}
TOPIC_WEIGHTS = {
    t: (4 if t == OTHER else 2 if t in ("noise", "parking", "fees") else 1) for t in TOPICS
}
CATEGORIES = [c.value for c in RepairCategory]
KINDS = (("repair", 55), ("complaint", 30), ("enquiry", 15))


@dataclass(frozen=True)
class Household:
    unit_id: int
    owner_id: int
    estate_id: int
    building_id: int


@dataclass
class Injected:
    kind: str  # complaint | flood
    subject: str
    estate_id: int
    building_id: int | None  # None: estate-wide
    numbers: list[str] = field(default_factory=list)


@dataclass
class Simulation:
    company: Company
    estates: list[Estate]
    injected: list[Injected]
    tickets: int
    complaints_by_day: Counter[date]
    deadlines_due: int = 0
    deadlines_on_time: int = 0
    late_first_responses: int = 0


async def _households(
    session: AsyncSession, company: Company, estates: int, buildings: int, units: int
) -> tuple[list[Estate], list[Household]]:
    estate_rows = [
        Estate(
            company_id=company.id, code=f"SIM-{e:02d}", name=f"模拟{e}号小区", name_en=f"Sim {e}"
        )
        for e in range(estates)
    ]
    session.add_all(estate_rows)
    await session.flush()
    await session.execute(
        insert(Building),
        [
            {"estate_id": e.id, "code": f"B{b}", "name": f"{b}栋"}
            for e in estate_rows
            for b in range(buildings)
        ],
    )
    building_ids = {
        (estate_id, code): bid
        for bid, estate_id, code in await session.execute(
            select(Building.id, Building.estate_id, Building.code).where(
                Building.estate_id.in_([e.id for e in estate_rows])
            )
        )
    }
    await session.execute(
        insert(Unit),
        [
            {
                "estate_id": e.id,
                "building_id": building_ids[(e.id, f"B{b}")],
                "number": f"B{b}-{u:03d}",
            }
            for e in estate_rows
            for b in range(buildings)
            for u in range(units)
        ],
    )
    unit_rows = (
        await session.execute(
            select(Unit.id, Unit.estate_id, Unit.building_id).where(
                Unit.estate_id.in_([e.id for e in estate_rows])
            )
        )
    ).all()
    await session.execute(
        insert(Owner),
        [
            {
                "company_id": company.id,
                "estate_id": estate_id,
                "unit_id": unit_id,
                "name": f"业主{unit_id}",
                "phone": f"139{unit_id:08d}",
            }
            for unit_id, estate_id, _ in unit_rows
        ],
    )
    owner_of = {
        unit_id: owner_id
        for unit_id, owner_id in await session.execute(
            select(Owner.unit_id, Owner.id).where(Owner.company_id == company.id)
        )
    }
    households = [Household(u, owner_of[u], e, b) for u, e, b in unit_rows]
    return estate_rows, households


class _Slots:
    """Who has raised each subject per key and day: the guarantee of the module docstring."""

    def __init__(self) -> None:
        self.taken: dict[tuple[Any, ...], list[Household]] = {}

    def admit(
        self, key: tuple[Any, ...], household: Household, cap: int, rng: random.Random
    ) -> Household:
        slot = self.taken.setdefault(key, [])
        if household in slot:
            return household
        if len(slot) < cap:
            slot.append(household)
            return household
        return rng.choice(slot)


def _lifecycle(
    kind: str, created: datetime, rng: random.Random, sim: Simulation, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """State, timestamps and promises of one ticket, with some staff late on purpose."""
    fields: dict[str, Any] = {"dispatched_at": None, "resolved_at": None, "closed_at": None}
    promises: list[tuple[str, timedelta, datetime]] = []
    if kind == "enquiry":
        fields["state"] = "closed"
        fields["closed_at"] = created + timedelta(minutes=rng.randint(1, 90))
        return fields, []
    if kind == "repair":
        late = rng.random() < 0.08
        dispatched = created + timedelta(
            minutes=rng.randint(15, 180) if late else rng.randint(2, 9)
        )
        resolved = dispatched + timedelta(hours=rng.uniform(2, 48))
        closed = resolved + timedelta(hours=rng.uniform(2, 30))
        promises.append(("repair.dispatch", timedelta(minutes=10), dispatched))
        fields["dispatched_at"] = dispatched if dispatched <= now else None
        if dispatched > now:
            fields["state"] = "received"
        elif resolved > now:
            fields["state"] = "dispatched"
        elif closed > now:
            fields |= {"state": "done", "resolved_at": resolved}
        else:
            fields |= {"state": "closed", "resolved_at": resolved, "closed_at": closed}
    else:
        late_first = rng.random() < 0.10
        sim.late_first_responses += late_first
        first = created + timedelta(
            minutes=rng.randint(150, 600) if late_first else rng.randint(10, 100)
        )
        reply = created + timedelta(
            hours=rng.uniform(50, 120) if rng.random() < 0.10 else rng.uniform(5, 40)
        )
        resolved = reply + timedelta(hours=rng.uniform(1, 24))
        closed = resolved + timedelta(days=rng.uniform(1, 3))
        promises.append(("complaint.first_response", timedelta(hours=2), first))
        promises.append(("complaint.reply", timedelta(hours=48), reply))
        if first > now:
            fields["state"] = "accepted"
        elif reply > now:
            fields["state"] = "confirmed"
        elif resolved > now:
            fields["state"] = "replied"
        elif closed > now:
            fields |= {"state": "tracking", "resolved_at": resolved}
        else:
            fields |= {"state": "closed", "resolved_at": resolved, "closed_at": closed}
    deadlines = []
    for promise, span, met in promises:
        due = created + span
        done = met <= now
        row = {
            "promise": promise,
            "started_at": created,
            "due_at": due,
            "state": ("met" if met <= due else "breached") if done else "pending",
            "met_at": met if done else None,
            "breached_at": due if met > due and due <= now else None,
        }
        deadlines.append(row)
        if START <= due < END:
            sim.deadlines_due += 1
            sim.deadlines_on_time += done and met <= due
    return fields, deadlines


def _injections(
    rng: random.Random, estates: list[Estate], households: list[Household]
) -> list[tuple[Injected, list[tuple[Household, datetime]]]]:
    """Group complaints and floods, one per estate, each inside one detection window."""
    plans: list[tuple[str, str, bool, int, timedelta]] = [
        ("complaint", "renovation", False, 3, timedelta(hours=20)),
        ("complaint", "noise", False, 4, timedelta(hours=12)),
        ("complaint", "lift", False, 5, timedelta(hours=18)),
        ("complaint", "leak", False, 3, timedelta(hours=3)),
        ("complaint", "neighbours", False, 6, timedelta(hours=22)),
        ("complaint", "fees", True, 5, timedelta(hours=20)),
        ("complaint", "parking", True, 3, timedelta(hours=8)),
        ("complaint", "rubbish", True, 4, timedelta(hours=16)),
        ("complaint", "water_power", True, 7, timedelta(hours=2)),
        ("flood", "lift", False, 6, timedelta(minutes=90)),
        ("flood", "water_leak", False, 9, timedelta(minutes=100)),
        ("flood", "plumbing", False, 5, timedelta(minutes=60)),
        ("flood", "electrical", True, 8, timedelta(minutes=45)),
    ]
    by_estate: dict[int, list[Household]] = {}
    for h in households:
        by_estate.setdefault(h.estate_id, []).append(h)
    result = []
    for (kind, subject, wide, count, spread), estate in zip(plans, estates, strict=False):
        pool = by_estate[estate.id]
        if wide:  # different buildings
            per_building: dict[int, Household] = {}
            for h in rng.sample(pool, len(pool)):
                per_building.setdefault(h.building_id, h)
            chosen = list(per_building.values())[:count]
            building = None
        else:
            building = rng.choice(pool).building_id
            chosen = rng.sample([h for h in pool if h.building_id == building], count)
        begin = START + timedelta(days=rng.uniform(1, 28))
        times = sorted(begin + spread * rng.random() for _ in chosen)
        times[0], times[-1] = begin, begin + spread  # the full spread, still inside one window
        result.append(
            (Injected(kind, subject, estate.id, building), list(zip(chosen, times, strict=True)))
        )
    return result


async def generate(
    session: AsyncSession,
    *,
    tickets: int = 10_000,
    estates: int = 20,
    buildings: int = 10,
    units: int = 30,
    seed: int = 20261001,
) -> Simulation:
    """Write the month (and its company) with bulk inserts; return what was injected."""
    rng = random.Random(seed)
    now = END + timedelta(hours=8)  # the morning after the month: when the reports run
    company = Company(code="SIM", name="模拟物业", name_en="Sim Property", timezone="Asia/Shanghai")
    session.add(company)
    await session.flush()
    estate_rows, households = await _households(session, company, estates, buildings, units)
    sim = Simulation(company, estate_rows, [], 0, Counter())
    slots = _Slots()
    rows: list[dict[str, Any]] = []
    deadlines: dict[str, list[dict[str, Any]]] = {}
    kinds = [k for k, _ in KINDS]
    kind_weights = [w for _, w in KINDS]
    topics = list(TOPIC_WEIGHTS)
    topic_weights = list(TOPIC_WEIGHTS.values())

    def add(number: str, h: Household, kind: str, created: datetime, subject: str | None) -> None:
        fields, promises = _lifecycle(kind, created, rng, sim, now)
        text = ""
        if kind == "complaint":
            text = rng.choice(PHRASES[subject or OTHER])
            topic = classify(text)
            assert topic == subject, (text, topic, subject)
            sim.complaints_by_day[created.astimezone(TZ).date()] += 1
        elif kind == "repair":
            text = f"报修：{subject}"
        rows.append(
            {
                "company_id": company.id,
                "estate_id": h.estate_id,
                "unit_id": h.unit_id,
                "owner_id": h.owner_id,
                "number": number,
                "kind": kind,
                "channel": rng.choice(("wechat", "telegram", "webchat", "phone")),
                "category": subject if kind == "repair" else None,
                "topic": subject if kind == "complaint" else None,
                "summary": text,
                "description": text,
                "urgent": kind == "repair" and rng.random() < 0.02,
                "is_repeat": kind == "repair" and rng.random() < 0.03,
                "created_at": created,
                "updated_at": created,
                **fields,
            }
        )
        deadlines[number] = promises

    span = (END - START).total_seconds()
    for i in range(tickets):
        created = START + timedelta(seconds=rng.uniform(0, span))
        day = created.astimezone(UTC).date()
        kind = rng.choices(kinds, kind_weights)[0]
        h = rng.choice(households)
        subject: str | None = None
        if kind == "complaint":
            subject = rng.choices(topics, topic_weights)[0]
            if subject != OTHER:
                place = None if subject in ESTATE_TOPICS else h.building_id
                h = slots.admit((kind, subject, h.estate_id, place, day), h, COMPLAINT_CAP, rng)
        elif kind == "repair":
            subject = rng.choice(CATEGORIES)
            if subject != RepairCategory.OTHER.value:
                place = None if subject in ESTATE_CATEGORIES else h.building_id
                h = slots.admit((kind, subject, h.estate_id, place, day), h, FLOOD_CAP, rng)
        add(f"S-{i:06d}", h, kind, created, subject)
    for n, (plan, members) in enumerate(_injections(rng, estate_rows, households)):
        kind = "complaint" if plan.kind == "complaint" else "repair"
        for m, (h, at) in enumerate(members):
            number = f"INJ-{n:02d}-{m:02d}"
            add(number, h, kind, at, plan.subject)
            plan.numbers.append(number)
        sim.injected.append(plan)
    rows.sort(key=lambda r: r["created_at"])
    for chunk in range(0, len(rows), 2000):
        await session.execute(insert(Ticket), rows[chunk : chunk + 2000])
    sim.tickets = len(rows)
    ids = {
        number: tid
        for number, tid in await session.execute(
            select(Ticket.number, Ticket.id).where(Ticket.company_id == company.id)
        )
    }
    deadline_rows = [
        {"ticket_id": ids[number], **d} for number, ds in deadlines.items() for d in ds
    ]
    for chunk in range(0, len(deadline_rows), 5000):
        await session.execute(insert(Deadline), deadline_rows[chunk : chunk + 5000])
    scores = [5, 4, 3, 2, 1]
    rating_rows = [
        {
            "ticket_id": ids[r["number"]],
            "owner_id": r["owner_id"],
            "score": rng.choices(scores, [45, 30, 15, 6, 4])[0],
            "channel": r["channel"],
            "created_at": r["closed_at"],
        }
        for r in rows
        if r["kind"] == "repair"
        and r["state"] == "closed"
        and r["closed_at"] < END
        and rng.random() < 0.6
    ]
    await session.execute(insert(Rating), rating_rows)
    await session.flush()
    return sim
