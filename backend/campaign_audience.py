"""Who a campaign goes to: the filters, checking them, and the owners they select.

An audience is a set of filters (estates, buildings, stages, languages, household
members) over one company's owners, minus owners who opted out of the campaign's care
type; of those, the ones with a push channel are reachable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulk_outbox import Reach
from backend.calendar import Festival, festival_date
from backend.care import festival_households
from backend.errors import InvalidInput
from backend.i18n import normalize_lang
from backend.models import (
    Building,
    Campaign,
    ChannelIdentity,
    Estate,
    HouseholdMember,
    Owner,
    Unit,
)
from backend.vocabulary import PUSH_CHANNELS, CareType, Language, Relation, Stage


class CampaignKind(StrEnum):
    CAMPAIGN = "campaign"  # written by staff
    HOLIDAY = "holiday"  # drafted from the calendar, approved by a manager or admin


class CampaignState(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
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


def _festival(campaign: Campaign) -> tuple[Festival, date] | None:
    """A holiday campaign's festival and its day, when it was drafted from the calendar."""
    if campaign.kind != CampaignKind.HOLIDAY or campaign.festival_year is None:
        return None
    if campaign.festival not in {f.value for f in Festival}:
        return None
    festival = Festival(campaign.festival)
    return festival, festival_date(festival, campaign.festival_year)


def _matching(query: Any, campaign: Campaign) -> Any:
    """``query`` (which has ``owners`` in its FROM) narrowed to the campaign's audience.

    For a festival greeting the festival's own rule (ages included) replaces the
    relations filter: ``select_audience`` applies it.
    """
    spec = AudienceSpec.of(campaign.audience)
    if _festival(campaign) is not None:
        spec = replace(spec, relations=())
    query = query.where(Owner.company_id == campaign.company_id)
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
    return query


async def _push_channels(session: AsyncSession, campaign: Campaign) -> dict[int, Reach]:
    """Each audience owner's push channel, ranked as ``messaging.latest_identity`` ranks
    them (last written from, then last verified): one query for the whole audience.

    The channel is checked here, not in SQL: a channel condition tempts PostgreSQL, on
    tables not analysed yet (just after an import), into scanning that index once per
    owner, which takes minutes for 100,000 owners.
    """
    push = {c.value for c in PUSH_CHANNELS}
    query = _matching(
        select(
            ChannelIdentity.owner_id,
            ChannelIdentity.id,
            ChannelIdentity.channel,
            ChannelIdentity.external_id,
            ChannelIdentity.language,
        ).join(Owner, Owner.id == ChannelIdentity.owner_id),
        campaign,
    ).order_by(
        ChannelIdentity.owner_id,
        ChannelIdentity.last_inbound_at.desc().nulls_last(),
        ChannelIdentity.verified_at.desc().nulls_last(),
        ChannelIdentity.id.desc(),
    )
    found: dict[int, Reach] = {}
    for owner_id, identity_id, channel, external_id, language in await session.execute(query):
        if channel in push and owner_id not in found:  # the first ranks highest
            found[owner_id] = Reach(identity_id, channel, external_id, language)
    return found


async def select_audience(session: AsyncSession, campaign: Campaign) -> Audience:
    """The owners a campaign reaches, in owner order, and how many it cannot."""
    languages = AudienceSpec.of(campaign.audience).languages
    opt_out = care_type(campaign).value
    channels = await _push_channels(session, campaign)
    owners = _matching(
        select(Owner.id, Owner.estate_id, Owner.name, Owner.language, Owner.care_opt_outs),
        campaign,
    ).order_by(Owner.id)
    festival = _festival(campaign)
    only = await festival_households(session, *festival) if festival else None
    audience = Audience()
    for owner_id, estate_id, name, language, opt_outs in await session.execute(owners):
        if only is not None and owner_id not in only:
            continue
        reach = channels.get(owner_id)
        lang = reach.language if reach and reach.language else language
        lang = lang if lang in ("zh", "en") else normalize_lang(lang)
        if languages and lang not in languages:
            continue
        if opt_out in (opt_outs or ()):
            audience.opted_out += 1
        elif reach is None:
            audience.unreachable += 1
        else:
            audience.recipients.append(Recipient(owner_id, estate_id, name, lang, reach))
    return audience


async def company_estates(session: AsyncSession, company_id: int) -> dict[int, Estate]:
    rows = await session.scalars(select(Estate).where(Estate.company_id == company_id))
    return {e.id: e for e in rows}
