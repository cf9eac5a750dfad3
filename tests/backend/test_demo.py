"""Demo data as DESIGN.md describes it."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.demo import load_demo
from backend.models import ChannelIdentity, Estate, Owner, Staff, Ticket, Unit, WarrantyItem


async def test_demo_estates_owners_and_bound_identities(session: AsyncSession) -> None:
    await load_demo(session)
    codes = set((await session.scalars(select(Estate.code))).all())
    assert codes == {"DEMO-A", "DEMO-B"}
    bindings = {
        (i.channel, i.external_id): i
        for i in await session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.owner_id.is_not(None))
        )
    }
    expected = {
        ("telegram", "900001"): ("DEMO-A", "A-1-101"),
        ("wechat", "demo-openid-0001"): ("DEMO-A", "A-1-101"),
        ("webchat", "demo-session"): ("DEMO-A", "A-1-101"),
        ("telegram", "900002"): ("DEMO-B", "B-1-101"),
        ("webchat", "demo-session-b"): ("DEMO-B", "B-1-101"),
    }
    assert set(bindings) == set(expected)
    for key, (estate_code, unit_number) in expected.items():
        identity = bindings[key]
        assert identity.verified_at is not None
        owner = await session.get(Owner, identity.owner_id)
        assert owner is not None
        unit = await session.get(Unit, owner.unit_id)
        estate = await session.get(Estate, owner.estate_id)
        assert (estate.code, unit.number) == (estate_code, unit_number)  # type: ignore[union-attr]


async def test_demo_spreads_birthdays_and_warranty_over_the_year(session: AsyncSession) -> None:
    await load_demo(session)
    owners = (await session.scalars(select(Owner))).all()
    assert 180 <= len(owners) <= 220
    assert len({o.birthday.month for o in owners if o.birthday}) == 12
    months = set((await session.scalars(select(WarrantyItem.expires_on))).all())
    assert len({d.month for d in months}) == 12
    stages = {o.stage for o in owners}
    assert {"running_in", "stable", "veteran"} <= stages
    roles = set((await session.scalars(select(Staff.role))).all())
    assert roles == {"agent", "technician", "supervisor", "manager", "admin"}
    states = set((await session.scalars(select(Ticket.state))).all())
    assert {
        "received",
        "dispatched",
        "done",
        "closed",
        "accepted",
        "investigating",
        "open",
    } <= states


async def test_demo_load_twice_adds_nothing(session: AsyncSession) -> None:
    await load_demo(session)
    counts = []
    for _ in range(2):
        counts.append(
            tuple(
                [
                    await session.scalar(select(func.count()).select_from(m))
                    for m in (Owner, Ticket, Staff, Unit)
                ]
            )
        )
        await load_demo(session)
    assert counts[0] == counts[1]
