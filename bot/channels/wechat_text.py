"""WeChat's message formats: pushed XML in, ``InboundMessage`` out, and our replies
rendered as plain text, since WeChat has no buttons in a chat.

Buttons become numbered options ("回复数字选择： 1：✅ 确认提交 …"); the options last shown
to an openid are kept in ``platform_state`` (key ``wechat:options:<openid>``) so a bare
"1" from the owner comes back as that button's value, exactly like a tap elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.i18n import t
from backend.messaging import Button, InboundMessage, Media, OutboundMessage
from backend.models import PlatformState, utcnow
from backend.vocabulary import Channel

CHANNEL = Channel.WECHAT.value
OPTIONS_TTL = timedelta(hours=48)  # no reply is possible after the 48-hour window anyway
MAX_TEXT_BYTES = 2000  # WeChat cuts text messages near 2048 bytes
_CJK = re.compile(r"[\u3400-\u9fff]")
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.。、:：)）]?\s*$")
_DECORATION = re.compile(r"^[^\w\u3400-\u9fff]+", re.UNICODE)


class BadMessage(ValueError):
    """The pushed XML is malformed or lacks what every message has."""


# --- XML in ----------------------------------------------------------------------------


def parse_xml(body: bytes) -> dict[str, str]:
    """The ``<xml>`` element's children as a flat dict; DTDs and entities are refused."""
    if not body.strip():
        raise BadMessage("empty body: expected a WeChat XML message")
    try:
        root = fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise BadMessage(
            f"XML with a DTD or entities is not accepted ({type(exc).__name__})"
        ) from None
    except (ParseError, ValueError) as exc:
        raise BadMessage(f"malformed XML: {exc}") from None
    if root.tag != "xml":
        raise BadMessage(f"malformed message: root element is <{root.tag}>, expected <xml>")
    return {child.tag: (child.text or "") for child in root}


def _require(fields: dict[str, str], *names: str) -> None:
    missing = [n for n in names if not fields.get(n, "").strip()]
    if missing:
        raise BadMessage(f"malformed message: missing {', '.join(missing)}")


def to_inbound(
    fields: dict[str, str], received_at: datetime | None = None
) -> InboundMessage | None:
    """One pushed message or event as an ``InboundMessage``; None for events we ignore."""
    _require(fields, "FromUserName", "MsgType")
    openid = fields["FromUserName"].strip()[:128]
    kind = fields["MsgType"].strip().lower()
    base: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": openid,
        "chat_id": openid,
        "received_at": received_at or utcnow(),
    }
    if kind == "event":
        return _event(fields, base)
    _require(fields, "MsgId")
    base["platform_message_id"] = fields["MsgId"].strip()[:128]
    if kind == "text":
        return InboundMessage(text=fields.get("Content", ""), **base)
    if kind == "image":
        # ref = MediaId (media/get downloads it for 3 days); PicUrl rides along in caption.
        media = Media("photo", fields.get("MediaId", ""), fields.get("PicUrl", ""))
        return InboundMessage(media=(media,), **base)
    if kind == "voice":
        recognition = fields.get("Recognition", "").strip()  # set when speech-to-text is on
        return InboundMessage(
            text=recognition, media=(Media("voice", fields.get("MediaId", "")),), **base
        )
    if kind in ("video", "shortvideo"):
        return InboundMessage(media=(Media("video", fields.get("MediaId", "")),), **base)
    if kind == "location":
        where = f"{fields.get('Location_X', '')},{fields.get('Location_Y', '')}"
        media = Media("location", where, fields.get("Label", ""))
        return InboundMessage(media=(media,), **base)
    if kind == "link":
        media = Media("link", fields.get("Url", ""), fields.get("Title", ""))
        return InboundMessage(media=(media,), **base)
    return InboundMessage(media=(Media("file", ""),), **base)  # a kind we don't know: politely


def _event(fields: dict[str, str], base: dict[str, Any]) -> InboundMessage | None:
    _require(fields, "Event", "CreateTime")
    event = fields["Event"].strip()
    name = event.lower()
    key = fields.get("EventKey", "").strip()
    # WeChat's retries repeat CreateTime; the key tells two menu taps in one second apart.
    ref = f"{base['user_id']}:{fields['CreateTime'].strip()}:{event}"
    base["platform_message_id"] = (f"{ref}:{key}" if name == "click" and key else ref)[:128]
    if name == "subscribe":
        return InboundMessage(event="subscribe", **base)
    if name == "unsubscribe":
        return InboundMessage(event="unsubscribe", **base)
    if name == "click":
        return InboundMessage(event="menu", value=key or None, **base) if key else None
    return None  # VIEW (a link opened), reported locations, delivery reports, …


# --- text out --------------------------------------------------------------------------


def is_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def render(message: OutboundMessage) -> str:
    """The message as WeChat text: buttons become numbered options, under the size limit."""
    text = message.text.strip()
    if not message.buttons:
        return _cut(text, MAX_TEXT_BYTES)
    zh = is_chinese(text) or any(is_chinese(b.label) for b in message.buttons)
    head = t("zh" if zh else "en", "wechat.reply_with_number")
    sep = "：" if zh else ": "
    options = "\n".join(f"{i}{sep}{b.label}" for i, b in enumerate(message.buttons, start=1))
    tail = f"\n\n{head}\n{options}"
    return _cut(text, MAX_TEXT_BYTES - len(tail.encode())) + tail


# A template has no buttons: the buttons that matter after it say what to reply instead.
_TEMPLATE_HINTS = {
    "unsubscribe": "wechat.unsubscribe_hint",  # answered by the unsubscribe command
    "rate": "wechat.rating_hint",  # a rating in words (bot/dialogs/rating.py)
    "enq": "wechat.enquiry_hint",  # settled / not yet in words (bot/dialogs/enquiry.py)
}


def for_template(message: OutboundMessage) -> OutboundMessage:
    """The message as a template carries it: its buttons become one line of what to
    reply ("回复“退订”…", "回复“满意”…")."""
    kinds = {b.value.split(":", 1)[0] for b in message.buttons}
    hints = [key for kind, key in _TEMPLATE_HINTS.items() if kind in kinds]
    if not hints:
        return message
    lang = "zh" if is_chinese(message.text) else "en"
    return replace(message, text="\n".join([message.text, *(t(lang, key) for key in hints)]))


def _cut(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: max(limit - 3, 0)].decode(errors="ignore") + "…"


# --- numbered options ------------------------------------------------------------------


def options_key(openid: str) -> str:
    key = f"wechat:options:{openid}"
    if len(key) <= 64:
        return key
    return "wechat:options:" + hashlib.sha256(openid.encode()).hexdigest()[:40]


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def remember_options(
    session: AsyncSession, openid: str, buttons: tuple[Button, ...], now: datetime | None = None
) -> None:
    """The options the owner sees last; a message without buttons clears them."""
    key = options_key(openid)
    if not buttons:
        await session.execute(delete(PlatformState).where(PlatformState.key == key))
        return
    now = now or utcnow()
    value = json.dumps([[b.label, b.value] for b in buttons], ensure_ascii=False)
    statement = _insert(session)(PlatformState).values(
        key=key, value=value, expires_at=now + OPTIONS_TTL, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"value": value, "expires_at": now + OPTIONS_TTL, "updated_at": now},
        )
    )


def _plain(label: str) -> str:
    return _DECORATION.sub("", unicodedata.normalize("NFKC", label)).strip().casefold()


async def chosen_option(
    session: AsyncSession, openid: str, text: str, now: datetime | None = None
) -> Button | None:
    """The offered button this reply picks: its number, or its label typed out."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if not cleaned or len(cleaned) > 40:
        return None
    row = await session.get(PlatformState, options_key(openid))
    if row is None or (row.expires_at is not None and row.expires_at < (now or utcnow())):
        return None
    try:
        options = [Button(str(label), str(value)) for label, value in json.loads(row.value)]
    except (ValueError, TypeError):
        return None
    number = _NUMBER.match(cleaned)
    if number:
        index = int(number.group(1))
        return options[index - 1] if 1 <= index <= len(options) else None
    wanted = _plain(cleaned)
    return next((b for b in options if wanted and _plain(b.label) == wanted), None)
