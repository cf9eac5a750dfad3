"""The daily complaint report and the monthly report: contents, scoping, when they run,
the staff chat, the CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import periodic_reports as reports
from backend import tickets
from backend.actors import Actor
from backend.alerts import detect_group_alerts
from backend.cli import main
from backend.db import Database
from backend.models import ChannelIdentity, OutboxItem, Rating, ReportSnapshot
from tests.alerts.helpers import block, complain, repair
from tests.factories import World, build_world

DAY = date(2026, 11, 3)  # local (Asia/Shanghai) day of the report
MORNING = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)  # 09:00 local
H = timedelta(hours=1)
CHAT = "-1001234567890"


async def _day_of_complaints(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A3", 4)
    far = await block(session, world.other_estate, "B7", 1)
    agent = Actor.of_staff(world.agent)
    for n in range(3):
        await complain(session, owners[n], "楼上装修太吵", MORNING + n * H)
    closed = await complain(session, owners[3], "垃圾没人清运", MORNING + 4 * H)
    for state in ("confirmed", "assessed", "investigating", "replied", "tracking"):
        await tickets.transition(session, closed, state, agent, now=MORNING + 5 * H)
    await complain(session, far[0], "the fees went up", MORNING + 2 * H)
    await repair(session, owners[0], "lift", MORNING + 3 * H)
    await complain(session, owners[0], "装修", MORNING - 2 * 24 * H)  # two days before
    await detect_group_alerts(session, MORNING + 6 * H)


async def test_daily_report_contents(session: AsyncSession, world: World) -> None:
    await _day_of_complaints(session, world)
    now = MORNING + 24 * H
    snapshot = await reports.daily_report(session, world.company, DAY, now)
    view = reports.daily_view(snapshot.data)
    totals = view["totals"]
    assert totals["complaints_new"] == 5 and totals["complaints_closed"] == 1
    assert totals["by_topic"] == {"renovation": 3, "fees": 1, "rubbish": 1}
    assert totals["repairs_new"] == 1 and totals["alerts_new"] == 1 and totals["alerts_open"] == 1
    # Overdue at the end of the day: every complaint without a first response within
    # 2 hours (this morning's four and the one of two days ago), not the one worked on.
    assert totals["complaints_overdue"] == 5
    assert totals["complaints_open"] == 5
    by_estate = {e["code"]: e for e in view["estates"]}
    assert by_estate["EST-A"]["complaints_new"] == 4 and by_estate["EST-B"]["complaints_new"] == 1
    assert [a["subject"] for a in view["alerts"]] == ["renovation"]
    # A supervisor of estate A sees estate A only, with totals over it.
    mine = reports.daily_view(snapshot.data, {world.estate.id})
    assert mine["totals"]["complaints_new"] == 4 and [e["code"] for e in mine["estates"]] == [
        "EST-A"
    ]
    text = reports.daily_text(snapshot.data, "zh")
    assert "投诉日报 2026-11-03" in text and "装修 3" in text
    assert "Daily complaint report" in reports.daily_text(snapshot.data, "en")


async def test_daily_report_is_stored_once_and_posted_once(
    session: AsyncSession, world: World
) -> None:
    await _day_of_complaints(session, world)
    for _ in range(2):
        await reports.daily_report(session, world.company, DAY, MORNING + 24 * H, staff_chat=CHAT)
    assert await session.scalar(select(func.count()).select_from(ReportSnapshot)) == 1
    posted = list(await session.scalars(select(OutboxItem).where(OutboxItem.chat_id == CHAT)))
    assert [o.idempotency_key for o in posted] == ["report:daily:2026-11-03"]
    assert posted[0].channel == "telegram" and posted[0].owner_id is None
    identity = await session.get(ChannelIdentity, posted[0].identity_id)
    assert identity is not None and identity.owner_id is None and identity.external_id == CHAT


async def test_due_reports_wait_for_the_report_hour(session: AsyncSession, world: World) -> None:
    early = datetime(2026, 11, 3, 23, 0, tzinfo=UTC)  # 07:00 on the 4th in Shanghai
    assert await reports.run_due_daily(session, early) == []
    made = await reports.run_due_daily(session, early + 2 * H)
    assert made == ["ACME:2026-11-03"]
    assert await reports.run_due_daily(session, early + 3 * H) == []
    first_of_month = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 December
    assert await reports.run_due_monthly(session, first_of_month - 2 * H) == []  # 07:00
    assert await reports.run_due_monthly(session, first_of_month) == ["ACME:2026-11"]
    assert await reports.run_due_monthly(session, first_of_month + 24 * H) == []


async def test_monthly_report_trends(session: AsyncSession, world: World) -> None:
    owners = await block(session, world.estate, "A3", 4)
    october = datetime(2026, 10, 10, 2, 0, tzinfo=UTC)
    november = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    agent = Actor.of_staff(world.agent)
    for n in range(2):
        await repair(session, owners[n], "door_window", october + n * H)
    ticket = await complain(session, owners[0], "噪音", october)
    for state in ("confirmed", "assessed", "investigating", "replied", "tracking"):
        await tickets.transition(session, ticket, state, agent, now=october + H)
    for n in range(4):
        fixed = await repair(session, owners[n], "plumbing", november + n * H)
        score = 5 if n else 2
        session.add(Rating(ticket_id=fixed.id, score=score, created_at=november + 5 * H))
    await complain(session, owners[1], "噪音", november)
    await complain(session, owners[2], "噪音", november)
    snapshot = await reports.monthly_report(
        session, world.company, date(2026, 11, 1), datetime(2026, 12, 1, 1, tzinfo=UTC)
    )
    view = reports.monthly_view(snapshot.data)
    m = {x["key"]: x for x in view["metrics"]}
    assert (m["repairs"]["current"], m["repairs"]["previous"]) == (4, 2)
    assert (m["repairs"]["delta"], m["repairs"]["arrow"]) == (2, "↑")
    assert (m["closure_rate"]["current"], m["closure_rate"]["previous"]) == (0.0, 100.0)
    assert m["closure_rate"]["arrow"] == "↓" and m["closure_rate"]["trend"] == "bad"
    assert m["satisfaction"]["current"] == 75.0 and m["satisfaction"]["previous"] is None
    assert m["average_score"]["current"] == 4.25
    assert reports.format_delta(m["closure_rate"]) == "↓ -100 pp"
    text = reports.monthly_text(snapshot.data, "en")
    assert "Monthly report 2026-11 (against 2026-10)" in text and "Repairs: 4 ↑ +2" in text


def test_month_arithmetic() -> None:
    assert reports.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert reports.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert reports.parse_month("2026-02") == date(2026, 2, 1)
    with pytest.raises(Exception, match="YYYY-MM"):
        reports.parse_month("Feb")


def test_report_cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def setup() -> None:
        db = Database(db_url)
        async with db.session() as session:
            await _day_of_complaints(session, await build_world(session))
        await db.dispose()

    asyncio.run(setup())
    code = main(["report", "daily", "--date", "2026-11-03", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    daily = json.loads(out.strip().splitlines()[-1])
    assert daily["date"] == "2026-11-03" and daily["totals"]["complaints_new"] == 5
    code = main(["report", "monthly", "--month", "2026-11", "--json"])
    out, err = capsys.readouterr()
    monthly = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and monthly["month"] == "2026-11"
    assert {m["key"] for m in monthly["metrics"]} >= {"tickets", "satisfaction", "sla_rate"}
    assert main(["report", "daily", "--date", "yesterday"]) == 1
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert main(["report", "monthly", "--month", "13"]) == 1
    assert main(["report", "daily", "--date", "2026-11-03"]) == 0
    assert "投诉日报" in capsys.readouterr().out
