"""What the scheduler runs. Each job decides what is due and queues it through backend
services; the outbox worker delivers. Every job is safe to run late or twice.

Jobs are stored by reference ("scheduler.jobs:sla_watch") in the persistent job store,
so their dependencies come from ``configure`` rather than pickled arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend import periodic_reports
from backend.alerts import detect_group_alerts
from backend.callbacks import plan_visits, run_callbacks
from backend.campaign_holidays import holiday_drafts
from backend.campaigns import start_due
from backend.care import run_care
from backend.db import Database
from backend.models import Estate, utcnow
from backend.settings import get_settings
from backend.sla_watch import run_sla_watch

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    db: Database
    clock: Callable[[], datetime] = utcnow
    wake: Callable[[], None] | None = None


_context: JobContext | None = None


def configure(
    db: Database, clock: Callable[[], datetime] = utcnow, wake: Callable[[], None] | None = None
) -> None:
    global _context
    _context = JobContext(db, clock, wake)


def _ctx() -> JobContext:
    if _context is None:
        raise RuntimeError("scheduler.jobs.configure() was not called")
    return _context


def _woke(ctx: JobContext) -> None:
    if ctx.wake:
        ctx.wake()


async def sla_watch() -> None:
    ctx = _ctx()
    async with ctx.db.session() as session:
        done = await run_sla_watch(session, ctx.clock())
    if done:
        log.info("SLA watch: %s", dict(done))


async def callbacks() -> None:
    ctx = _ctx()
    async with ctx.db.session() as session:
        report = await run_callbacks(session, ctx.clock())
    if report.done:
        log.info("callbacks: %s", report.as_json())
        _woke(ctx)


async def care_daily() -> None:
    """Today's care messages for every estate's local date (usually one date), and the
    holiday campaign drafts of the coming festivals for companies that approve them."""
    ctx = _ctx()
    now = ctx.clock()
    async with ctx.db.session() as session:
        zones = set(await session.scalars(select(Estate.timezone)))
    for day in sorted({now.astimezone(ZoneInfo(z)).date() for z in zones}):
        async with ctx.db.session() as session:
            report = await run_care(session, day, now)
            visits = await plan_visits(session, day, now)
            # Companies that greet festivals by approved campaign get their drafts here.
            drafts = await holiday_drafts(session, day)
        if report.enqueued or visits:
            log.info("care %s: %s, %d visit task(s)", day, report.as_json(), visits)
        for draft in drafts:
            log.info("holiday campaign drafted for approval: %s", draft.name)
    _woke(ctx)


async def campaigns() -> None:
    """Start campaigns whose time has come (the campaign service decides)."""
    ctx = _ctx()
    async with ctx.db.session() as session:
        started = await start_due(session, ctx.clock())
    if started:
        _woke(ctx)


def _staff_chat() -> str | None:
    """The staff Telegram chat, when Telegram is on and a chat is configured."""
    settings = get_settings()
    return settings.telegram_staff_chat if settings.telegram_enabled else None


async def group_alerts() -> None:
    """Group-complaint warnings and repair floods (backend/alerts.py); idempotent."""
    ctx = _ctx()
    async with ctx.db.session() as session:
        report = await detect_group_alerts(session, ctx.clock(), staff_chat=_staff_chat())
    if report:
        log.info("group alerts: %s", report.as_json())
        _woke(ctx)


async def daily_report() -> None:
    """Yesterday's complaint report, once each company's report hour has come."""
    ctx = _ctx()
    async with ctx.db.session() as session:
        made = await periodic_reports.run_due_daily(session, ctx.clock(), staff_chat=_staff_chat())
    if made:
        log.info("daily report: %s", ", ".join(made))
        _woke(ctx)


async def monthly_report() -> None:
    """Last month's report with trends, from the 1st of the month."""
    ctx = _ctx()
    async with ctx.db.session() as session:
        made = await periodic_reports.run_due_monthly(
            session, ctx.clock(), staff_chat=_staff_chat()
        )
    if made:
        log.info("monthly report: %s", ", ".join(made))
        _woke(ctx)
