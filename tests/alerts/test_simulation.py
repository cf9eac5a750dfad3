"""Acceptance: a month of 10,000 tickets with staff delays and injected group complaints;
every injected cluster is detected and the background raises no alarm. Then the daily
and monthly reports of that month add up."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import periodic_reports as reports
from backend.alerts import detect_group_alerts
from backend.models import GroupAlert, GroupAlertTicket, Ticket
from tests.alerts.simulation import END, MONTH, START, Simulation, generate


async def _clusters(session: AsyncSession) -> dict[int, set[str]]:
    """Alert id → numbers of its linked tickets."""
    found: dict[int, set[str]] = defaultdict(set)
    for alert_id, number in await session.execute(
        select(GroupAlertTicket.alert_id, Ticket.number).join(
            Ticket, Ticket.id == GroupAlertTicket.ticket_id
        )
    ):
        found[alert_id].add(number)
    return dict(found)


async def _check(session: AsyncSession, sim: Simulation) -> dict[int, set[str]]:
    clusters = await _clusters(session)
    alerts = {a.id: a for a in await session.scalars(select(GroupAlert))}
    assert len(alerts) == len(sim.injected), "an alarm the injections do not explain"
    for plan in sim.injected:
        holding = [aid for aid, numbers in clusters.items() if set(plan.numbers) <= numbers]
        assert len(holding) == 1, f"{plan.kind} {plan.subject} not detected as one alert"
        alert = alerts[holding[0]]
        assert (alert.kind, alert.subject, alert.estate_id, alert.building_id) == (
            plan.kind,
            plan.subject,
            plan.estate_id,
            plan.building_id,
        )
        assert alert.households >= len(plan.numbers)
        # Anything else in it is background of the very same building (or estate) and subject.
        extra = clusters[alert.id] - set(plan.numbers)
        assert all(n.startswith("S-") for n in extra)
    return clusters


async def test_a_month_of_traffic(session: AsyncSession) -> None:
    began = time.perf_counter()
    sim = await generate(session)
    await session.commit()
    generated = time.perf_counter() - began
    assert sim.tickets == 10_000 + sum(len(p.numbers) for p in sim.injected)
    assert sim.late_first_responses > 100  # the staff delays are there

    # One scan over the whole month (as after a long outage, or an audit) …
    report = await detect_group_alerts(session, END + timedelta(days=1), since=START)
    assert len(report.created) == len(sim.injected)
    at_once = await _check(session, sim)
    assert not await detect_group_alerts(session, END + timedelta(days=1), since=START)
    await session.execute(delete(GroupAlertTicket))
    await session.execute(delete(GroupAlert))
    await session.commit()

    # … finds what the scheduler finds running every few minutes (here: every 3 hours).
    began = time.perf_counter()
    at = START
    runs = 0
    while at <= END + timedelta(days=1):
        await detect_group_alerts(session, at)
        at += timedelta(hours=3)
        runs += 1
    await session.commit()
    scanned = time.perf_counter() - began
    incremental = await _check(session, sim)
    assert sorted(map(sorted, incremental.values())) == sorted(map(sorted, at_once.values()))
    print(f"generated in {generated:.1f} s, {runs} detection runs in {scanned:.1f} s")

    # The daily report of every day counts that day's complaints.
    for offset in (0, 9, 30):
        day = MONTH + timedelta(days=offset)
        snapshot = await reports.daily_report(session, sim.company, day, END + timedelta(hours=8))
        view = reports.daily_view(snapshot.data)
        assert view["totals"]["complaints_new"] == sim.complaints_by_day[day]
        assert sum(view["totals"]["by_topic"].values()) == sim.complaints_by_day[day]
        assert view["totals"]["complaints_overdue"] > 0

    # The monthly report: volumes, SLA compliance as generated, trends against September.
    snapshot = await reports.monthly_report(session, sim.company, MONTH, END + timedelta(hours=8))
    view = reports.monthly_view(snapshot.data)
    metrics = {m["key"]: m for m in view["metrics"]}
    assert metrics["tickets"]["current"] == sim.tickets
    assert metrics["tickets"]["previous"] == 0 and metrics["tickets"]["arrow"] == "↑"
    assert metrics["alerts"]["current"] == len(sim.injected)
    expected = round(100 * sim.deadlines_on_time / sim.deadlines_due, 1)
    assert metrics["sla_rate"]["current"] == expected and 80 < expected < 97
    assert 60 < (metrics["satisfaction"]["current"] or 0) < 90
    assert metrics["closure_rate"]["previous"] is None and metrics["closure_rate"]["delta"] is None
    complaints = await session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.kind == "complaint")
    )
    assert metrics["complaints"]["current"] == complaints
