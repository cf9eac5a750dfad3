"""The campaign service: audiences, opt-outs, quiet hours, idempotent starts, pause /
resume / cancel, progress and the scheduler's tick, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend import campaigns
from backend.campaign_audience import AudienceSpec
from backend.campaign_plan import render
from backend.campaigns import CampaignForm, CampaignState
from backend.errors import Forbidden, IllegalTransition, InvalidInput, NotFound
from backend.models import Building, Campaign, HouseholdMember, OutboxItem, Owner
from backend.vocabulary import OutboxState
from tests.campaigns.conftest import bind, ctx_of, estate, local, owners_of, rows

NOON = local(2026, 12, 1, 12)
TEXT_ZH = "{name}您好，{estate}本周六有社区活动。{unknown} {"
TEXT_EN = "Dear {name}, {estate} has a community day on Saturday."


def form(spec: AudienceSpec | None = None, **changes: object) -> CampaignForm:
    values: dict[str, object] = {
        "name": "社区活动",
        "text_zh": TEXT_ZH,
        "text_en": TEXT_EN,
        "audience": spec or AudienceSpec(),
    }
    values.update(changes)
    return CampaignForm(**values)  # type: ignore[arg-type]


async def new(s: AsyncSession, spec: AudienceSpec | None = None, who: str = "manager") -> Campaign:
    return await campaigns.create(s, await ctx_of(s, who), form(spec), now=NOON)


async def test_audience_filters_count_owners_and_who_can_be_reached(s: AsyncSession) -> None:
    a, b = await estate(s, "DEMO-A"), await estate(s, "DEMO-B")
    everyone = await campaigns.select_audience(s, await new(s))
    assert everyone.total == 200 and len(everyone.recipients) == 2  # the two bound demo owners
    only_a = await campaigns.select_audience(s, await new(s, AudienceSpec(estate_ids=(a.id,))))
    assert (only_a.total, [r.name for r in only_a.recipients]) == (120, ["张伟"])
    block_a = await s.scalar(
        select(Building).where(Building.estate_id == a.id, Building.code == "A")
    )
    assert block_a is not None
    in_block = await campaigns.select_audience(
        s, await new(s, AudienceSpec(estate_ids=(a.id,), building_ids=(block_a.id,)))
    )
    assert in_block.total == 40
    english = await campaigns.select_audience(s, await new(s, AudienceSpec(languages=("en",))))
    assert english.total == 80 and [r.name for r in english.recipients] == ["Emily Chen"]
    assert english.recipients[0].language == "en"
    stable = await s.scalar(select(func.count()).where(Owner.stage == "stable"))
    by_stage = await campaigns.select_audience(s, await new(s, AudienceSpec(stages=("stable",))))
    assert by_stage.total == stable
    with_children = await s.scalar(
        select(func.count(func.distinct(HouseholdMember.owner_id))).where(
            HouseholdMember.relation == "child"
        )
    )
    kids = await campaigns.select_audience(s, await new(s, AudienceSpec(relations=("child",))))
    assert kids.total == with_children and 0 < kids.total < 200
    b_only = await campaigns.select_audience(s, await new(s, AudienceSpec(estate_ids=(b.id,))))
    assert b_only.total == 80


async def test_opted_out_owners_are_left_out_by_care_type(s: AsyncSession) -> None:
    owners = (await owners_of(s, "DEMO-A"))[:10]
    await bind(s, owners[1:])  # 张伟 (the first) is bound already
    owners[1].care_opt_outs = ["campaign"]
    owners[2].care_opt_outs = ["holiday"]
    a = await estate(s, "DEMO-A")
    campaign = await new(s, AudienceSpec(estate_ids=(a.id,)))
    audience = await campaigns.select_audience(s, campaign)
    names = {r.owner_id for r in audience.recipients}
    assert owners[1].id not in names and owners[2].id in names and audience.opted_out == 1
    campaign.kind = "holiday"  # a holiday campaign honours the holiday opt-out instead
    holiday = await campaigns.select_audience(s, campaign)
    assert {r.owner_id for r in holiday.recipients} == names - {owners[2].id} | {owners[1].id}


async def test_start_queues_one_message_per_owner_once(s: AsyncSession) -> None:
    await bind(s, (await owners_of(s, "DEMO-B"))[1:21])
    ctx = await ctx_of(s, "manager")
    campaign = await new(s)
    queued = await campaigns.start(s, ctx, campaign.id, now=NOON)
    assert queued == 22 and campaign.state == CampaignState.RUNNING and campaign.planned == 22
    assert await campaigns.start(s, ctx, campaign.id, now=NOON) == 0
    assert await campaigns.plan(s, campaign, NOON) == 0  # a retried job queues nothing twice
    sent = await rows(s, campaign.id)
    assert len(sent) == 22 == len({r.idempotency_key for r in sent})
    assert all(r.idempotency_key == f"campaign:{campaign.id}:owner:{r.owner_id}" for r in sent)
    emily = next(r for r in sent if r.chat_id == "demo-session-b")
    assert emily.payload["text"].startswith("Dear Emily Chen, Lakeside Court has")
    assert emily.payload["buttons"][0]["value"] == "unsubscribe:campaign"
    assert emily.payload["template"] == "care"  # WeChat: a template outside the 48 hours
    zhang = next(r for r in sent if r.chat_id == "demo-session")
    assert zhang.payload["text"] == "张伟您好，阳光花园本周六有社区活动。{unknown} {"
    assert all(r.next_attempt_at == NOON for r in sent)  # noon is no quiet hour


async def test_nothing_goes_in_quiet_hours(s: AsyncSession) -> None:
    a, b = await estate(s, "DEMO-A"), await estate(s, "DEMO-B")
    b.settings = {"quiet_hours": ["22:30", "07:00"]}
    ctx = await ctx_of(s, "manager")
    campaign = await new(s)
    late = local(2026, 12, 1, 22, 0)  # 22:00 in Shanghai and Singapore (both UTC+8)
    await campaigns.start(s, ctx, campaign.id, now=late)
    times = {r.chat_id: r.next_attempt_at for r in await rows(s, campaign.id)}
    assert times["demo-session"] == local(2026, 12, 2, 8)  # DEMO-A: the default 21:00–08:00
    assert times["demo-session-b"] == late  # DEMO-B's quiet hours start at 22:30
    assert a.id != b.id


async def test_pause_resume_cancel_move_the_queued_messages(s: AsyncSession) -> None:
    await bind(s, (await owners_of(s, "DEMO-A"))[1:11])
    (await estate(s, "DEMO-B")).settings = {"quiet_hours": ["00:00", "00:00"]}  # none at all
    ctx = await ctx_of(s, "admin")
    campaign = await new(s)
    await campaigns.start(s, ctx, campaign.id, now=NOON)
    first = (await rows(s, campaign.id))[0]
    assert first.chat_id == "demo-session"
    first.state, first.sent_at = OutboxState.SENT.value, NOON
    await s.flush()
    assert await campaigns.pause(s, ctx, campaign.id) == 11
    assert campaign.state == CampaignState.PAUSED
    progress = await campaigns.progress(s, campaign)
    assert (progress["held"], progress["sent"], progress.queued) == (11, 1, 11)
    with pytest.raises(IllegalTransition):
        await campaigns.pause(s, ctx, campaign.id)
    night = local(2026, 12, 1, 23)  # resumed in DEMO-A's quiet hours: released for 08:00
    assert await campaigns.resume(s, ctx, campaign.id, now=night) == 11
    pending = [r for r in await rows(s, campaign.id) if r.state == OutboxState.PENDING]
    assert len(pending) == 11
    by_chat = {r.chat_id: r.next_attempt_at for r in pending}
    assert by_chat.pop("demo-session-b") == NOON  # DEMO-B has no quiet hours
    assert set(by_chat.values()) == {local(2026, 12, 2, 8)} and len(by_chat) == 10
    assert await campaigns.cancel(s, ctx, campaign.id) == 11
    progress = await campaigns.progress(s, campaign)
    assert (campaign.state, progress["cancelled"], progress["sent"]) == ("cancelled", 11, 1)
    with pytest.raises(IllegalTransition):
        await campaigns.resume(s, ctx, campaign.id)


async def test_progress_marks_a_campaign_done_when_nothing_is_left(s: AsyncSession) -> None:
    ctx = await ctx_of(s, "manager")
    campaign = await new(s)
    await campaigns.start(s, ctx, campaign.id, now=NOON)
    assert (await campaigns.progress(s, campaign, NOON)).queued == 2
    assert campaign.state == CampaignState.RUNNING
    await s.execute(
        update(OutboxItem)
        .where(OutboxItem.campaign_id == campaign.id)
        .values(state=OutboxState.SENT.value)
    )
    done = await campaigns.progress(s, campaign, NOON)
    assert (done["sent"], done.percent("sent"), campaign.state) == (2, 100.0, "done")
    assert campaign.finished_at == NOON
    empty = await new(s, AudienceSpec(languages=("en",), stages=("prospective",)))
    await campaigns.start(s, ctx, empty.id, now=NOON)
    await campaigns.progress(s, empty, NOON)
    assert (empty.planned, empty.state) == (0, "done")


async def test_the_tick_starts_due_campaigns_and_keeps_the_night_quiet(s: AsyncSession) -> None:
    ctx = await ctx_of(s, "manager")
    later = await new(s)
    await campaigns.schedule(s, ctx, later.id, NOON + timedelta(hours=2), now=NOON)
    assert await campaigns.start_due(s, NOON) == 0 and later.state == "scheduled"
    assert await campaigns.start_due(s, NOON + timedelta(hours=2)) == 2
    assert later.state == CampaignState.RUNNING
    assert await campaigns.start_due(s, NOON + timedelta(hours=2)) == 0
    # A backlog still waiting at 20:59:30 waits for the morning instead of going at night.
    await s.execute(
        update(OutboxItem)
        .where(OutboxItem.campaign_id == later.id)
        .values(next_attempt_at=local(2026, 12, 1, 20, 59))
    )
    await campaigns.start_due(s, local(2026, 12, 1, 20, 59))
    assert {r.next_attempt_at for r in await rows(s, later.id)} == {local(2026, 12, 2, 8)}


async def test_the_tick_holds_a_retry_that_came_back_after_a_pause(s: AsyncSession) -> None:
    ctx = await ctx_of(s, "manager")
    campaign = await new(s)
    await campaigns.start(s, ctx, campaign.id, now=NOON)
    row = (await rows(s, campaign.id))[0]
    row.state = OutboxState.SENDING.value  # in flight while the pause comes
    await s.flush()
    assert await campaigns.pause(s, ctx, campaign.id) == 1
    row.state = OutboxState.PENDING.value  # the worker's retry puts it back
    await s.flush()
    await campaigns.start_due(s, NOON)
    assert {r.state for r in await rows(s, campaign.id)} == {"held"}


async def test_drafts_are_validated_and_scoped(s: AsyncSession) -> None:
    a, b = await estate(s, "DEMO-A"), await estate(s, "DEMO-B")
    manager, supervisor = await ctx_of(s, "manager"), await ctx_of(s, "supervisor.a")
    bad = [
        form(name=" "),
        form(text_en=""),
        form(AudienceSpec(estate_ids=(999_999,))),
        form(AudienceSpec(stages=("retired",))),
        form(scheduled_at=NOON - timedelta(minutes=1)),
    ]
    block_b = await s.scalar(select(Building).where(Building.estate_id == b.id))
    assert block_b is not None
    bad.append(form(AudienceSpec(estate_ids=(a.id,), building_ids=(block_b.id,))))
    for attempt in bad:
        with pytest.raises(InvalidInput):
            await campaigns.create(s, manager, attempt, now=NOON)
    with pytest.raises(InvalidInput):  # the whole company is more than supervisor.a's estate
        await campaigns.create(s, supervisor, form(), now=NOON)
    with pytest.raises(InvalidInput):
        await campaigns.create(s, supervisor, form(AudienceSpec(estate_ids=(b.id,))), now=NOON)
    own = await campaigns.create(s, supervisor, form(AudienceSpec(estate_ids=(a.id,))), now=NOON)
    company_wide = await new(s)
    assert await campaigns.visible_campaign(s, supervisor, own.id) is own
    with pytest.raises(NotFound):
        await campaigns.visible_campaign(s, supervisor, company_wide.id)
    assert [r.campaign.id for r in await campaigns.list_campaigns(s, supervisor)] == [own.id]
    with pytest.raises(Forbidden):
        await campaigns.list_campaigns(s, await ctx_of(s, "agent.a"))
    with pytest.raises(Forbidden):  # supervisors send; approving is for managers and admins
        await campaigns.approve(s, supervisor, own.id)
    changed = await campaigns.update_draft(
        s, manager, own.id, form(AudienceSpec(estate_ids=(a.id,)), name="新名称"), now=NOON
    )
    assert changed.name == "新名称"
    await campaigns.start(s, manager, own.id, now=NOON)
    with pytest.raises(IllegalTransition):
        await campaigns.update_draft(s, manager, own.id, form(), now=NOON)


def test_rendering_fills_known_placeholders_only() -> None:
    values = {"name": "王芳", "estate": "阳光花园"}
    assert render("{name}，{estate}", values) == "王芳，阳光花园"
    assert render("{x} {0} {name {} }{", values) == "{x} {0} {name {} }{"
    assert render("{{name}}", values) == "{王芳}"


async def test_preview_counts_and_renders_both_languages(s: AsyncSession) -> None:
    a = await estate(s, "DEMO-A")
    campaign = await new(s, AudienceSpec(estate_ids=(a.id,)))
    shown = await campaigns.preview(s, campaign)
    assert (shown.reachable, shown.unreachable, shown.total) == (1, 119, 120)
    assert shown.texts["zh"].startswith("张伟您好，阳光花园") and shown.samples["zh"] == "张伟"
    assert shown.texts["en"].startswith("Dear Owner, Sunshine Garden") and not shown.samples["en"]
    assert shown.by_language == {"zh": 1, "en": 0}


async def test_started_at_and_planned_survive_a_second_session(s: AsyncSession) -> None:
    ctx = await ctx_of(s, "manager")
    campaign = await new(s)
    await campaigns.start(s, ctx, campaign.id, now=NOON)
    await s.commit()
    again = await s.get(Campaign, campaign.id, populate_existing=True)
    assert again is not None and again.started_at == NOON and again.planned == 2
    assert again.started_at.tzinfo is not None
    assert datetime(2026, 12, 1, 4, tzinfo=UTC) == NOON
