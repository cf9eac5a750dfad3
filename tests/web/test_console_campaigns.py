"""Console campaigns: the form, the preview step, sending, live progress, pause / resume /
cancel, approving holiday drafts; roles, estate scope, CSRF and the audit log."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from backend import campaigns
from backend.composition import Runtime
from backend.models import AuditEntry, Building, Campaign, Company, Estate, OutboxItem
from tests.web.conftest import ConsoleClient

TEXT_ZH = "{name}您好！{estate}本周六上午在中心花园举办业主开放日。"
TEXT_EN = "Dear {name}, {estate} holds an owners' open day in the central garden on Saturday."


async def estate_id(runtime: Runtime, code: str) -> int:
    async with runtime.db.session() as s:
        found = await s.scalar(select(Estate.id).where(Estate.code == code))
        assert found is not None
        return int(found)


async def post(console: ConsoleClient, path: str, form: dict[str, Any]) -> Any:
    """A form post with repeated fields (checkboxes) and the CSRF token."""
    return await console.http.post(path, data={"csrf_token": console.csrf, **form})


def form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "业主开放日", "text_zh": TEXT_ZH, "text_en": TEXT_EN}
    values.update(changes)
    return values


async def create(console: ConsoleClient, **changes: Any) -> int:
    response = await post(console, "/console/campaigns", form(**changes))
    assert response.status_code == 303, response.text
    found = re.search(r"/console/campaigns/(\d+)$", response.headers["location"])
    assert found
    return int(found.group(1))


async def campaign(runtime: Runtime, campaign_id: int) -> Campaign:
    async with runtime.db.session() as s:
        found = await s.get(Campaign, campaign_id)
        assert found is not None
        return found


async def audit(runtime: Runtime, campaign_id: int) -> list[str]:
    async with runtime.db.session() as s:
        return list(
            await s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target_type == "campaign", AuditEntry.target_id == campaign_id)
                .order_by(AuditEntry.id)
            )
        )


async def no_quiet_hours(runtime: Runtime) -> None:
    async with runtime.db.session() as s:
        for e in await s.scalars(select(Estate)):
            e.settings = {**e.settings, "quiet_hours": ["00:00", "00:00"]}


async def test_create_preview_send_and_watch_progress(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await no_quiet_hours(runtime)
    await console.login("manager")
    listing = await console.http.get("/console/campaigns")
    assert listing.status_code == 200 and 'href="/console/campaigns"' in listing.text
    campaign_id = await create(console)
    page = await console.http.get(f"/console/campaigns/{campaign_id}")
    assert 'data-count="reachable">2<' in page.text and 'data-count="unreachable">198<' in page.text
    assert "张伟您好！阳光花园本周六上午" in page.text
    assert "Dear Emily Chen, Lakeside Court holds" in page.text
    assert 'data-action="send"' in page.text
    sent = await console.post(f"/console/campaigns/{campaign_id}/send")
    assert sent.status_code == 303
    after = await console.http.get(f"/console/campaigns/{campaign_id}")
    assert "2 条消息进入发送队列" in after.text and 'hx-trigger="every 2s"' in after.text
    assert (await campaign(runtime, campaign_id)).state == "running"
    await runtime.worker.run_once()  # the outbox worker delivers (web chat here)
    progress = await console.http.get(
        f"/console/campaigns/{campaign_id}/progress", headers={"HX-Request": "true"}
    )
    assert 'data-count="sent">2<' in progress.text and 'data-state="done"' in progress.text
    assert "hx-trigger" not in progress.text  # done: the page stops polling
    assert "<html" not in progress.text
    listing = await console.http.get("/console/campaigns")
    assert f'data-campaign="{campaign_id}" data-state="done"' in listing.text
    assert "已发送 2 / 2" in listing.text
    assert await audit(runtime, campaign_id) == ["campaign_create", "campaign_send"]
    again = await console.post(f"/console/campaigns/{campaign_id}/send")  # a double click
    assert again.status_code == 303
    async with runtime.db.session() as s:
        rows = list(
            await s.scalars(select(OutboxItem).where(OutboxItem.campaign_id == campaign_id))
        )
    assert len(rows) == 2


async def test_pause_resume_cancel(console: ConsoleClient, runtime: Runtime) -> None:
    await console.login("admin")
    campaign_id = await create(console)
    await console.post(f"/console/campaigns/{campaign_id}/send")
    paused = await console.post(f"/console/campaigns/{campaign_id}/pause")
    assert paused.status_code == 303
    page = await console.http.get(f"/console/campaigns/{campaign_id}")
    assert "已暂停，2 条消息暂缓发送" in page.text and 'data-action="resume"' in page.text
    await console.post(f"/console/campaigns/{campaign_id}/resume")
    assert (await campaign(runtime, campaign_id)).state == "running"
    await console.post(f"/console/campaigns/{campaign_id}/cancel")
    page = await console.http.get(f"/console/campaigns/{campaign_id}")
    assert 'data-count="cancelled">2<' in page.text
    again = await console.post(f"/console/campaigns/{campaign_id}/resume")
    assert again.status_code == 303
    assert "flash" in (await console.http.get(f"/console/campaigns/{campaign_id}")).text
    assert await audit(runtime, campaign_id) == [
        "campaign_create",
        "campaign_send",
        "campaign_pause",
        "campaign_resume",
        "campaign_cancel",
    ]


async def test_form_errors_keep_what_was_typed(console: ConsoleClient, runtime: Runtime) -> None:
    await console.login("manager")
    response = await post(console, "/console/campaigns", form(text_en="", name="写了一半"))
    assert response.status_code == 422
    assert "写了一半" in response.text and "both languages" in response.text
    past = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=1)
    response = await post(
        console, "/console/campaigns", form(send_at=past.strftime("%Y-%m-%dT%H:%M"))
    )
    assert response.status_code == 422 and "future" in response.text
    async with runtime.db.session() as s:
        assert list(await s.scalars(select(Campaign))) == []


async def test_audience_pickers_and_schedule(console: ConsoleClient, runtime: Runtime) -> None:
    a = await estate_id(runtime, "DEMO-A")
    async with runtime.db.session() as s:
        block = await s.scalar(select(Building.id).where(Building.estate_id == a))
    await console.login("manager")
    later = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)
    campaign_id = await create(
        console,
        estate_ids=[str(a)],
        building_ids=[str(block)],
        stages=["stable", "veteran"],
        languages=["zh"],
        relations=["child"],
        send_at=later.strftime("%Y-%m-%dT%H:%M"),
    )
    saved = await campaign(runtime, campaign_id)
    assert saved.audience == {
        "estate_ids": [a],
        "building_ids": [block],
        "stages": ["stable", "veteran"],
        "languages": ["zh"],
        "relations": ["child"],
    }
    edit = await console.http.get(f"/console/campaigns/{campaign_id}/edit")
    assert f'name="estate_ids" value="{a}" checked' in edit.text
    assert 'name="stages" value="veteran" checked' in edit.text
    page = await console.http.get(f"/console/campaigns/{campaign_id}")
    assert later.strftime("%Y-%m-%dT%H:%M") in page.text
    scheduled = await post(
        console,
        f"/console/campaigns/{campaign_id}/schedule",
        {"send_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert scheduled.status_code == 303
    assert (await campaign(runtime, campaign_id)).state == "scheduled"


async def test_roles_and_estate_scope(console: ConsoleClient, runtime: Runtime) -> None:
    a, b = await estate_id(runtime, "DEMO-A"), await estate_id(runtime, "DEMO-B")
    await console.login("manager")
    company_wide = await create(console)
    await console.login("supervisor.a")
    own = await create(console, estate_ids=[str(a)])
    refused = await post(console, "/console/campaigns", form(estate_ids=[str(b)]))
    assert refused.status_code == 422 and "estates you look after" in refused.text
    assert (await console.http.get(f"/console/campaigns/{company_wide}")).status_code == 404
    assert (await console.post(f"/console/campaigns/{company_wide}/send")).status_code == 404
    listing = await console.http.get("/console/campaigns")
    assert f'data-campaign="{own}"' in listing.text
    assert f'data-campaign="{company_wide}"' not in listing.text
    page = await console.http.get(f"/console/campaigns/{own}/edit")
    assert f'name="estate_ids" value="{b}"' not in page.text  # only their own estates
    await console.login("agent.a")
    assert (await console.http.get("/console/campaigns")).status_code == 403
    assert 'href="/console/campaigns"' not in (await console.http.get("/console")).text


async def test_state_changes_need_the_csrf_token(console: ConsoleClient, runtime: Runtime) -> None:
    await console.login("manager")
    campaign_id = await create(console)
    response = await console.http.post(f"/console/campaigns/{campaign_id}/send")
    assert response.status_code == 403
    assert (await campaign(runtime, campaign_id)).state == "draft"


async def test_holiday_drafts_are_approved_by_a_manager(
    console: ConsoleClient, runtime: Runtime
) -> None:
    async with runtime.db.session() as s:
        company = await s.scalar(select(Company))
        assert company is not None
        company.settings = {**company.settings, "holiday_campaigns": True}
        today = datetime.now(ZoneInfo(company.timezone)).date()
        drafts = await campaigns.holiday_drafts(s, date(today.year + 1, 9, 28))
        draft_id = drafts[0].id
    await console.login("supervisor.a")
    assert (await console.http.get("/console/campaigns")).status_code == 200
    await console.login("manager")
    listing = await console.http.get("/console/campaigns")
    assert "立即查看日历" in listing.text and f'data-campaign="{draft_id}"' in listing.text
    page = await console.http.get(f"/console/campaigns/{draft_id}")
    assert 'data-action="approve"' in page.text and "国庆快乐" in page.text
    approved = await console.post(f"/console/campaigns/{draft_id}/approve")
    assert approved.status_code == 303
    saved = await campaign(runtime, draft_id)
    assert saved.state == "scheduled" and saved.approved_by_id is not None
    checked = await console.post("/console/campaigns/holidays")
    assert checked.status_code == 303
    async with runtime.db.session() as s:
        await s.execute(update(Company).values(settings={}))
    listing = await console.http.get("/console/campaigns")
    assert "holiday_campaigns" in listing.text  # how to switch it on
