"""Who a campaign goes to and what each owner receives.

An audience is a set of filters (estates, buildings, stages, languages, household
members) over one company's owners, minus owners who opted out of the campaign's care
type; of those, the ones with a push channel are reachable. Texts are staff-written
with ``{name}`` and ``{estate}`` placeholders, filled per owner; anything else in
braces is left as written, so a stray brace never breaks a send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulk_outbox import Outgoing, Reach, enqueue_many, reach
from backend.care_time import QuietHours, care_moment
from backend.errors import InvalidInput
from backend.i18n import normalize_lang, t
from backend.messaging import Button, OutboundMessage
from backend.models import Building, Campaign, Estate, HouseholdMember, Owner, Unit
from backend.vocabulary import CareType, Language, Relation, Stage

PLACEHOLDER = re.compile(r"\{(\w+)\}")
TEMPLATE = "campaign"  # WeChat template key outside the 48-hour window


class CampaignKind(StrEnum):
    CAMPAIGN = "campaign"  # written by staff
    HOLIDAY = "holiday"  # drafted from the calendar, approved by a manager or admin


class CampaignState(StrEnum):
    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


def care_type(campaign: Campaign) -> CareType:
    """The opt-out a campaign honours (and its unsubscribe button offers)."""
    return CareType.HOLIDAY if campaign.kind == CampaignKind.HOLIDAY else CareType.CAMPAIGN


def outbox_key(campaign_id: int, owner_id: int) -> str:
    return f"campaign:{campaign_id}:owner:{owner_id}"


@dataclass(frozen=True)
class AudienceSpec:
    """The filters; an empty one means "no restriction"."""

    estate_ids: tuple[int, ...] = ()
    building_ids: tuple[int, ...] = ()
    stages: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()  # households with a member of one of these relations

    @classmethod
    def of(cls, data: Mapping[str, Any] | None) -> AudienceSpec:
        data = data or {}

        def ints(key: str) -> tuple[int, ...]:
            return tuple(sorted({int(v) for v in data.get(key) or ()}))

        def words(key: str) -> tuple[str, ...]:
            return tuple(sorted({str(v) for v in data.get(key) or ()}))

        return cls(
            ints("estate_ids"),
            ints("building_ids"),
            words("stages"),
            words("languages"),
            words("relations"),
        )

    def to_json(self) -> dict[str, list[Any]]:
        return {
            "estate_ids": list(self.estate_ids),
            "building_ids": list(self.building_ids),
            "stages": list(self.stages),
            "languages": list(self.languages),
            "relations": list(self.relations),
        }


async def validate_spec(session: AsyncSession, company_id: int, spec: AudienceSpec) -> None:
    """Every id exists in this company and every word is one the domain knows."""
    known = {
        "stages": {s.value for s in Stage},
        "languages": {x.value for x in Language},
        "relations": {r.value for r in Relation},
    }
    for name, allowed in known.items():
        unknown = set(getattr(spec, name)) - allowed
        if unknown:
            raise InvalidInput(f"unknown {name}: {', '.join(sorted(unknown))}", code="audience")
    estates = set(
        await session.scalars(
            select(Estate.id).where(Estate.company_id == company_id, Estate.id.in_(spec.estate_ids))
        )
    )
    if estates != set(spec.estate_ids):
        raise InvalidInput("an estate of this audience is not one of the company's")
    if spec.building_ids:
        rows = (
            await session.execute(
                select(Building.id, Building.estate_id)
                .join(Estate, Estate.id == Building.estate_id)
                .where(Estate.company_id == company_id, Building.id.in_(spec.building_ids))
            )
        ).all()
        if len(rows) != len(spec.building_ids):
            raise InvalidInput("a building of this audience is not one of the company's")
        if spec.estate_ids and any(e not in spec.estate_ids for _, e in rows):
            raise InvalidInput("a chosen building is not in one of the chosen estates")


@dataclass(frozen=True)
class Recipient:
    owner_id: int
    estate_id: int
    name: str
    language: str
    reach: Reach


@dataclass
class Audience:
    recipients: list[Recipient] = field(default_factory=list)
    unreachable: int = 0  # matching owners without a chat account to push to
    opted_out: int = 0

    @property
    def total(self) -> int:
        return len(self.recipients) + self.unreachable

    def sample(self, language: str) -> Recipient | None:
        return next((r for r in self.recipients if r.language == language), None)


async def select_audience(session: AsyncSession, campaign: Campaign) -> Audience:
    spec = AudienceSpec.of(campaign.audience)
    query = select(
        Owner.id, Owner.estate_id, Owner.name, Owner.language, Owner.care_opt_outs
    ).where(Owner.company_id == campaign.company_id)
    if spec.estate_ids:
        query = query.where(Owner.estate_id.in_(spec.estate_ids))
    if spec.building_ids:
        query = query.join(Unit, Unit.id == Owner.unit_id).where(
            Unit.building_id.in_(spec.building_ids)
        )
    if spec.stages:
        query = query.where(Owner.stage.in_(spec.stages))
    if spec.relations:
        query = query.where(
            exists().where(
                HouseholdMember.owner_id == Owner.id,
                HouseholdMember.relation.in_(spec.relations),
            )
        )
    opt_out = care_type(campaign).value
    audience = Audience()
    owners = []
    for owner_id, estate_id, name, language, opt_outs in await session.execute(
        query.order_by(Owner.id)
    ):
        if opt_out in (opt_outs or ()):
            audience.opted_out += 1
        else:
            owners.append((owner_id, estate_id, name, language))
    reachable = await reach(session, [o[0] for o in owners])
    for owner_id, estate_id, name, language in owners:
        found = reachable.get(owner_id)
        lang = normalize_lang(found.language if found and found.language else language)
        if spec.languages and lang not in spec.languages:
            continue
        if found is None:
            audience.unreachable += 1
        else:
            audience.recipients.append(Recipient(owner_id, estate_id, name, lang, found))
    return audience


def render(text: str, values: Mapping[str, str]) -> str:
    """Known placeholders filled, unknown ones (and stray braces) left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def estate_name(estate: Estate | None, lang: str) -> str:
    if estate is None:
        return ""
    return estate.name_en if lang == "en" and estate.name_en else estate.name


class Composer:
    """Builds each owner's message; the per-language parts are made once, not per owner."""

    def __init__(self, campaign: Campaign, estates: Mapping[int, Estate]) -> None:
        self.campaign = campaign
        self.estates = estates
        kind = care_type(campaign).value
        self.buttons = {
            lang: (Button(t(lang, "campaign.unsubscribe"), f"unsubscribe:{kind}"),)
            for lang in ("zh", "en")
        }

    def text(self, lang: str, name: str, estate_id: int) -> str:
        source = self.campaign.text_en if lang == "en" else self.campaign.text_zh
        estate = estate_name(self.estates.get(estate_id), lang)
        return render(source, {"name": name, "estate": estate})

    def message(self, recipient: Recipient) -> OutboundMessage:
        lang = recipient.language
        estate = estate_name(self.estates.get(recipient.estate_id), lang)
        return OutboundMessage(
            text=self.text(lang, recipient.name, recipient.estate_id),
            buttons=self.buttons[lang],
            template=TEMPLATE,
            template_data={"name": recipient.name, "estate": estate},
        )


async def company_estates(session: AsyncSession, company_id: int) -> dict[int, Estate]:
    rows = await session.scalars(select(Estate).where(Estate.company_id == company_id))
    return {e.id: e for e in rows}


def send_times(
    campaign: Campaign, estates: Iterable[Estate], now: datetime
) -> dict[int, datetime]:
    """Per estate, when its owners' messages may go: never inside its quiet hours.

    A holiday greeting goes at the estate's care hour on the festival day (or now, if
    that has passed); anything else as soon as it is started.
    """
    times = {}
    for estate in estates:
        if campaign.kind == CampaignKind.HOLIDAY and campaign.scheduled_at is not None:
            day = campaign.scheduled_at.astimezone(QuietHours.of(estate).zone).date()
            times[estate.id] = care_moment(estate, day, now)
        else:
            times[estate.id] = QuietHours.of(estate).next_allowed(now)
    return times


async def plan(session: AsyncSession, campaign: Campaign, now: datetime) -> int:
    """One outbox row per reachable owner; returns how many were newly queued.

    Keyed ``campaign:{id}:owner:{owner}``, so planning again (a retried job, a double
    click) queues nothing twice.
    """
    audience = await select_audience(session, campaign)
    estates = await company_estates(session, campaign.company_id)
    times = send_times(campaign, estates.values(), now)
    composer = Composer(campaign, estates)
    return await enqueue_many(
        session,
        (
            Outgoing(
                key=outbox_key(campaign.id, r.owner_id),
                channel=r.reach.channel,
                chat_id=r.reach.chat_id,
                identity_id=r.reach.identity_id,
                owner_id=r.owner_id,
                message=composer.message(r),
                not_before=times.get(r.estate_id, now),
                language=r.language,
                campaign_id=campaign.id,
            )
            for r in audience.recipients
        ),
    )


@dataclass(frozen=True)
class Preview:
    """What staff see before sending: the counts and each language's text for one owner."""

    reachable: int
    unreachable: int
    opted_out: int
    by_language: dict[str, int]
    texts: dict[str, str]  # language → text rendered for a sample owner
    samples: dict[str, str]  # language → that owner's name ("" for a made-up example)

    @property
    def total(self) -> int:
        return self.reachable + self.unreachable


async def preview(session: AsyncSession, campaign: Campaign) -> Preview:
    audience = await select_audience(session, campaign)
    estates = await company_estates(session, campaign.company_id)
    composer = Composer(campaign, estates)
    spec = AudienceSpec.of(campaign.audience)
    fallback_estate = spec.estate_ids[0] if spec.estate_ids else min(estates, default=0)
    texts, samples, counts = {}, {}, {"zh": 0, "en": 0}
    for recipient in audience.recipients:
        counts[recipient.language] += 1
    for lang in ("zh", "en"):
        sample = audience.sample(lang)
        if sample is not None:
            texts[lang] = composer.text(lang, sample.name, sample.estate_id)
            samples[lang] = sample.name
        else:
            texts[lang] = composer.text(lang, t(lang, "campaign.sample_name"), fallback_estate)
            samples[lang] = ""
    return Preview(
        len(audience.recipients), audience.unreachable, audience.opted_out, counts, texts, samples
    )
