"""What each owner receives, and queueing it: the planning step of a campaign.

Texts are staff-written with ``{name}`` and ``{estate}`` placeholders, filled per owner;
anything else in braces is left as written, so a stray brace never breaks a send. Each
message carries a one-tap unsubscribe button for the campaign's care type and a WeChat
template key (``care``) for owners outside WeChat's 48-hour window.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulk_outbox import Outgoing, enqueue_many
from backend.campaign_audience import (
    AudienceSpec,
    CampaignKind,
    Recipient,
    care_type,
    company_estates,
    outbox_key,
    select_audience,
)
from backend.care_time import QuietHours, care_moment
from backend.i18n import t
from backend.messaging import Button, OutboundMessage
from backend.models import Campaign, Estate, OutboxItem

PLACEHOLDER = re.compile(r"\{(\w+)\}")
TEMPLATE = "care"  # WeChat template key outside the 48-hour window, as for the care sweep


def render(text: str, values: Mapping[str, str]) -> str:
    """Known placeholders filled, unknown ones (and stray braces) left as written."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def estate_name(estate: Estate | None, lang: str) -> str:
    if estate is None:
        return ""
    return estate.name_en if lang == "en" and estate.name_en else estate.name


class Composer:
    """Builds each owner's message; what is the same for many owners (button, title, the
    text with the estate filled in) is made once per language and estate."""

    def __init__(self, campaign: Campaign, estates: Mapping[int, Estate]) -> None:
        self.campaign = campaign
        self.estates = estates
        kind = care_type(campaign).value
        self.buttons = {
            lang: (Button(t(lang, "care.unsubscribe"), f"unsubscribe:{kind}"),)
            for lang in ("zh", "en")
        }
        self.titles = {lang: t(lang, f"care.title.{kind}") for lang in ("zh", "en")}
        self._pieces: dict[tuple[str, int], tuple[str | None, ...]] = {}

    def _split(self, lang: str, estate_id: int) -> tuple[str | None, ...]:
        """The text as literal pieces, with None where the owner's name goes."""
        key = (lang, estate_id)
        if key not in self._pieces:
            source = self.campaign.text_en if lang == "en" else self.campaign.text_zh
            values = {"estate": estate_name(self.estates.get(estate_id), lang)}
            pieces: list[str | None] = []
            end = 0
            for match in PLACEHOLDER.finditer(source):
                pieces.append(source[end : match.start()])
                name = match.group(1)
                pieces.append(None if name == "name" else values.get(name, match.group(0)))
                end = match.end()
            pieces.append(source[end:])
            self._pieces[key] = tuple(pieces)
        return self._pieces[key]

    def text(self, lang: str, name: str, estate_id: int) -> str:
        return "".join(name if p is None else p for p in self._split(lang, estate_id))

    def message(self, recipient: Recipient) -> OutboundMessage:
        lang = recipient.language
        text = self.text(lang, recipient.name, recipient.estate_id)
        return OutboundMessage(
            text=text,
            buttons=self.buttons[lang],
            template=TEMPLATE,
            template_data={"title": self.titles[lang]},  # WeChat adds "text" itself
        )


def send_times(campaign: Campaign, estates: Iterable[Estate], now: datetime) -> dict[int, datetime]:
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Planning makes a few hundred thousand short-lived dicts; the cyclic garbage
    collector would rescan them all again and again (a fifth of the time). Nothing
    here makes cycles, so it waits until the rows are written."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


async def plan(session: AsyncSession, campaign: Campaign, now: datetime) -> int:
    """One outbox row per reachable owner; returns how many were newly queued.

    Keyed ``campaign:{id}:owner:{owner}``, so planning again (a retried job, a double
    click) queues nothing twice.
    """
    with _collector_paused():
        audience = await select_audience(session, campaign)
        queued = set(
            await session.scalars(
                select(OutboxItem.owner_id).where(OutboxItem.campaign_id == campaign.id)
            )
        )  # a second start looks at its own rows once, not at every key
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
                if r.owner_id not in queued
            ),
            new_keys=True,  # keys are per campaign and owner: those above are all there is
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
