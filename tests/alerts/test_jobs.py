"""The scheduled jobs: group alerts every few minutes, reports once due, the staff chat
only when Telegram is on and a chat is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.db import Database
from backend.models import GroupAlert, OutboxItem, ReportSnapshot
from backend.settings import get_settings
from scheduler import jobs
from scheduler.service import JOBS
from tests.alerts.helpers import block, complain
from tests.factories import build_world

T0 = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)


def test_jobs_are_scheduled() -> None:
    names = {name for name, _, _ in JOBS}
    assert {"group_alerts", "daily_report", "monthly_report"} <= names


async def test_jobs_raise_alerts_and_post_reports(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:
        world = await build_world(session)
        owners = await block(session, world.estate, "A3", 3)
        for n, owner in enumerate(owners):
            await complain(session, owner, "楼上装修太吵", T0 + timedelta(hours=n))
    clock = {"now": T0 + timedelta(hours=3)}
    woken: list[int] = []
    jobs.configure(db, clock=lambda: clock["now"], wake=lambda: woken.append(1))

    await jobs.group_alerts()  # Telegram off: the console only
    await jobs.group_alerts()
    async with db.session() as session:
        assert len(list(await session.scalars(select(GroupAlert)))) == 1
        assert list(await session.scalars(select(OutboxItem))) == []

    monkeypatch.setenv("OWNERDESK_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("OWNERDESK_TELEGRAM_STAFF_CHAT", "-100777")
    get_settings.cache_clear()
    clock["now"] = T0 + timedelta(days=1)  # 09:00 the next morning in Shanghai
    await jobs.daily_report()
    await jobs.daily_report()
    await jobs.monthly_report()
    async with db.session() as session:
        kinds = sorted((s.kind, s.period) for s in await session.scalars(select(ReportSnapshot)))
        assert kinds == [("daily", "2026-11-03"), ("monthly", "2026-10")]
        keys = sorted(o.idempotency_key for o in await session.scalars(select(OutboxItem)))
        assert keys == ["report:daily:2026-11-03", "report:monthly:2026-10"]
    assert woken
    get_settings.cache_clear()
