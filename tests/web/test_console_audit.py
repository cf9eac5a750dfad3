"""Console audit log: admins and managers read their company's log, newest first,
filtered and paged; other roles get 403; everything shown escaped."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend import audit
from backend.composition import Runtime
from backend.models import AuditEntry, Company, Estate, Staff, Ticket, utcnow
from tests.web.conftest import ConsoleClient
from tests.web.test_console_kb import NEW_ENTRY

ROW = re.compile(r'data-audit="(\d+)"')


def shown(page: str) -> list[int]:
    return [int(x) for x in ROW.findall(page)]


async def entry_ids(runtime: Runtime, **match: str) -> list[int]:
    async with runtime.db.session() as s:
        query = select(AuditEntry.id).order_by(AuditEntry.id.desc())
        for column, value in match.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list(await s.scalars(query))


async def record_as(
    runtime: Runtime, username: str, action: str, count: int = 1, **detail: str
) -> None:
    async with runtime.db.session() as s:
        staff = await s.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None
        for _ in range(count):
            await audit.record(s, action, staff=staff, detail=detail, ip="10.0.0.9")


async def test_admin_sees_logins_and_actions_newest_first(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    assert (await other_console.login("agent.a")).status_code == 303
    async with runtime.db.session() as s:
        ticket = await s.scalar(
            select(Ticket)
            .join(Estate, Estate.id == Ticket.estate_id)
            .where(Estate.code == "DEMO-A", Ticket.state == "received")
            .limit(1)
        )
        assert ticket is not None
    noted = await other_console.post(f"/console/tickets/{ticket.id}/note", note="已电话联系")
    assert noted.status_code == 303
    assert (await other_console.post("/console/kb", **NEW_ENTRY)).status_code == 303

    await console.login("admin")
    page = await console.http.get("/console/audit")
    assert page.status_code == 200
    assert 'href="/console/audit"' in page.text  # the nav link
    (login,) = await entry_ids(runtime, action="login", username="agent.a")
    (note,) = await entry_ids(runtime, action="note")
    (kb,) = await entry_ids(runtime, action="kb_create")
    (mine,) = await entry_ids(runtime, action="login", username="admin")
    assert shown(page.text) == [mine, kb, note, login]
    assert f'<a href="/console/tickets/{ticket.id}">ticket {ticket.id}</a>' in page.text
    assert "key=bike-shed-a" in page.text
    assert "李娜（客户大使）" in page.text and "127.0.0.1" in page.text


async def test_other_roles_are_forbidden_and_managers_read(
    console: ConsoleClient, runtime: Runtime
) -> None:
    for username in ("agent.a", "supervisor.a", "tech.a"):
        await console.login(username)
        assert (await console.http.get("/console/audit")).status_code == 403, username
        assert 'href="/console/audit"' not in (await console.http.get("/console")).text
        await console.post("/console/logout")
    await console.login("manager")
    page = await console.http.get("/console/audit")
    assert page.status_code == 200 and 'href="/console/audit"' in page.text
    assert len(shown(page.text)) >= 1


async def test_filters(console: ConsoleClient, runtime: Runtime) -> None:
    await record_as(runtime, "agent.a", "kb_update", key="fee")
    await record_as(runtime, "agent.b", "owner_update")
    await console.login("admin")

    by_staff = await console.http.get("/console/audit", params={"staff": "agent.b"})
    assert shown(by_staff.text) == await entry_ids(runtime, username="agent.b")
    assert 'value="agent.b"' in by_staff.text
    by_action = await console.http.get("/console/audit", params={"action": "login"})
    assert shown(by_action.text) == await entry_ids(runtime, action="login")
    async with runtime.db.session() as s:
        zone = await s.scalar(select(Company.timezone).where(Company.code == "DEMO"))
    today = utcnow().astimezone(ZoneInfo(str(zone))).date()  # the company's local day
    around = await console.http.get(
        "/console/audit", params={"from": today.isoformat(), "to": today.isoformat()}
    )
    assert len(shown(around.text)) == 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = await console.http.get("/console/audit", params={"from": tomorrow})
    assert shown(later.text) == [] and "没有符合条件的记录" in later.text
    bad = await console.http.get("/console/audit", params={"from": "yesterday"})
    assert bad.status_code == 422
    before = await console.http.get("/console/audit", params={"to": str(today - timedelta(1))})
    assert shown(before.text) == []


async def test_pages_of_a_hundred(console: ConsoleClient, runtime: Runtime) -> None:
    await record_as(runtime, "agent.a", "note", count=120)
    await console.login("admin")
    first = await console.http.get("/console/audit", params={"action": "note"})
    rows = shown(first.text)
    assert len(rows) == audit.PAGE_SIZE and rows == sorted(rows, reverse=True)
    older = re.search(r'href="(/console/audit\?[^"]*before=\d+[^"]*)"', first.text)
    assert older is not None
    second = await console.http.get(older.group(1).replace("&amp;", "&"))
    rest = shown(second.text)
    assert len(rest) == 20 and max(rest) < min(rows)
    assert "before=" not in second.text.split("</table>")[1]  # no older page


async def test_other_companies_and_unknown_usernames_are_not_shown(
    console: ConsoleClient, runtime: Runtime
) -> None:
    async with runtime.db.session() as s:
        other = Company(code="OTHER", name="其他物业")
        s.add(other)
        await s.flush()
        s.add(Staff(company_id=other.id, username="stranger", role="admin", password_hash="x"))
    await record_as(runtime, "stranger", "staff_add")
    async with runtime.db.session() as s:
        await audit.record(s, "login_failed", username="nobody", ip="10.0.0.1")
        await audit.record(s, "login_failed", username="agent.a", ip="10.0.0.2")
    await console.login("admin")
    page = await console.http.get("/console/audit")
    (failed,) = await entry_ids(runtime, action="login_failed", username="agent.a")
    assert failed in shown(page.text)
    assert "stranger" not in page.text and "nobody" not in page.text


async def test_details_are_escaped(console: ConsoleClient, runtime: Runtime) -> None:
    await record_as(runtime, "agent.a", "campaign_create", name="<script>alert(1)</script>")
    await console.login("admin")
    page = await console.http.get("/console/audit")
    assert "<script>alert(1)" not in page.text
    assert "name=&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
