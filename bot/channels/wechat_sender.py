"""Delivering outbox rows to WeChat: customer-service messages inside the 48-hour window,
template messages outside it (or when WeChat says the window is closed or used up).

WeChat only lets an Official Account write freely to someone who wrote to it within the
last 48 hours (客服消息); after that only template messages (模板消息) approved in the MP
console go through. Template ids are per company: ``Company.settings["wechat_templates"]``,
keyed by ``OutboundMessage.template`` (``repair_card``, ``callback``, ``ticket_update``)
with ``default`` for anything else. A value is either the template id, whose fields are
then named after ``template_data`` plus ``text``, or ``{"id": ..., "fields": {wechat field:
our key}, "url": ...}`` for templates whose fields are called ``first``/``keyword1``/….
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from backend.db import Database
from backend.messaging import OutboundMessage
from backend.models import Company, OutboxItem, Owner, utcnow
from backend.outbox import Delivery
from backend.settings import Settings
from bot.channels.base import RateLimits, SendOutcome
from bot.channels.wechat_api import TokenError, WeChatApi
from bot.channels.wechat_text import CHANNEL, for_template, remember_options, render

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
WINDOW_MARGIN = timedelta(minutes=1)  # don't start a send the window closes on
OUT_OF_WINDOW = frozenset({45015, 45047})  # window closed / too many messages since last reply
PERMANENT = {
    43004: "the owner has unsubscribed from the Official Account",
    40003: "invalid openid",
    43019: "the owner is on the account's blacklist",
    40037: "invalid template id",
    47003: "the template data does not match the template",
    45002: "the message is too long",
}
THROTTLE = {
    -1: (2.0, "WeChat system busy"),
    45011: (60.0, "API frequency limit"),
    45009: (600.0, "daily API quota reached"),
}
MAX_FIELD = 200  # characters per template field


class NoTemplate(Exception):
    """No template id is configured for this message (and none as ``default``)."""


def outcome_of(exc: Exception) -> SendOutcome:
    """WeChat's answer (or the lack of one) as a delivery outcome."""
    if isinstance(exc, TokenError):
        return SendOutcome.retry(60, f"access token: {exc.errmsg}")
    if isinstance(exc, WeChatClientException):
        code = exc.errcode
        if code is None:  # HTTP error status (wechatpy only raises on >= 400)
            status = getattr(exc.response, "status_code", "?")
            return SendOutcome.retry(5, f"WeChat answered HTTP {status}")
        if code in THROTTLE:
            after, what = THROTTLE[code]
            return SendOutcome.rate_limited(after, f"rate limited: {what} ({code})")
        if code in PERMANENT:
            return SendOutcome.failed(f"WeChat {code}: {PERMANENT[code]} ({exc.errmsg})")
        return SendOutcome.retry(30, f"WeChat {code}: {exc.errmsg}")
    if isinstance(exc, requests.RequestException):
        return SendOutcome.retry(5, f"network: {type(exc).__name__}")
    raise exc


def template_request(
    message: OutboundMessage, templates: dict[str, Any]
) -> tuple[str, dict[str, dict[str, str]], str | None]:
    """(template id, WeChat ``data``, url) for ``message`` under a company's template config."""
    entry = templates.get(message.template or "default") or templates.get("default")
    values = {**message.template_data, "text": message.text}
    url = None
    if isinstance(entry, str) and entry:
        template_id, fields = entry, {key: key for key in values}
    elif isinstance(entry, dict) and entry.get("id"):
        template_id = str(entry["id"])
        fields = {
            str(k): str(v) for k, v in (entry.get("fields") or {key: key for key in values}).items()
        }
        url = str(entry["url"]) if entry.get("url") else None
    else:
        raise NoTemplate(message.template or "default")
    data = {
        # a source that is none of our keys is literal text, e.g. "remark": "感谢您的支持"
        name: {"value": str(values.get(source, source))[:MAX_FIELD]}
        for name, source in fields.items()
    }
    return template_id, data, url


class WeChatSender:
    """The outbox's WeChat sender; ``RateLimits`` stay well under WeChat's per-minute limits."""

    channel = CHANNEL
    limits = RateLimits(per_second=20.0, per_chat_interval=0.0)

    def __init__(self, settings: Settings, db: Database, api: WeChatApi | None = None) -> None:
        self.settings = settings
        self.db = db
        self.api = api or WeChatApi(settings, db)
        self.templates_sent = 0

    async def send(self, delivery: Delivery) -> SendOutcome:
        now = utcnow()
        why = "outside WeChat's 48-hour window"
        if _in_window(delivery.last_inbound_at, now):
            text = render(delivery.message)
            try:
                await self.api.call(lambda c: c.message.send_text(delivery.chat_id, text))
            except WeChatClientException as exc:
                if exc.errcode not in OUT_OF_WINDOW:
                    return outcome_of(exc)
                log.info(
                    "WeChat %s for outbox row %s: template instead", exc.errcode, delivery.outbox_id
                )
                why = f"WeChat refused a customer-service message ({exc.errcode})"
            except requests.RequestException as exc:
                return outcome_of(exc)
            else:
                async with self.db.session() as session:
                    await remember_options(session, delivery.chat_id, delivery.message.buttons, now)
                return SendOutcome.sent()
        return await self._send_template(delivery, why)

    async def _send_template(self, delivery: Delivery, why: str) -> SendOutcome:
        templates = await self._templates(delivery.outbox_id)
        try:
            template_id, data, url = template_request(for_template(delivery.message), templates)
        except NoTemplate as missing:
            error = (
                f"{why} and no template id for '{missing}' "
                "(set wechat_templates in the company settings)"
            )
            log.warning("outbox row %s not sent: %s", delivery.outbox_id, error)
            return SendOutcome.failed(error)
        try:
            result = await self.api.call(
                lambda c: c.message.send_template(delivery.chat_id, template_id, data, url=url)
            )
        except (WeChatClientException, requests.RequestException) as exc:
            return outcome_of(exc)
        self.templates_sent += 1
        msgid = result.get("msgid") if isinstance(result, dict) else None
        return SendOutcome.sent(str(msgid) if msgid is not None else None)

    async def _templates(self, outbox_id: int) -> dict[str, Any]:
        """The owner's company's template ids; for an unbound user, the only company's."""
        async with self.db.session() as session:
            settings = await session.scalar(
                select(Company.settings)
                .join(Owner, Owner.company_id == Company.id)
                .join(OutboxItem, OutboxItem.owner_id == Owner.id)
                .where(OutboxItem.id == outbox_id)
            )
            if settings is None:
                companies = list((await session.scalars(select(Company.settings).limit(2))).all())
                settings = companies[0] if len(companies) == 1 else {}
        templates = (settings or {}).get("wechat_templates") or {}
        return templates if isinstance(templates, dict) else {}


def _in_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < WINDOW - WINDOW_MARGIN
