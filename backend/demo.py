"""``ownerdesk demo load``: a small company to try every channel and page at once.

Idempotent: estates, units, owners and staff are matched by their natural keys and
the demo tickets are only created for an estate that has none yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.kb import DEMO_FILE as DEMO_KB_FILE
from backend.kb import import_kb
from backend.models import (
    Building,
    ChannelIdentity,
    Company,
    Estate,
    HouseholdMember,
    Owner,
    Staff,
    Ticket,
    Unit,
    WarrantyItem,
    utcnow,
)
from backend.staff import add_staff
from backend.vocabulary import Channel, Relation, Stage

DEMO_PASSWORD = "ownerdesk-demo"  # noqa: S105  (documented demo password; README says to change it)
DEMO_ACTOR = Actor("system", None, "demo")

COMPANY = {"code": "DEMO", "name": "示范物业服务有限公司", "name_en": "Demo Property Services"}
ESTATES: list[dict[str, Any]] = [
    {
        "code": "DEMO-A",
        "name": "阳光花园",
        "name_en": "Sunshine Garden",
        "timezone": "Asia/Shanghai",
        "language": "zh",
        "address": "上海市浦东新区阳光路 88 号",
        "buildings": ["A", "B", "C"],
        "entrances": 2,
        "floors": 5,
        "per_floor": 4,
    },
    {
        "code": "DEMO-B",
        "name": "翠湖苑",
        "name_en": "Lakeside Court",
        "timezone": "Asia/Singapore",
        "language": "en",
        "address": "18 Lakeside Drive, Singapore",
        "buildings": ["B", "C"],
        "entrances": 2,
        "floors": 5,
        "per_floor": 4,
    },
]


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: str
    estates: tuple[str, ...]
    display_name: str
    phone: str
    language: str


STAFF = (
    DemoStaff("admin", "admin", (), "系统管理员", "13900000000", "zh"),
    DemoStaff("manager", "manager", (), "王经理", "13900000001", "zh"),
    DemoStaff("agent.a", "agent", ("DEMO-A",), "李娜（客户大使）", "13900000002", "zh"),
    DemoStaff("supervisor.a", "supervisor", ("DEMO-A",), "陈工（维修监理）", "13900000003", "zh"),
    DemoStaff("tech.a", "technician", ("DEMO-A",), "赵师傅", "13900000004", "zh"),
    DemoStaff("tech.a2", "technician", ("DEMO-A",), "孙师傅", "13900000005", "zh"),
    DemoStaff("agent.b", "agent", ("DEMO-B",), "Sarah Lim", "+6581000001", "en"),
    DemoStaff("supervisor.b", "supervisor", ("DEMO-B",), "David Tan", "+6581000002", "en"),
    DemoStaff("tech.b", "technician", ("DEMO-B",), "Ahmad Rahman", "+6581000003", "en"),
)

# Owners bound to every channel so each can be tried at once (DESIGN.md, demo data).
BOUND_OWNERS: dict[tuple[str, str], dict[str, Any]] = {
    ("DEMO-A", "A-1-101"): {
        "name": "张伟",
        "phone": "13800138000",
        "language": "zh",
        "identities": [
            (Channel.TELEGRAM, "900001"),
            (Channel.WECHAT, "demo-openid-0001"),
            (Channel.WEBCHAT, "demo-session"),
        ],
    },
    ("DEMO-B", "B-1-101"): {
        "name": "Emily Chen",
        "phone": "+6591234567",
        "language": "en",
        "identities": [(Channel.TELEGRAM, "900002"), (Channel.WEBCHAT, "demo-session-b")],
    },
}

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓东",
    "雪梅",
    "志强",
]
EN_FIRST = [
    "James",
    "Mei Ling",
    "Aisha",
    "Wei Jie",
    "Priya",
    "Daniel",
    "Siew Ling",
    "Raj",
    "Hui Min",
    "Michael",
    "Nurul",
    "Kevin",
    "Grace",
    "Arjun",
    "Jia Hui",
    "Thomas",
]
EN_LAST = [
    "Tan",
    "Lim",
    "Lee",
    "Ng",
    "Wong",
    "Goh",
    "Chua",
    "Ong",
    "Kumar",
    "Rahman",
    "Smith",
    "Teo",
    "Koh",
    "Nair",
    "Chan",
    "Ho",
]

# Statutory minimum warranty periods (建设工程质量管理条例 art. 40), in years.
WARRANTY_YEARS = {
    "waterproofing": 5,
    "plumbing": 2,
    "electrical": 2,
    "decoration": 2,
    "doors_windows": 2,
    "heating": 2,
}


@dataclass(frozen=True)
class DemoTicket:
    kind: str
    zh: str
    en: str
    category: str | None
    location: str
    path: tuple[str, ...]  # states it moves through after opening
    age: timedelta  # opened this long before the demo was loaded


_DONE = ("dispatched", "on_site", "done")
DEMO_TICKETS = (
    DemoTicket("repair", "卫生间天花板渗水，楼上漏下来的", "Bathroom ceiling leaking from upstairs",
               "water_leak", "bathroom", (), timedelta(minutes=25)),
    DemoTicket("repair", "主卧窗户关不上", "Bedroom window will not close",
               "door_window", "bedroom", ("dispatched",), timedelta(hours=3)),
    DemoTicket("repair", "厨房下水道堵了", "Kitchen sink drain blocked",
               "plumbing", "kitchen", _DONE, timedelta(hours=20)),
    DemoTicket("repair", "客厅插座打火", "Living room socket sparks",
               "electrical", "living_room", (*_DONE, "callback", "closed"), timedelta(days=6)),
    DemoTicket("complaint", "隔壁晚上八点后还在装修，噪音太大",
               "Renovation noise next door after 8 pm",
               None, "", (), timedelta(hours=1)),
    DemoTicket("complaint", "北门保安态度恶劣", "Guard at the north gate was rude",
               None, "", ("confirmed", "assessed", "investigating"), timedelta(days=2)),
    DemoTicket("enquiry", "怎么办理车位月卡？", "How do I apply for a parking permit?",
               None, "", (), timedelta(minutes=40)),
)  # fmt: skip


def _stage(handover: date, today: date) -> Stage:
    if handover > today:
        return Stage.PROSPECTIVE
    if (today - handover).days < 365:
        return Stage.RUNNING_IN
    if (today - handover).days < 5 * 365:
        return Stage.STABLE
    return Stage.VETERAN


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


async def _company(session: AsyncSession) -> Company:
    company = await session.scalar(select(Company).where(Company.code == COMPANY["code"]))
    if company is None:
        company = Company(**COMPANY, timezone="Asia/Shanghai")
        session.add(company)
        await session.flush()
    return company


async def _estate(session: AsyncSession, company: Company, spec: dict[str, Any]) -> Estate:
    estate = await session.scalar(select(Estate).where(Estate.code == spec["code"]))
    if estate is None:
        fields = {
            k: spec[k] for k in ("code", "name", "name_en", "timezone", "language", "address")
        }
        estate = Estate(company_id=company.id, **fields)
        session.add(estate)
        await session.flush()
    return estate


async def _units_and_owners(
    session: AsyncSession, estate: Estate, spec: dict[str, Any], rng: random.Random, today: date
) -> int:
    created = 0
    english = spec["language"] == "en"
    existing_units = {
        u.number: u for u in await session.scalars(select(Unit).where(Unit.estate_id == estate.id))
    }
    for code in spec["buildings"]:
        building = await session.scalar(
            select(Building).where(Building.estate_id == estate.id, Building.code == code)
        )
        if building is None:
            building = Building(
                estate_id=estate.id, code=code, name=f"{code}栋" if not english else f"Block {code}"
            )
            session.add(building)
            await session.flush()
        for entrance in range(1, spec["entrances"] + 1):
            for floor in range(1, spec["floors"] + 1):
                for room in range(1, spec["per_floor"] + 1):
                    number = f"{code}-{entrance}-{floor}{room:02d}"
                    # Draw every random value even for existing rows: reruns stay identical.
                    handover = date(2018, 3, 1) + timedelta(days=rng.randrange(0, 3200))
                    birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 18000))
                    surname, given = rng.choice(ZH_SURNAMES), rng.choice(ZH_GIVEN)
                    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
                    phone_tail = rng.randrange(10_000_000, 99_999_999)
                    has_child, has_elder, has_serviceman = (
                        rng.random() < p for p in (0.4, 0.3, 0.05)
                    )
                    key_owner = rng.random() < 0.05
                    if number in existing_units:
                        continue
                    unit = Unit(
                        estate_id=estate.id,
                        building_id=building.id,
                        number=number,
                        handover_date=handover,
                    )
                    session.add(unit)
                    await session.flush()
                    for item, years in WARRANTY_YEARS.items():
                        session.add(
                            WarrantyItem(
                                unit_id=unit.id, item=item, expires_on=_add_years(handover, years)
                            )
                        )
                    bound = BOUND_OWNERS.get((estate.code, number))
                    name = (
                        (f"{first} {last}" if english else surname + given)
                        if not bound
                        else bound["name"]
                    )
                    phone = (
                        bound["phone"]
                        if bound
                        else (
                            f"+659{phone_tail % 10_000_000:07d}"
                            if english
                            else f"139{phone_tail:08d}"
                        )
                    )
                    owner = Owner(
                        company_id=estate.company_id,
                        estate_id=estate.id,
                        unit_id=unit.id,
                        name=name,
                        phone=phone,
                        birthday=birthday,
                        language=bound["language"] if bound else spec["language"],
                        stage=_stage(handover, today).value,
                        key_owner=key_owner,
                        moved_in_on=handover + timedelta(days=30) if handover < today else None,
                    )
                    if has_child:
                        child_birthday = date(2012, 6, 1) + timedelta(days=rng.randrange(0, 4000))
                        owner.members.append(
                            HouseholdMember(
                                name="孩子" if not english else "Child",
                                relation=Relation.CHILD,
                                birthday=child_birthday,
                            )
                        )
                    if has_elder:
                        owner.members.append(
                            HouseholdMember(
                                name="老人" if not english else "Parent",
                                relation=Relation.ELDER,
                                birthday=date(1945, 9, 9),
                            )
                        )
                    if has_serviceman:
                        owner.members.append(
                            HouseholdMember(
                                name="军人" if not english else "Serviceman",
                                relation=Relation.SERVICEMAN,
                            )
                        )
                    session.add(owner)
                    await session.flush()
                    created += 1
                    if bound:
                        for channel, external_id in bound["identities"]:
                            await _bind(session, owner, channel, external_id)
    return created


async def _bind(session: AsyncSession, owner: Owner, channel: str, external_id: str) -> None:
    identity = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    )
    if identity is None:
        identity = ChannelIdentity(channel=channel, external_id=external_id)
        session.add(identity)
    identity.owner_id = owner.id
    identity.verified_at = identity.verified_at or utcnow()
    identity.language = owner.language
    await session.flush()


async def _staff(session: AsyncSession, company: Company) -> dict[str, Staff]:
    result = {}
    for spec in STAFF:
        staff = await session.scalar(select(Staff).where(Staff.username == spec.username))
        if staff is None:
            staff = await add_staff(
                session,
                username=spec.username,
                role=spec.role,
                password=DEMO_PASSWORD,
                estate_codes=spec.estates,
                display_name=spec.display_name,
                phone=spec.phone,
                language=spec.language,
                company_id=company.id,
            )
        result[spec.username] = staff
    return result


async def _demo_tickets(
    session: AsyncSession, estate: Estate, staff: dict[str, Staff], now: datetime
) -> int:
    if await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.estate_id == estate.id)
    ):
        return 0
    owners = list(
        await session.scalars(
            select(Owner).where(Owner.estate_id == estate.id).order_by(Owner.id).limit(12)
        )
    )
    suffix = "a" if estate.code == "DEMO-A" else "b"
    tech = staff[f"tech.{suffix}"]
    english = estate.language == "en"
    for index, plan in enumerate(DEMO_TICKETS):
        kind, category, location, path, age = (
            plan.kind,
            plan.category,
            plan.location,
            plan.path,
            plan.age,
        )
        summary = plan.en if english else plan.zh
        created_at = now - age
        owner = owners[index % len(owners)]
        ticket = await tickets.open_ticket(
            session,
            kind=kind,
            estate_id=estate.id,
            owner_id=owner.id,
            actor=DEMO_ACTOR,
            channel="webchat" if index % 2 else "wechat",
            summary=summary,
            description=summary,
            category=category,
            location=location,
            language=estate.language,
            now=created_at,
        )
        step = age / (len(path) + 1)
        for n, state in enumerate(path, start=1):
            await tickets.transition(
                session,
                ticket,
                state,
                DEMO_ACTOR,
                assignee_id=(tech.id if state == "dispatched" else None),
                now=created_at + step * n,
            )
    return len(DEMO_TICKETS)


async def load_demo(session: AsyncSession, *, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    today = now.date()
    company = await _company(session)
    counts = {"owners": 0, "tickets": 0}
    estates = [await _estate(session, company, spec) for spec in ESTATES]
    staff = await _staff(session, company)
    for estate, spec in zip(estates, ESTATES, strict=True):
        rng = random.Random(f"ownerdesk-demo-{spec['code']}")
        counts["owners"] += await _units_and_owners(session, estate, spec, rng, today)
    for estate in estates:
        counts["tickets"] += await _demo_tickets(session, estate, staff, now)
    kb_report = await import_kb(session, DEMO_KB_FILE, COMPANY["code"])
    counts["kb_entries"] = kb_report.created
    counts["estates"] = len(estates)
    counts["staff"] = len(staff)
    return counts
