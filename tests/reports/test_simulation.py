"""A month of 10 000 tickets with staff delays injected at random: the SLA report counts
exactly the injected breaches, promise by promise (backend/reports/simulate.py)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend.reports import kpi_report, period_bounds
from backend.reports.simulate import Plan, add_households, generate
from tests.factories import World

ZONE = ZoneInfo("Asia/Shanghai")


async def test_the_sla_report_counts_exactly_the_injected_breaches(
    session: AsyncSession, world: World
) -> None:
    start, end = period_bounds(date(2026, 3, 1), date(2026, 3, 31), ZONE)
    now = end + timedelta(days=10)
    began = time.perf_counter()
    for estate in (world.estate, world.other_estate):  # 400 households to open tickets for
        await add_households(session, estate.id, buildings=4, units=50)
    truth = await generate(session, world.company.id, Plan(10_000, start, end, now, seed=7))
    await session.commit()
    assert time.perf_counter() - began < 60  # bulk inserts: seconds, not minutes
    assert truth.rows["tickets"] == 10_000

    report = await kpi_report(session, company_id=world.company.id, start=start, end=end, now=now)

    injected_total = 0
    for row in report.sla:
        injected = truth.injected[row.promise]
        injected_total += injected["late"] + injected["never"]
        assert (row.promise, row.late, row.open) == (
            row.promise,
            injected["late"],
            injected["never"],
        )
        assert row.breached == injected["late"] + injected["never"]
        expected = truth.sla[row.promise]
        assert (row.met, row.late, row.open, row.pending) == (
            expected["met"],
            expected["late"],
            expected["open"],
            expected["pending"],
        ), row.promise
    assert injected_total > 300  # delays were injected into every kind of promise
    assert all(
        sum(truth.injected[p].values())
        for p in (
            "repair.dispatch",
            "repair.on_site",
            "repair.callback",
            "complaint.first_response",
            "complaint.reply",
            "complaint.accept_callback",
            "complaint.closure_callback",
        )
    )
    assert report.sla_row("repair.second_callback").due == 0  # all due in May

    assert report.volumes.total == 10_000
    assert report.volumes.tables["kind"] == dict(truth.tickets)
    satisfaction = report.kpi("repair_satisfaction")
    assert (satisfaction.numerator, satisfaction.denominator) == (
        truth.ratings["satisfied"],
        truth.ratings["all"],
    )
    recorded = report.kpi("tickets_recorded")
    assert (recorded.numerator, recorded.denominator) == (
        truth.messages["recorded"],
        truth.messages["all"],
    )
    assert recorded.met is False  # the lost messages
