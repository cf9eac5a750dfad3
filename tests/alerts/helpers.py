"""Hand-made households and tickets for the alert and report tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.models import Building, ChannelIdentity, Estate, Owner, Ticket, Unit


async def block(session: AsyncSession, estate: Estate, code: str, units: int) -> list[Owner]:
    """A building with ``units`` households, each with an owner on file."""
    building = Building(estate_id=estate.id, code=code, name=code)
    session.add(building)
    await session.flush()
    owners = []
    for n in range(units):
        unit = Unit(estate_id=estate.id, building_id=building.id, number=f"{code}-{101 + n}")
        session.add(unit)
        await session.flush()
        owner = Owner(
            company_id=estate.company_id,
            estate_id=estate.id,
            unit_id=unit.id,
            name=f"业主{code}{n}",
            phone=f"1380000{len(code):02d}{n:02d}",
        )
        session.add(owner)
        owners.append(owner)
    await session.flush()
    return owners


async def bind(session: AsyncSession, owner: Owner, channel: str = "telegram") -> ChannelIdentity:
    identity = ChannelIdentity(
        channel=channel,
        external_id=f"{channel}-{owner.id}",
        owner_id=owner.id,
        verified_at=owner.created_at,
        language="zh",
    )
    session.add(identity)
    await session.flush()
    return identity


async def complain(session: AsyncSession, owner: Owner, text: str, at: datetime) -> Ticket:
    return await tickets.open_ticket(
        session,
        kind="complaint",
        estate_id=owner.estate_id,
        owner_id=owner.id,
        actor=Actor.of_owner(owner),
        channel="telegram",
        summary=text,
        description=text,
        now=at,
    )


async def repair(session: AsyncSession, owner: Owner, category: str, at: datetime) -> Ticket:
    return await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=owner.estate_id,
        owner_id=owner.id,
        actor=Actor.of_owner(owner),
        channel="telegram",
        summary=category,
        category=category,
        now=at,
    )
