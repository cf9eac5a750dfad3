"""Console: group alerts (list, badge, detail, acknowledge, reply to all), the daily and
monthly report pages, and the household file's full history and exports."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from backend import periodic_reports as reports
from backend import tickets
from backend.actors import Actor
from backend.alerts import detect_group_alerts
from backend.composition import Runtime
from backend.messaging import OutboundMessage, enqueue, latest_identity
from backend.models import (
    AuditEntry,
    Company,
    Estate,
    GroupAlert,
    OutboxItem,
    Owner,
    Unit,
    utcnow,
)
from tests.web.conftest import ConsoleClient


async def neighbours(runtime: Runtime, unit: str = "A-1-101") -> list[Owner]:
    """The demo owner at ``unit`` first, then others of the same building."""
    async with runtime.db.session() as s:
        me = await s.scalar(
            select(Owner)
            .join(Unit, Unit.id == Owner.unit_id)
            .join(Estate, Estate.id == Owner.estate_id)
            .where(Estate.code == "DEMO-A", Unit.number == unit)
        )
        assert me is not None
        building = await s.scalar(select(Unit.building_id).where(Unit.id == me.unit_id))
        others = list(
            await s.scalars(
                select(Owner)
                .join(Unit, Unit.id == Owner.unit_id)
                .where(Unit.building_id == building, Owner.id != me.id)
                .order_by(Owner.id)
                .limit(3)
            )
        )
        return [me, *others]


async def raise_alert(runtime: Runtime) -> GroupAlert:
    owners = await neighbours(runtime)
    now = utcnow()
    async with runtime.db.session() as s:
        for n, owner in enumerate(owners[:3]):
            await tickets.open_ticket(
                s,
                kind="complaint",
                estate_id=owner.estate_id,
                owner_id=owner.id,
                actor=Actor.of_owner(owner),
                summary="电梯又坏了，三天没人修",
                now=now - timedelta(hours=3 - n),
            )
        await detect_group_alerts(s, now)
        alert = await s.scalar(select(GroupAlert).where(GroupAlert.subject == "lift"))
        assert alert is not None
        return alert


async def test_alert_list_badge_detail_reply_and_acknowledge(
    console: ConsoleClient, runtime: Runtime
) -> None:
    alert = await raise_alert(runtime)
    await console.login("supervisor.a")
    queue = await console.http.get("/console")
    assert 'hx-get="/console/alerts/badge"' in queue.text
    badge = await console.http.get("/console/alerts/badge")
    assert 'class="badge red"' in badge.text and "群诉预警 1" in badge.text
    page = await console.http.get("/console/alerts")
    assert page.status_code == 200 and f'data-alert="{alert.id}"' in page.text
    assert "有 1 条群诉预警待确认" in page.text
    detail = await console.http.get(f"/console/alerts/{alert.id}")
    assert detail.status_code == 200 and detail.text.count("data-ticket=") == 3
    assert "统一回复所有业主" in detail.text

    sent = await console.post(f"/console/alerts/{alert.id}/reply", text="电梯今晚修复，敬请谅解。")
    assert sent.status_code == 303
    after = await console.http.get(f"/console/alerts/{alert.id}")
    assert "已回复 1 位业主" in after.text and "请电话联系" in after.text
    async with runtime.db.session() as s:
        rows = list(await s.scalars(select(OutboxItem).where(OutboxItem.payload.is_not(None))))
        replies = [o for o in rows if o.payload.get("text") == "电梯今晚修复，敬请谅解。"]
        assert len(replies) == 1 and replies[0].chat_id in (
            "900001",
            "demo-openid-0001",
            "demo-session",
        )
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "alert_reply_all"))
        assert entry is not None and entry.ip
        refreshed = await s.get(GroupAlert, alert.id)
        assert refreshed is not None and refreshed.state == "acknowledged"

    listing = await console.http.get("/console/alerts", params={"state": "acknowledged"})
    assert f'data-alert="{alert.id}"' in listing.text
    assert "群诉预警 1" not in (await console.http.get("/console/alerts/badge")).text


async def test_acknowledge_needs_csrf_and_scope(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    alert = await raise_alert(runtime)
    await console.login("manager")
    refused = await console.http.post(f"/console/alerts/{alert.id}/acknowledge")
    assert refused.status_code == 403
    done = await console.post(f"/console/alerts/{alert.id}/acknowledge")
    assert done.status_code == 303
    page = await console.http.get(f"/console/alerts/{alert.id}")
    assert "已确认" in page.text and "王经理" in page.text
    assert "统一回复所有业主" not in page.text  # managers oversee, the front desk replies

    await other_console.login("supervisor.b")
    assert (await other_console.http.get(f"/console/alerts/{alert.id}")).status_code == 404
    other = await other_console.post(f"/console/alerts/{alert.id}/acknowledge")
    assert other.status_code == 404
    await other_console.post("/console/logout")
    await other_console.login("agent.a")
    assert (await other_console.http.get("/console/alerts")).status_code == 403
    assert "/console/alerts/badge" not in (await other_console.http.get("/console")).text


async def test_report_pages_are_scoped(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    await raise_alert(runtime)
    now = utcnow()
    async with runtime.db.session() as s:
        company = await s.scalar(select(Company))
        assert company is not None
        today = now.astimezone(reports.zone_of(company)).date()
        await reports.daily_report(s, company, today, now)
        await reports.monthly_report(s, company, today.replace(day=1), now)
    await console.login("manager")
    listing = await console.http.get("/console/reports/daily")
    assert listing.status_code == 200 and f'data-period="{today.isoformat()}"' in listing.text
    page = await console.http.get(f"/console/reports/daily/{today.isoformat()}")
    assert page.status_code == 200
    assert 'data-estate="DEMO-A"' in page.text and 'data-estate="DEMO-B"' in page.text
    assert "电梯" in page.text  # the topic and the alert
    month = f"{today:%Y-%m}"
    monthly = await console.http.get(f"/console/reports/monthly/{month}")
    assert monthly.status_code == 200 and 'data-metric="sla_rate"' in monthly.text
    assert f'data-period="{month}"' in (await console.http.get("/console/reports/monthly")).text
    assert (await console.http.get("/console/reports/daily/1999-01-01")).status_code == 404

    await other_console.login("supervisor.b")
    theirs = await other_console.http.get(f"/console/reports/daily/{today.isoformat()}")
    assert 'data-estate="DEMO-B"' in theirs.text and 'data-estate="DEMO-A"' not in theirs.text
    await other_console.post("/console/logout")
    await other_console.login("agent.a")
    assert (await other_console.http.get("/console/reports/daily")).status_code == 403


async def test_household_history_and_exports(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    await raise_alert(runtime)
    me = (await neighbours(runtime))[0]
    async with runtime.db.session() as s:
        identity = await latest_identity(s, me.id)
        assert identity is not None
        await enqueue(
            s,
            key=f"care:birthday:owner:{me.id}:2026",
            identity=identity,
            message=OutboundMessage("生日快乐！"),
        )
        ticket = await tickets.open_ticket(
            s,
            kind="repair",
            estate_id=me.estate_id,
            owner_id=me.id,
            actor=Actor.of_owner(me),
            summary='=HYPERLINK("http://evil")',
            category="door_window",
        )
        number = ticket.number
    await console.login("agent.a")
    owner_page = await console.http.get(f"/console/owners/{me.id}")
    assert f"/console/owners/{me.id}/export.xlsx" in owner_page.text
    history = await console.http.get(f"/console/owners/{me.id}/history")
    assert history.status_code == 200 and "生日快乐" in history.text and number in history.text

    exported = await console.http.get(f"/console/owners/{me.id}/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    data = json.loads(exported.text)
    assert data["owner"]["unit"] == "A-1-101"
    assert [c["kind"] for c in data["care_messages"]] == ["birthday"]
    linked = [tk for tk in data["tickets"] if tk["group_alert_id"]]
    assert len(linked) == 1 and linked[0]["events"][0]["action"] == "created"
    assert data["warranty"] and "messages" in data and "ratings" in data

    xlsx = await console.http.get(f"/console/owners/{me.id}/export.xlsx")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == [
        "Household",
        "Members",
        "Tickets",
        "Events",
        "Messages",
        "Ratings",
        "Care",
        "Warranty",
    ]
    sheet = book["Tickets"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    evil = next(r for r in rows if r["number"] == number)
    assert evil["summary"] == '=HYPERLINK("http://evil")'  # text, not a formula
    assert sheet.cell(row=rows.index(evil) + 2, column=header.index("summary") + 1).data_type == "s"
    assert book["Care"].max_row == 2
    async with runtime.db.session() as s:
        formats = [
            e.detail["format"]
            for e in await s.scalars(select(AuditEntry).where(AuditEntry.action == "owner_export"))
        ]
        assert formats == ["json", "xlsx"]

    await other_console.login("agent.b")
    assert (await other_console.http.get(f"/console/owners/{me.id}/export.xlsx")).status_code == 404
    assert (await other_console.http.get(f"/console/owners/{me.id}/history")).status_code == 404
