"""Many owners bound to Telegram, quickly: bulk inserts for the crash test and the benchmark.

One new estate of the (first) company, a building per 1,000 units, one owner per unit and
one verified Telegram identity per owner (chat id ``first_chat + i``), with the estate's
quiet hours switched off so a run does not depend on the time of day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import Database
from backend.models import Building, ChannelIdentity, Company, Estate, Owner, Unit, utcnow

CHUNK = 5000
PER_BUILDING = 1000
NEVER_QUIET = ["00:00", "00:00"]  # start == end: no quiet hours at all


@dataclass(frozen=True)
class Population:
    company_id: int
    estate_id: int
    chats: range  # the Telegram chat ids, one per owner


async def _ids(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    found: list[int] = []
    for start in range(0, len(rows), CHUNK):
        found += list(
            await session.scalars(
                insert(model).returning(model.id, sort_by_parameter_order=True),
                rows[start : start + CHUNK],
            )
        )
    return found


async def populate(
    db: Database, owners: int, *, code: str = "BULK", first_chat: int = 5_000_000
) -> Population:
    now = utcnow()
    async with db.session() as session:
        company = await session.scalar(select(Company).order_by(Company.id).limit(1))
        if company is None:
            company = Company(code="BULKCO", name="批量物业", name_en="Bulk Property")
            session.add(company)
            await session.flush()
        estate = Estate(
            company_id=company.id,
            code=code,
            name="压测花园",
            name_en="Load Test Gardens",
            settings={"quiet_hours": NEVER_QUIET},
        )
        session.add(estate)
        await session.flush()
        buildings = await _ids(
            session,
            Building,
            [
                {"estate_id": estate.id, "code": f"B{b}", "name": f"B{b}"}
                for b in range((owners + PER_BUILDING - 1) // PER_BUILDING)
            ],
        )
        units = await _ids(
            session,
            Unit,
            [
                {
                    "estate_id": estate.id,
                    "building_id": buildings[i // PER_BUILDING],
                    "number": f"B{i // PER_BUILDING}-{i % PER_BUILDING:04d}",
                    "handover_date": date(2020, 1, 1),
                }
                for i in range(owners)
            ],
        )
        owner_ids = await _ids(
            session,
            Owner,
            [
                {
                    "company_id": company.id,
                    "estate_id": estate.id,
                    "unit_id": unit_id,
                    "name": f"业主{i}",
                    "phone": f"137{i:08d}",
                    "language": "en" if i % 5 == 0 else "zh",
                    "stage": "stable",
                    "care_opt_outs": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for i, unit_id in enumerate(units)
            ],
        )
        await _ids(
            session,
            ChannelIdentity,
            [
                {
                    "channel": "telegram",
                    "external_id": str(first_chat + i),
                    "owner_id": owner_id,
                    "verified_at": now,
                    "language": "en" if i % 5 == 0 else "zh",
                    "created_at": now,
                }
                for i, owner_id in enumerate(owner_ids)
            ],
        )
        return Population(company.id, estate.id, range(first_chat, first_chat + owners))
