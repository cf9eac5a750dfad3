"""Small builders for test data; every test that needs a company uses ``build_world``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Building, Company, Estate, Owner, Staff, Unit
from backend.passwords import hash_password

PASSWORD = "correct horse battery"


@dataclass
class World:
    company: Company
    estate: Estate
    other_estate: Estate
    unit: Unit
    other_unit: Unit
    owner: Owner
    neighbour: Owner
    far_owner: Owner
    agent: Staff
    technician: Staff
    supervisor: Staff
    manager: Staff
    far_technician: Staff


def morning_after(delay: timedelta, now: datetime) -> datetime:
    """The first 02:00 UTC (10:00 in the demo estates, outside quiet hours) at least
    ``delay`` after ``now``: a scheduled job's run that works at any hour of the test."""
    due = now + delay
    morning = due.replace(hour=2, minute=0, second=0, microsecond=0)
    return morning if morning >= due else morning + timedelta(days=1)


async def make_unit(session: AsyncSession, estate: Estate, number: str) -> Unit:
    code = number.split("-")[0]
    building = Building(estate_id=estate.id, code=f"{code}-{number}", name=code)
    session.add(building)
    await session.flush()
    unit = Unit(
        estate_id=estate.id, building_id=building.id, number=number, handover_date=date(2024, 5, 1)
    )
    session.add(unit)
    await session.flush()
    return unit


async def make_owner(
    session: AsyncSession, unit: Unit, name: str, phone: str, **fields: object
) -> Owner:
    estate = await session.get(Estate, unit.estate_id)
    assert estate is not None
    owner = Owner(
        company_id=estate.company_id,
        estate_id=estate.id,
        unit_id=unit.id,
        name=name,
        phone=phone,
        **fields,
    )
    session.add(owner)
    await session.flush()
    return owner


async def make_staff(
    session: AsyncSession, username: str, role: str, estates: list[str], name: str = ""
) -> Staff:
    """Like ``backend.staff.add_staff`` but with one shared hash: argon2 is slow on purpose."""
    estate_rows = list(await session.scalars(select(Estate).where(Estate.code.in_(estates))))
    company_id = await session.scalar(select(Company.id).order_by(Company.id).limit(1))
    assert company_id is not None
    staff = Staff(
        company_id=company_id,
        username=username,
        role=role,
        password_hash=password_hash(),
        display_name=name or username,
        phone="13900001111",
        estates=estate_rows,
    )
    session.add(staff)
    await session.flush()
    return staff


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


async def build_world(session: AsyncSession) -> World:
    company = Company(code="ACME", name="示例物业", name_en="Acme Property")
    session.add(company)
    await session.flush()
    estate = Estate(company_id=company.id, code="EST-A", name="甲小区", name_en="Estate A")
    other = Estate(
        company_id=company.id, code="EST-B", name="乙小区", name_en="Estate B", language="en"
    )
    session.add_all([estate, other])
    await session.flush()
    unit = await make_unit(session, estate, "A-1-101")
    other_unit = await make_unit(session, other, "B-1-101")
    neighbour_unit = await make_unit(session, estate, "A-1-102")
    return World(
        company=company,
        estate=estate,
        other_estate=other,
        unit=unit,
        other_unit=other_unit,
        owner=await make_owner(session, unit, "张三", "13800000001"),
        neighbour=await make_owner(session, neighbour_unit, "李四", "13800000002"),
        far_owner=await make_owner(session, other_unit, "Ann Lee", "+6590000001", language="en"),
        agent=await make_staff(session, "agent", "agent", ["EST-A"], "前台小李"),
        technician=await make_staff(session, "tech", "technician", ["EST-A"], "赵师傅"),
        supervisor=await make_staff(session, "super", "supervisor", ["EST-A"], "陈工"),
        manager=await make_staff(session, "boss", "manager", []),
        far_technician=await make_staff(session, "tech-b", "technician", ["EST-B"]),
    )
