"""APScheduler with a persistent job store: one leader, restarts that miss and repeat nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend.db import Database
from backend.models import Campaign, Company, OutboxItem, Owner
from backend.settings import Settings
from scheduler import jobs
from scheduler.service import JOBS, SchedulerService, sync_url


def test_sync_urls_for_the_job_store() -> None:
    assert sync_url("sqlite+aiosqlite:///./var/x.db") == "sqlite:///var/x-jobs.db"
    assert (
        sync_url("sqlite+aiosqlite:////srv/od/ownerdesk.db")
        == "sqlite:////srv/od/ownerdesk-jobs.db"
    )
    assert sync_url("postgresql+asyncpg://u:p@h:5/db") == "postgresql+psycopg://u:p@h:5/db"


async def test_one_leader_jobs_persist_and_survive_a_restart(
    demo: Database, test_settings: Settings
) -> None:
    first = SchedulerService(test_settings, demo)
    second = SchedulerService(test_settings, demo)
    await first.start()
    await second.start()
    try:
        assert first.leader and not second.leader
        assert first.scheduler is not None
        stored = {job.id: job.next_run_time for job in first.scheduler.get_jobs()}
        assert set(stored) == {name for name, _, _ in JOBS}
    finally:
        await first.stop()
        await second.stop()
    # A restart finds the same jobs in the database, with their times kept.
    again = SchedulerService(test_settings, demo)
    await again.start()
    try:
        assert again.scheduler is not None
        restored = {job.id: job.next_run_time for job in again.scheduler.get_jobs()}
        assert set(restored) == set(stored)
        assert restored["care_daily"] == stored["care_daily"]
    finally:
        await again.stop()


async def test_a_missed_daily_run_happens_once_and_repeats_nothing(
    demo: Database, test_settings: Settings
) -> None:
    async with demo.session() as s:
        owner = await s.scalar(select(Owner).where(Owner.phone == "13800138000"))
        assert owner is not None
        today = (
            datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
        )
        owner.birthday = today.replace(year=1980)
    service = SchedulerService(test_settings, demo)
    await service.start()
    assert service.scheduler is not None
    try:
        job = service.scheduler.get_job("care_daily")
        assert job is not None
        job.modify(next_run_time=datetime.now(UTC) - timedelta(hours=2))  # missed while "down"
        for _ in range(50):
            await asyncio.sleep(0.1)
            async with demo.session() as s:
                count = await s.scalar(
                    select(func.count())
                    .select_from(OutboxItem)
                    .where(OutboxItem.idempotency_key.like("care:birthday:%"))
                )
            if count:
                break
        assert count == 1
    finally:
        await service.stop()
    jobs.configure(demo)
    await jobs.care_daily()  # the same day again (a restart, or the next hourly run)
    async with demo.session() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.idempotency_key.like("care:birthday:%"))
        )
    assert count == 1


def test_jobs_need_configuring() -> None:
    jobs._context = None
    with pytest.raises(RuntimeError, match="configure"):
        asyncio.run(jobs.sla_watch())
    assert Path(jobs.__file__).exists()


async def test_the_daily_care_job_drafts_holiday_campaigns_for_approval(demo: Database) -> None:
    """A company that greets festivals by campaign finds the drafts waiting, made once."""
    async with demo.session() as s:
        company = await s.scalar(select(Company).where(Company.code == "DEMO"))
        assert company is not None
        company.settings = {**company.settings, "holiday_campaigns": True}
    clock = datetime(2027, 9, 28, 2, 5, tzinfo=UTC)  # 10:05 in Shanghai
    jobs.configure(demo, clock=lambda: clock)
    await jobs.care_daily()
    await jobs.care_daily()  # the next hourly run: nothing new
    async with demo.session() as s:
        made = list(await s.scalars(select(Campaign).order_by(Campaign.id)))
    assert [(c.festival, c.festival_year, c.state) for c in made] == [
        ("national_day", 2027, "pending_approval"),
        ("double_ninth", 2027, "pending_approval"),
    ]
