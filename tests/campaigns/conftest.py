"""Campaign tests run over the demo company: estates DEMO-A (120 households) and DEMO-B (80),
two owners bound to chat accounts; ``bind`` binds more."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import StaffContext, staff_context
from backend.db import Database
from backend.models import ChannelIdentity, Estate, OutboxItem, Owner, Staff

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def s(demo: Database) -> AsyncIterator[AsyncSession]:
    """A session over the demo data (SQLite, or PostgreSQL with OWNERDESK_TEST_DATABASE_URL)."""
    async with demo.sessions() as session:
        yield session


def local(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in Shanghai time, as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def ctx_of(session: AsyncSession, username: str) -> StaffContext:
    staff = await session.scalar(select(Staff).where(Staff.username == username))
    assert staff is not None, username
    return await staff_context(session, staff)


async def estate(session: AsyncSession, code: str) -> Estate:
    found = await session.scalar(select(Estate).where(Estate.code == code))
    assert found is not None, code
    return found


async def owners_of(session: AsyncSession, code: str) -> list[Owner]:
    e = await estate(session, code)
    return list(
        await session.scalars(select(Owner).where(Owner.estate_id == e.id).order_by(Owner.id))
    )


async def bind(session: AsyncSession, owners: Sequence[Owner], channel: str = "telegram") -> None:
    """Give each owner a verified chat account (chat id ``70000 + owner id``)."""
    for owner in owners:
        session.add(
            ChannelIdentity(
                channel=channel,
                external_id=str(70_000 + owner.id),
                owner_id=owner.id,
                verified_at=datetime(2026, 1, 1, tzinfo=UTC),
                language=owner.language,
            )
        )
    await session.flush()


async def rows(session: AsyncSession, campaign_id: int) -> list[OutboxItem]:
    return list(
        await session.scalars(
            select(OutboxItem)
            .where(OutboxItem.campaign_id == campaign_id)
            .order_by(OutboxItem.id)
            .execution_options(populate_existing=True)
        )
    )
