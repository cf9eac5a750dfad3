"""``ownerdesk demo load``: a small company to try every channel and page at once.

Idempotent: estates, units, owners and staff are matched by their natural keys and
the demo tickets are only created for an estate that has none yet.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.demo_data import (
    BOUND_OWNERS,
    COMPANY,
    DEMO_TICKETS,
    EN_FIRST,
    EN_LAST,
    ESTATES,
    STAFF,
    WARRANTY_YEARS,
    ZH_GIVEN,
    ZH_SURNAMES,
)
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
from backend.passwords import hash_password
from backend.staff import add_staff
from backend.vocabulary import Relation, Stage

DEMO_PASSWORD = "ownerdesk-demo"  # noqa: S105  (documented demo password; README says to change it)
DEMO_ACTOR = Actor("system", None, "demo")


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


@dataclass(frozen=True)
class DemoHousehold:
    building: str
    number: str
    handover: date
    name: str
    phone: str
    birthday: date
    language: str
    key_owner: bool
    members: tuple[tuple[str, str, date | None], ...]


def households(estate_code: str, spec: dict[str, Any], rng: random.Random) -> list[DemoHousehold]:
    """The estate's households, the same on every run (a seeded generator)."""
    english = spec["language"] == "en"
    result = []
    for code in spec["buildings"]:
        for entrance in range(1, spec["entrances"] + 1):
            for floor in range(1, spec["floors"] + 1):
                for room in range(1, spec["per_floor"] + 1):
                    number = f"{code}-{entrance}-{floor}{room:02d}"
                    handover = date(2018, 3, 1) + timedelta(days=rng.randrange(0, 3200))
                    birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 18000))
                    zh_name = rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)
                    en_name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
                    tail = rng.randrange(10_000_000, 99_999_999)
                    child, elder, serviceman, key_owner = (
                        rng.random() < p for p in (0.4, 0.3, 0.05, 0.05)
                    )
                    members: list[tuple[str, str, date | None]] = []
                    if child:
                        kid = date(2012, 6, 1) + timedelta(days=rng.randrange(0, 4000))
                        members.append(("Child" if english else "孩子", Relation.CHILD.value, kid))
                    if elder:
                        members.append(
                            (
                                "Parent" if english else "老人",
                                Relation.ELDER.value,
                                date(1945, 9, 9),
                            )
                        )
                    if serviceman:
                        members.append(
                            ("Serviceman" if english else "军人", Relation.SERVICEMAN.value, None)
                        )
                    bound = BOUND_OWNERS.get((estate_code, number), {})
                    phone = f"+659{tail % 10_000_000:07d}" if english else f"139{tail:08d}"
                    result.append(
                        DemoHousehold(
                            building=code,
                            number=number,
                            handover=handover,
                            name=bound.get("name") or (en_name if english else zh_name),
                            phone=bound.get("phone") or phone,
                            birthday=birthday,
                            language=bound.get("language") or spec["language"],
                            key_owner=key_owner,
                            members=tuple(members),
                        )
                    )
    return result


async def _units_and_owners(
    session: AsyncSession, estate: Estate, spec: dict[str, Any], rng: random.Random, today: date
) -> int:
    """Buildings, units, warranty items and households that are not there yet."""
    wanted = households(estate.code, spec, rng)
    existing = set(await session.scalars(select(Unit.number).where(Unit.estate_id == estate.id)))
    buildings = {
        b.code: b
        for b in await session.scalars(select(Building).where(Building.estate_id == estate.id))
    }
    english = spec["language"] == "en"
    for code in spec["buildings"]:
        if code not in buildings:
            buildings[code] = Building(
                estate_id=estate.id, code=code, name=f"Block {code}" if english else f"{code}栋"
            )
            session.add(buildings[code])
    await session.flush()
    fresh = [h for h in wanted if h.number not in existing]
    units = [
        Unit(
            estate_id=estate.id,
            building_id=buildings[h.building].id,
            number=h.number,
            handover_date=h.handover,
        )
        for h in fresh
    ]
    session.add_all(units)
    await session.flush()  # unit ids for the rows below
    owners = []
    for household, unit in zip(fresh, units, strict=True):
        session.add_all(
            WarrantyItem(
                unit_id=unit.id, item=item, expires_on=_add_years(household.handover, years)
            )
            for item, years in WARRANTY_YEARS.items()
        )
        owner = Owner(
            company_id=estate.company_id,
            estate_id=estate.id,
            unit_id=unit.id,
            name=household.name,
            phone=household.phone,
            birthday=household.birthday,
            language=household.language,
            stage=_stage(household.handover, today).value,
            key_owner=household.key_owner,
            moved_in_on=household.handover + timedelta(days=30)
            if household.handover < today
            else None,
            members=[
                HouseholdMember(name=n, relation=r, birthday=b) for n, r, b in household.members
            ],
        )
        owners.append((household, owner))
    session.add_all(o for _, o in owners)
    await session.flush()
    for household, owner in owners:
        bound = BOUND_OWNERS.get((estate.code, household.number))
        for channel, external_id in (bound or {}).get("identities", []):
            await _bind(session, owner, channel, external_id)
    return len(fresh)


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
    shared_hash: str | None = None
    for spec in STAFF:
        staff = await session.scalar(select(Staff).where(Staff.username == spec.username))
        if staff is None:
            shared_hash = shared_hash or await asyncio.to_thread(hash_password, DEMO_PASSWORD)
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
                password_hash=shared_hash,
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
