"""Care campaigns: one message, in both languages, to an audience of owners.

Life cycle: draft → scheduled → running → done, with paused (its queued messages held)
and cancelled on the way; a holiday draft made from the calendar starts as
pending_approval and is scheduled by a manager's or admin's approval. Starting writes
one outbox row per reachable owner (``backend.campaign_plan.plan``) in the same
transaction as the state change, so a campaign is either not started or fully queued;
the outbox worker delivers. Every row has an idempotency key, so any step may run again.

Who: ``campaign.send`` (supervisors for their own estates, managers and admins for the
company) creates, sends, pauses and cancels; ``campaign.approve`` (managers, admins)
approves holiday drafts. Another estate's campaign is "not found", as tickets are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Permission, StaffContext
from backend.campaign_audience import (
    AudienceSpec,
    CampaignKind,
    CampaignState,
    company_estates,
    select_audience,
    validate_spec,
)
from backend.campaign_holidays import festival_passed, holiday_drafts, uses_holiday_campaigns
from backend.campaign_plan import Preview, plan, preview
from backend.campaign_progress import Progress, counts, defer_quiet, move, progress, tidy
from backend.errors import IllegalTransition, InvalidInput, NotFound
from backend.models import Campaign, Company, OutboxItem, utcnow
from backend.vocabulary import OutboxState

__all__ = [
    "CampaignForm",
    "CampaignKind",
    "CampaignState",
    "Preview",
    "Progress",
    "approve",
    "cancel",
    "create",
    "holiday_drafts",
    "list_campaigns",
    "pause",
    "plan",
    "preview",
    "progress",
    "resume",
    "schedule",
    "select_audience",
    "start",
    "start_due",
    "update_draft",
    "uses_holiday_campaigns",
    "visible_campaign",
]

MAX_NAME = 200
MAX_TEXT = 2000
TICK = timedelta(minutes=1)  # how often the scheduler calls start_due
EDITABLE = frozenset({CampaignState.DRAFT, CampaignState.PENDING_APPROVAL, CampaignState.SCHEDULED})
STARTABLE = frozenset({CampaignState.DRAFT, CampaignState.SCHEDULED})
OPEN = EDITABLE | {CampaignState.RUNNING, CampaignState.PAUSED}


@dataclass(frozen=True)
class CampaignForm:
    name: str
    text_zh: str
    text_en: str
    audience: AudienceSpec
    scheduled_at: datetime | None = None  # when to send, if it is to be scheduled


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    progress: Progress


# --- scope -----------------------------------------------------------------------------


async def _estates_of(session: AsyncSession, company_id: int, spec: AudienceSpec) -> set[int]:
    """The estates a campaign may reach: those chosen, else every estate of the company."""
    if spec.estate_ids:
        return set(spec.estate_ids)
    return set(await company_estates(session, company_id))


async def visible_campaign(session: AsyncSession, ctx: StaffContext, campaign_id: int) -> Campaign:
    ctx.require(Permission.SEND_CAMPAIGNS)
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.company_id != ctx.staff.company_id:
        raise NotFound(f"no campaign with id {campaign_id}")
    spec = AudienceSpec.of(campaign.audience)
    if not await _estates_of(session, campaign.company_id, spec) <= ctx.estate_ids:
        raise NotFound(f"no campaign with id {campaign_id}")
    return campaign


async def list_campaigns(
    session: AsyncSession, ctx: StaffContext, limit: int = 200
) -> list[CampaignRow]:
    ctx.require(Permission.SEND_CAMPAIGNS)
    everything = set(await company_estates(session, ctx.staff.company_id))
    campaigns = [
        c
        for c in await session.scalars(
            select(Campaign)
            .where(Campaign.company_id == ctx.staff.company_id)
            .order_by(Campaign.id.desc())
            .limit(limit)
        )
        if (set(AudienceSpec.of(c.audience).estate_ids) or everything) <= ctx.estate_ids
    ]
    found = await counts(session, [c.id for c in campaigns])
    return [CampaignRow(c, Progress(c.planned, found.get(c.id, {}))) for c in campaigns]


# --- drafts ----------------------------------------------------------------------------


async def _checked(
    session: AsyncSession, ctx: StaffContext, form: CampaignForm, now: datetime
) -> CampaignForm:
    ctx.require(Permission.SEND_CAMPAIGNS)
    name, text_zh, text_en = form.name.strip(), form.text_zh.strip(), form.text_en.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"a campaign needs a name of at most {MAX_NAME} characters")
    if not text_zh or not text_en:
        raise InvalidInput("write the message in both languages (Chinese and English)")
    if len(text_zh) > MAX_TEXT or len(text_en) > MAX_TEXT:
        raise InvalidInput(f"a message has at most {MAX_TEXT} characters")
    await validate_spec(session, ctx.staff.company_id, form.audience)
    if not await _estates_of(session, ctx.staff.company_id, form.audience) <= ctx.estate_ids:
        raise InvalidInput("choose only estates you look after (at least one)", code="scope")
    if form.scheduled_at is not None and form.scheduled_at <= now:
        raise InvalidInput("the time to send must be in the future", code="past")
    return CampaignForm(name, text_zh, text_en, form.audience, form.scheduled_at)


async def create(
    session: AsyncSession, ctx: StaffContext, form: CampaignForm, now: datetime | None = None
) -> Campaign:
    now = now or utcnow()
    form = await _checked(session, ctx, form, now)
    campaign = Campaign(
        company_id=ctx.staff.company_id,
        name=form.name,
        kind=CampaignKind.CAMPAIGN.value,
        audience=form.audience.to_json(),
        text_zh=form.text_zh,
        text_en=form.text_en,
        state=CampaignState.DRAFT.value,
        scheduled_at=form.scheduled_at,
        created_by_id=ctx.staff.id,
        created_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def update_draft(
    session: AsyncSession,
    ctx: StaffContext,
    campaign_id: int,
    form: CampaignForm,
    now: datetime | None = None,
) -> Campaign:
    """Change a campaign not started yet. A scheduled one stays scheduled (at the new
    time) unless the time is cleared; an edited holiday campaign needs approval again."""
    now = now or utcnow()
    campaign = await visible_campaign(session, ctx, campaign_id)
    if campaign.state not in EDITABLE:
        raise IllegalTransition("only a campaign that has not started can be edited")
    holiday = campaign.kind == CampaignKind.HOLIDAY
    # A holiday greeting keeps its festival day (which need not be "in the future" yet).
    checked = await _checked(
        session, ctx, replace(form, scheduled_at=None) if holiday else form, now
    )
    campaign.name, campaign.text_zh, campaign.text_en = (
        checked.name,
        checked.text_zh,
        checked.text_en,
    )
    campaign.audience = checked.audience.to_json()
    if holiday:
        campaign.state, campaign.approved_by_id = CampaignState.PENDING_APPROVAL.value, None
        return campaign
    campaign.scheduled_at = checked.scheduled_at
    if campaign.state == CampaignState.SCHEDULED and checked.scheduled_at is None:
        campaign.state = CampaignState.DRAFT.value
    return campaign


# --- sending ---------------------------------------------------------------------------


async def _start(session: AsyncSession, campaign: Campaign, now: datetime) -> int:
    """Queue the campaign (state and rows in one transaction); 0 if it was running."""
    won = await session.scalar(
        update(Campaign)
        .where(Campaign.id == campaign.id, Campaign.state.in_(list(STARTABLE)))
        .values(state=CampaignState.RUNNING.value, started_at=now)
        .returning(Campaign.id)
    )
    if won is None:
        await session.refresh(campaign)
        if campaign.state == CampaignState.RUNNING:
            return 0
        raise IllegalTransition(f"a {campaign.state} campaign cannot be started")
    await session.refresh(campaign)
    queued = await plan(session, campaign, now)
    campaign.planned = (
        await session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(OutboxItem.campaign_id == campaign.id)
        )
        or 0
    )
    return queued


async def start(
    session: AsyncSession, ctx: StaffContext, campaign_id: int, now: datetime | None = None
) -> int:
    """Send now (out of each estate's quiet hours); returns the messages newly queued."""
    campaign = await visible_campaign(session, ctx, campaign_id)
    return await _start(session, campaign, now or utcnow())


async def schedule(
    session: AsyncSession,
    ctx: StaffContext,
    campaign_id: int,
    at: datetime,
    now: datetime | None = None,
) -> Campaign:
    campaign = await visible_campaign(session, ctx, campaign_id)
    if campaign.kind == CampaignKind.HOLIDAY:
        raise IllegalTransition("a holiday campaign is scheduled by approving it")
    if campaign.state not in STARTABLE:
        raise IllegalTransition(f"a {campaign.state} campaign cannot be scheduled")
    if at <= (now or utcnow()):
        raise InvalidInput("the time to send must be in the future", code="past")
    campaign.scheduled_at, campaign.state = at, CampaignState.SCHEDULED.value
    return campaign


async def approve(
    session: AsyncSession, ctx: StaffContext, campaign_id: int, now: datetime | None = None
) -> Campaign:
    """A holiday draft goes out on its festival day (or at the next tick, if that is today)."""
    ctx.require(Permission.APPROVE_CAMPAIGNS)
    campaign = await visible_campaign(session, ctx, campaign_id)
    if campaign.state != CampaignState.PENDING_APPROVAL:
        raise IllegalTransition("only a campaign awaiting approval can be approved")
    company = await session.get(Company, campaign.company_id)
    if company is not None and festival_passed(campaign, company, now or utcnow()):
        raise IllegalTransition("the festival is over: cancel this greeting instead")
    campaign.state, campaign.approved_by_id = CampaignState.SCHEDULED.value, ctx.staff.id
    campaign.scheduled_at = campaign.scheduled_at or now or utcnow()
    return campaign


async def pause(
    session: AsyncSession, ctx: StaffContext, campaign_id: int, now: datetime | None = None
) -> int:
    """Hold what is not sent yet; returns how many messages were held."""
    campaign = await visible_campaign(session, ctx, campaign_id)
    if campaign.state != CampaignState.RUNNING:
        raise IllegalTransition("only a running campaign can be paused")
    campaign.state = CampaignState.PAUSED.value
    return await move(session, [campaign.id], OutboxState.PENDING, OutboxState.HELD)


async def resume(
    session: AsyncSession, ctx: StaffContext, campaign_id: int, now: datetime | None = None
) -> int:
    """Release the held messages, none of them into an estate's quiet hours."""
    now = now or utcnow()
    campaign = await visible_campaign(session, ctx, campaign_id)
    if campaign.state != CampaignState.PAUSED:
        raise IllegalTransition("only a paused campaign can be resumed")
    campaign.state = CampaignState.RUNNING.value
    await defer_quiet(session, [campaign], OutboxState.HELD, now)
    return await move(session, [campaign.id], OutboxState.HELD, OutboxState.PENDING)


async def cancel(
    session: AsyncSession, ctx: StaffContext, campaign_id: int, now: datetime | None = None
) -> int:
    """Stop for good; returns how many queued messages were withdrawn."""
    campaign = await visible_campaign(session, ctx, campaign_id)
    if campaign.state not in OPEN:
        raise IllegalTransition(f"a {campaign.state} campaign cannot be cancelled")
    campaign.state, campaign.finished_at = CampaignState.CANCELLED.value, now or utcnow()
    return await move(
        session, [campaign.id], (OutboxState.PENDING, OutboxState.HELD), OutboxState.CANCELLED
    )


async def start_due(session: AsyncSession, now: datetime) -> int:
    """The scheduler's minute tick; returns the messages newly queued.

    Starts scheduled campaigns whose time has come; keeps running campaigns' rows out of
    quiet hours that begin within the next tick (a long send, or a retry, must not run
    into the night); gives rows a retry put back to pending to the pause or cancel that
    came meanwhile; marks finished campaigns done. Safe to run late or twice.
    """
    queued = 0
    due = await session.scalars(
        select(Campaign)
        .where(Campaign.state == CampaignState.SCHEDULED, Campaign.scheduled_at <= now)
        .order_by(Campaign.id)
    )
    for campaign in list(due):
        queued += await _start(session, campaign, now)
    running = list(
        await session.scalars(select(Campaign).where(Campaign.state == CampaignState.RUNNING))
    )
    await defer_quiet(session, running, OutboxState.PENDING, now + TICK)
    await tidy(session, now)
    for campaign in running:
        await progress(session, campaign, now)
    return queued
