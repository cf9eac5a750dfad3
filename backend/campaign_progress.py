"""A started campaign's outbox rows: counting them, holding, releasing and withdrawing
them, and keeping them out of quiet hours while they wait.

The delivery worker only claims ``pending`` rows, so a pause is a bulk move to ``held``
and a cancel a bulk move to ``cancelled``; a row already claimed finishes its send.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.campaign_audience import CampaignState, company_estates
from backend.care_time import QuietHours
from backend.models import Campaign, OutboxItem, Owner, utcnow
from backend.vocabulary import OutboxState

QUEUED = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.HELD)
SWEEP_WINDOW = timedelta(days=2)  # stopped campaigns whose stray rows are still tidied


@dataclass(frozen=True)
class Progress:
    """Outbox rows of a campaign by state; ``planned`` is what starting queued."""

    planned: int
    counts: dict[str, int]

    def __getitem__(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def queued(self) -> int:
        return sum(self[s] for s in QUEUED)

    def percent(self, *states: str) -> float:
        return 100.0 * sum(self[s] for s in states) / self.total if self.total else 0.0


async def counts(session: AsyncSession, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Outbox rows per campaign and state, for many campaigns in one query."""
    found: dict[int, dict[str, int]] = {}
    if ids:
        rows = await session.execute(
            select(OutboxItem.campaign_id, OutboxItem.state, func.count())
            .where(OutboxItem.campaign_id.in_(ids))
            .group_by(OutboxItem.campaign_id, OutboxItem.state)
        )
        for campaign_id, state, count in rows:
            if campaign_id is not None:
                found.setdefault(campaign_id, {})[state] = count
    return found


async def progress(
    session: AsyncSession, campaign: Campaign, now: datetime | None = None
) -> Progress:
    """Counts by outbox state; a running campaign with nothing left to send is done."""
    result = Progress(campaign.planned, (await counts(session, [campaign.id])).get(campaign.id, {}))
    if campaign.state == CampaignState.RUNNING and result.queued == 0:
        campaign.state, campaign.finished_at = CampaignState.DONE.value, now or utcnow()
    return result


async def move(
    session: AsyncSession,
    campaign_ids: Sequence[int],
    source: OutboxState | tuple[OutboxState, ...],
    target: OutboxState,
) -> int:
    """Bulk state change of the campaigns' rows; returns how many rows moved."""
    if not campaign_ids:
        return 0
    sources = [source.value] if isinstance(source, OutboxState) else [s.value for s in source]
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.campaign_id.in_(campaign_ids), OutboxItem.state.in_(sources))
        .values(state=target.value)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def defer_quiet(
    session: AsyncSession, campaigns: Iterable[Campaign], state: OutboxState, moment: datetime
) -> None:
    """Rows that would go out in an estate's quiet hours at ``moment`` wait for their end."""
    by_company: dict[int, list[int]] = {}
    for campaign in campaigns:
        by_company.setdefault(campaign.company_id, []).append(campaign.id)
    for company_id, ids in by_company.items():
        for estate in (await company_estates(session, company_id)).values():
            quiet = QuietHours.of(estate)
            if not quiet.is_quiet(moment):
                continue
            end = quiet.next_allowed(moment)
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.campaign_id.in_(ids),
                    OutboxItem.state == state.value,
                    OutboxItem.next_attempt_at < end,
                    OutboxItem.owner_id.in_(select(Owner.id).where(Owner.estate_id == estate.id)),
                )
                .values(next_attempt_at=end)
                .execution_options(synchronize_session=False)
            )


async def tidy(session: AsyncSession, now: datetime) -> None:
    """A row the worker put back to pending (a retry) after its campaign was paused or
    cancelled follows the campaign: held, or withdrawn."""
    stopped = (
        await session.execute(
            select(Campaign.id, Campaign.state).where(
                Campaign.state.in_([CampaignState.PAUSED, CampaignState.CANCELLED]),
                Campaign.finished_at.is_(None) | (Campaign.finished_at > now - SWEEP_WINDOW),
            )
        )
    ).all()
    paused = [i for i, s in stopped if s == CampaignState.PAUSED]
    await move(session, paused, OutboxState.PENDING, OutboxState.HELD)
    cancelled = [i for i, s in stopped if s == CampaignState.CANCELLED]
    await move(session, cancelled, OutboxState.PENDING, OutboxState.CANCELLED)
