"""The daily care sweep (DOMAIN.md, "Care"): birthdays, holidays, warranty-expiry
notices and owner-stage messages. It only decides what is due and queues it; each
message has a key naming owner, kind and occasion, so a second run queues nothing.

``ownerdesk care run --date D`` and the scheduler's daily job both call ``run_care``.
"""

from __future__ import annotations

import calendar as _stdcal
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, extract, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulk_outbox import Outgoing, enqueue_many, existing_keys, reach
from backend.calendar import Festival, festivals_on
from backend.care_time import care_moment
from backend.i18n import normalize_lang, t
from backend.messaging import Button, OutboundMessage
from backend.models import Company, Estate, HouseholdMember, Owner, Unit, WarrantyItem
from backend.vocabulary import CareType, Relation, Stage

WARRANTY_NOTICE_DAYS = 30
NOT_MOVED_IN_AFTER = timedelta(days=180)
GREET_BEFORE_HANDOVER = timedelta(days=7)  # "a greeting before move-in" (DOMAIN, care)
ELDERLY_AGE = 60
CHILD_AGE = 14
QUARTER_STARTS = ((1, 1), (4, 1), (7, 1), (10, 1))


@dataclass
class CareReport:
    day: date
    enqueued: int = 0
    skipped: int = 0  # already sent, opted out, or no channel to reach the owner
    by_type: Counter[str] = field(default_factory=Counter)
    unreachable: int = 0
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "enqueued": self.enqueued,
            "skipped": self.skipped,
            "unreachable": self.unreachable,
            "by_type": dict(self.by_type),
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class Due:
    """One care message due for one owner."""

    owner_id: int
    estate_id: int
    care_type: CareType
    key: str
    text_key: str
    params: dict[str, str]
    name: str
    language: str


def _texts(company: Company, key: str, lang: str, **params: str) -> str:
    """The company's own wording when it has one, else the shipped text."""
    custom = (company.settings.get("care_texts") or {}).get(key) or {}
    if custom.get(lang):
        try:
            return str(custom[lang]).format(**params)
        except (KeyError, IndexError, ValueError):
            return str(custom[lang])
    return t(lang, key, **params)


def _message(company: Company, due: Due) -> OutboundMessage:
    lang = normalize_lang(due.language)
    text = _texts(company, due.text_key, lang, name=due.name, **due.params)
    unsubscribe = Button(t(lang, "care.unsubscribe"), f"unsubscribe:{due.care_type.value}")
    return OutboundMessage(
        text,
        (unsubscribe,),
        template="care",
        template_data={"title": t(lang, f"care.title.{due.care_type.value}"), "text": text},
    )


def _birthday_matches(day: date) -> Any:
    """Owners born on this day; 29 February birthdays are kept on 28 February in other years."""
    same = and_(
        extract("month", Owner.birthday) == day.month, extract("day", Owner.birthday) == day.day
    )
    if day.month == 2 and day.day == 28 and not _stdcal.isleap(day.year):
        return or_(
            same, and_(extract("month", Owner.birthday) == 2, extract("day", Owner.birthday) == 29)
        )
    return same


async def _owners(session: AsyncSession, condition: Any) -> list[Owner]:
    return list(await session.scalars(select(Owner).where(condition)))


def _opted_out(owner: Owner, care_type: CareType) -> bool:
    return care_type.value in (owner.care_opt_outs or [])


async def birthdays(session: AsyncSession, day: date) -> list[Due]:
    return [
        Due(
            o.id,
            o.estate_id,
            CareType.BIRTHDAY,
            f"care:birthday:owner:{o.id}:{day.year}",
            "care.birthday",
            {},
            o.name,
            o.language,
        )
        for o in await _owners(session, _birthday_matches(day))
    ]


async def _households_with(
    session: AsyncSession,
    relations: Iterable[str],
    born_after: date | None = None,
    born_before: date | None = None,
) -> set[int]:
    query = select(HouseholdMember.owner_id).where(HouseholdMember.relation.in_(list(relations)))
    if born_after is not None:
        query = query.where(
            or_(HouseholdMember.birthday.is_(None), HouseholdMember.birthday > born_after)
        )
    if born_before is not None:
        query = query.where(
            or_(HouseholdMember.birthday.is_(None), HouseholdMember.birthday < born_before)
        )
    return set(await session.scalars(query))


async def festival_households(
    session: AsyncSession, festival: Festival, day: date
) -> set[int] | None:
    """The owners a festival's greeting is for on ``day``; None: everyone. Shared by the
    care sweep and holiday campaigns, so both greet the same households: Children's Day
    those with a child under 14, Army Day those with a serviceman, Double Ninth those with
    an elder or parent of 60 or more, and owners of 60 or more (a member without a
    birthday counts)."""
    if festival is Festival.CHILDREN:
        return await _households_with(
            session, [Relation.CHILD.value], born_after=_years_before(day, CHILD_AGE)
        )
    if festival is Festival.ARMY:
        return await _households_with(session, [Relation.SERVICEMAN.value])
    if festival is Festival.DOUBLE_NINTH:
        elderly = _years_before(day, ELDERLY_AGE)
        households = await _households_with(
            session, [Relation.ELDER.value, Relation.PARENT.value], born_before=elderly
        )
        return households | set(
            await session.scalars(select(Owner.id).where(Owner.birthday < elderly))
        )
    return None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


async def holidays(session: AsyncSession, day: date, companies: dict[int, Company]) -> list[Due]:
    """Festival greetings: everyone, or the households each festival is for."""
    result: list[Due] = []
    for festival in festivals_on(day):
        audience = await festival_households(session, festival, day)
        approval = {cid for cid, c in companies.items() if c.settings.get("holiday_campaigns")}
        query = select(Owner)
        if approval:
            query = query.where(
                Owner.company_id.not_in(approval)
            )  # their campaigns, approved by an admin, do it
        for owner in await session.scalars(query):
            if audience is not None and owner.id not in audience:
                continue
            key = f"care:holiday:{festival.value}:{day.year}:owner:{owner.id}"
            result.append(
                Due(
                    owner.id,
                    owner.estate_id,
                    CareType.HOLIDAY,
                    key,
                    f"care.holiday.{festival.value}",
                    {},
                    owner.name,
                    owner.language,
                )
            )
    for company in companies.values():
        for extra in company.settings.get(
            "extra_holidays", []
        ):  # e.g. Christmas for English-speaking estates
            if extra.get("date") == day.strftime("%m-%d"):
                for owner in await session.scalars(
                    select(Owner).where(Owner.company_id == company.id)
                ):
                    key = f"care:holiday:{extra['key']}:{day.year}:owner:{owner.id}"
                    result.append(
                        Due(
                            owner.id,
                            owner.estate_id,
                            CareType.HOLIDAY,
                            key,
                            f"care.holiday.{extra['key']}",
                            {},
                            owner.name,
                            owner.language,
                        )
                    )
    return result


async def warranty_notices(
    session: AsyncSession, day: date, days_before: int = WARRANTY_NOTICE_DAYS
) -> list[Due]:
    """One friendly notice per warranty item, ``days_before`` days before it ends."""
    ends = day + timedelta(days=days_before)
    rows = await session.execute(
        select(WarrantyItem, Owner)
        .join(Unit, Unit.id == WarrantyItem.unit_id)
        .join(Owner, Owner.unit_id == Unit.id)
        .where(WarrantyItem.expires_on == ends)
    )
    result = []
    for item, owner in rows:
        params = {
            "item": t(owner.language, f"warranty.{item.item}") if item.item else item.item,
            "date": ends.isoformat(),
        }
        result.append(
            Due(
                owner.id,
                owner.estate_id,
                CareType.WARRANTY,
                f"care:warranty:item:{item.id}:owner:{owner.id}",
                "care.warranty",
                params,
                owner.name,
                owner.language,
            )
        )
    return result


async def stage_messages(session: AsyncSession, day: date) -> list[Due]:
    """Prospective owners' quarterly bulletin and a greeting a week before their home is
    handed over, new owners' welcome, owners not moved in long after handover."""
    result: list[Due] = []
    if (day.month, day.day) in QUARTER_STARTS:
        quarter = (day.month - 1) // 3 + 1
        for owner in await _owners(session, Owner.stage == Stage.PROSPECTIVE.value):
            key = f"care:bulletin:{day.year}Q{quarter}:owner:{owner.id}"
            result.append(
                Due(
                    owner.id,
                    owner.estate_id,
                    CareType.BULLETIN,
                    key,
                    "care.bulletin",
                    {},
                    owner.name,
                    owner.language,
                )
            )
    handover = day + GREET_BEFORE_HANDOVER
    soon = await session.execute(
        select(Owner, Unit.number)
        .join(Unit, Unit.id == Owner.unit_id)
        .where(Owner.moved_in_on.is_(None), Unit.handover_date == handover)
    )
    for owner, unit in soon.all():
        result.append(
            Due(
                owner.id,
                owner.estate_id,
                CareType.ACTIVITY,
                f"care:before_move_in:owner:{owner.id}",
                "care.before_move_in",
                {"unit": unit, "date": handover.isoformat()},
                owner.name,
                owner.language,
            )
        )
    for owner in await _owners(session, Owner.moved_in_on == day - timedelta(days=1)):
        result.append(
            Due(
                owner.id,
                owner.estate_id,
                CareType.ACTIVITY,
                f"care:welcome:owner:{owner.id}",
                "care.welcome",
                {},
                owner.name,
                owner.language,
            )
        )
    long_ago = day - NOT_MOVED_IN_AFTER
    rows = await session.execute(
        select(Owner)
        .join(Unit, Unit.id == Owner.unit_id)
        .where(Owner.moved_in_on.is_(None), Unit.handover_date == long_ago)
    )
    for (owner,) in rows:
        result.append(
            Due(
                owner.id,
                owner.estate_id,
                CareType.ACTIVITY,
                f"care:not_moved_in:owner:{owner.id}",
                "care.not_moved_in",
                {},
                owner.name,
                owner.language,
            )
        )
    return result


async def run_care(
    session: AsyncSession, day: date, now: datetime, *, dry_run: bool = False
) -> CareReport:
    """Queue every care message due on ``day`` (estate-local dates); safe to repeat."""
    report = CareReport(day, dry_run=dry_run)
    companies = {c.id: c for c in await session.scalars(select(Company))}
    estates = {e.id: e for e in await session.scalars(select(Estate))}
    due = [
        *await birthdays(session, day),
        *await holidays(session, day, companies),
        *await warranty_notices(session, day),
        *await stage_messages(session, day),
    ]
    owners = (
        {
            o.id: o
            for o in await session.scalars(
                select(Owner).where(Owner.id.in_({d.owner_id for d in due}))
            )
        }
        if due
        else {}
    )
    keep = []
    for item in due:
        owner = owners.get(item.owner_id)
        if owner is None or _opted_out(owner, item.care_type):
            report.skipped += 1
        else:
            keep.append(item)
    where = await reach(session, [d.owner_id for d in keep])
    outgoing: list[Outgoing] = []
    for item in keep:
        target = where.get(item.owner_id)
        if target is None:
            report.unreachable += 1
            report.skipped += 1
            continue
        estate = estates[item.estate_id]
        owner = owners[item.owner_id]
        company = companies[owner.company_id]
        # The language the owner last chose in the chat it goes to, else the household file.
        language = normalize_lang(target.language or owner.language)
        item = Due(
            item.owner_id,
            item.estate_id,
            item.care_type,
            item.key,
            item.text_key,
            item.params,
            item.name,
            language,
        )
        outgoing.append(
            Outgoing(
                key=item.key,
                channel=target.channel,
                chat_id=target.chat_id,
                identity_id=target.identity_id,
                owner_id=item.owner_id,
                message=_message(company, item),
                not_before=care_moment(estate, day, now),
                language=language,
            )
        )
    known = await existing_keys(session, [o.key for o in outgoing])
    fresh = [o for o in outgoing if o.key not in known]
    report.enqueued = len(fresh) if dry_run else await enqueue_many(session, fresh)
    report.skipped += len(outgoing) - report.enqueued
    for o in fresh:
        report.by_type[o.key.split(":")[1]] += 1
    return report
