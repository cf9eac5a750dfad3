"""Holiday campaigns drafted from the calendar, for a manager or admin to approve.

A company that sets ``settings["holiday_campaigns"] = True`` gets, some days before each
festival, one draft per festival and year (state ``pending_approval``) with greeting
texts in both languages and the festival's audience: Children's Day to households with
children, Army Day to those with a serviceman, Double Ninth to those with elderly
members, the others to everyone. The care sweep then leaves holiday greetings to these
campaigns, so nobody is greeted twice. A draft nobody approved before its festival day is
cancelled: a late greeting is worse than none.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.calendar import Festival, festival_date, festivals
from backend.campaign_audience import AudienceSpec, CampaignKind, CampaignState
from backend.care_time import DEFAULT_CARE_HOUR
from backend.i18n import t
from backend.models import Campaign, Company, utcnow
from backend.vocabulary import Relation

SETTING = "holiday_campaigns"
DAYS_AHEAD = 14
RELATIONS: dict[Festival, tuple[str, ...]] = {
    Festival.CHILDREN: (Relation.CHILD.value,),
    Festival.ARMY: (Relation.SERVICEMAN.value,),
    Festival.DOUBLE_NINTH: (Relation.ELDER.value, Relation.PARENT.value),
}


def uses_holiday_campaigns(company: Company) -> bool:
    """The company switched holiday greetings from the care sweep to approved campaigns."""
    return bool((company.settings or {}).get(SETTING))


def upcoming(today: date, days_ahead: int) -> list[tuple[Festival, int, date]]:
    """Festivals from ``today`` to ``today + days_ahead``, across a year end too."""
    last = today + timedelta(days=days_ahead)
    found = [
        (festival, year, day)
        for year in sorted({today.year, last.year})
        for festival, day in festivals(year).items()
        if today <= day <= last
    ]
    return sorted(found, key=lambda item: item[2])


def greeting(company: Company, festival: Festival, lang: str) -> str:
    """The care sweep's greeting for this festival: the company's wording, else ours.

    Placeholders stay in (``{name}``), to be filled per owner when the campaign is sent.
    """
    key = f"care.holiday.{festival.value}"
    custom = ((company.settings or {}).get("care_texts") or {}).get(key) or {}
    if custom.get(lang):
        return str(custom[lang])
    return t(lang, key, name="{name}", estate="{estate}")


def draft(company: Company, festival: Festival, year: int, day: date) -> Campaign:
    hour, minute = (int(x) for x in DEFAULT_CARE_HOUR.split(":"))
    return Campaign(
        company_id=company.id,
        name=f"{year} {t('zh', f'campaign.festival.{festival.value}')} · "
        f"{t('en', f'campaign.festival.{festival.value}')}",
        kind=CampaignKind.HOLIDAY.value,
        audience=AudienceSpec(relations=RELATIONS.get(festival, ())).to_json(),
        text_zh=greeting(company, festival, "zh"),
        text_en=greeting(company, festival, "en"),
        state=CampaignState.PENDING_APPROVAL.value,
        scheduled_at=datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(company.timezone)),
        festival=festival.value,
        festival_year=year,
        created_at=utcnow(),
    )


async def holiday_drafts(
    session: AsyncSession,
    today: date,
    days_ahead: int = DAYS_AHEAD,
    *,
    company_id: int | None = None,
) -> list[Campaign]:
    """Drafts for the festivals of the next ``days_ahead`` days; returns the new ones.

    Idempotent per company, festival and year: whatever became of an earlier draft
    (approved, edited, cancelled), none is made again. Run daily by the scheduler.
    """
    query = select(Company).order_by(Company.id)
    if company_id is not None:
        query = query.where(Company.id == company_id)
    created: list[Campaign] = []
    for company in await session.scalars(query):
        if not uses_holiday_campaigns(company):
            continue
        await _expire(session, company.id, today)
        existing = set(
            (
                await session.execute(
                    select(Campaign.festival, Campaign.festival_year).where(
                        Campaign.company_id == company.id, Campaign.festival.is_not(None)
                    )
                )
            ).all()
        )
        for festival, year, day in upcoming(today, days_ahead):
            if (festival.value, year) not in existing:
                campaign = draft(company, festival, year, day)
                session.add(campaign)
                created.append(campaign)
    await session.flush()
    return created


def festival_passed(campaign: Campaign, company: Company, now: datetime) -> bool:
    """A holiday draft whose festival day is over in the company's time zone: a late
    greeting is worse than none, so it can no longer be approved."""
    known = {f.value for f in Festival}
    if campaign.festival not in known or campaign.festival_year is None:
        return False
    today = now.astimezone(ZoneInfo(company.timezone)).date()
    return festival_date(Festival(campaign.festival), campaign.festival_year) < today


async def _expire(session: AsyncSession, company_id: int, today: date) -> None:
    waiting = await session.scalars(
        select(Campaign).where(
            Campaign.company_id == company_id,
            Campaign.state == CampaignState.PENDING_APPROVAL,
            Campaign.festival.is_not(None),
        )
    )
    for campaign in waiting:
        known = {f.value for f in Festival}
        if campaign.festival_year is None or campaign.festival not in known:
            continue
        if festival_date(Festival(campaign.festival), campaign.festival_year) < today:
            campaign.state = CampaignState.CANCELLED.value
            campaign.finished_at = utcnow()
