"""Messages in and out: the value types every channel speaks, storing an owner's message
before it is acknowledged, and the outbox every outgoing message passes through.

A channel adapter turns a platform update into one ``InboundMessage``; dialogs and
staff produce ``OutboundMessage`` values; each channel's sender renders those for its
platform. Nothing here knows a platform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import ChannelIdentity, Message, OutboxItem, utcnow
from backend.vocabulary import PUSH_CHANNELS, Direction, OutboxState

MAX_TEXT = 4000  # longer owner messages are stored cut, with a note; no platform sends more
# Core tables: statements on them take their values as bound parameters, so they are
# compiled once and cached, where ``.values(...)`` on the ORM entity rebuilt a cache key
# from the values of every message (a tenth of the server's time per web-chat message).
MESSAGES = cast(Table, Message.__table__)
OUTBOX = cast(Table, OutboxItem.__table__)
# Built once: writing ``Column == value`` builds a new expression each time, which cost
# more CPU than running the statement it ends up in.
IDENTITY_BY_ACCOUNT = select(ChannelIdentity).where(
    ChannelIdentity.channel == bindparam("channel"),
    ChannelIdentity.external_id == bindparam("external_id"),
)


@dataclass(frozen=True)
class Button:
    label: str
    value: str


@dataclass(frozen=True)
class Media:
    kind: str  # photo | voice | sticker | location | file | video
    ref: str = ""  # platform file id / media id / URL
    caption: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """One thing an owner did on a channel, whatever the platform."""

    channel: str
    user_id: str  # the platform's id of the person (Telegram user id, openid, session)
    chat_id: str  # where replies go (often the same as user_id)
    platform_message_id: str
    text: str = ""
    value: str | None = None  # a pressed button's value
    media: tuple[Media, ...] = ()
    event: str | None = None  # subscribe | unsubscribe | menu | start
    display_name: str = ""
    language_hint: str | None = None  # the platform's idea of the user's language
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class OutboundMessage:
    """What the bot or staff say; a sender renders it for its platform."""

    text: str
    buttons: tuple[Button, ...] = ()
    template: str | None = None  # key of a templated notice, for channels that need one
    template_data: dict[str, str] = field(default_factory=dict)
    photo: str | None = None

    def to_payload(self) -> dict[str, Any]:
        # By hand: asdict() deep-copies recursively, ten times slower, which a campaign
        # to 100,000 owners notices. Every field is kept (``_OUTBOUND_FIELDS``).
        payload = {name: getattr(self, name) for name in _OUTBOUND_FIELDS}
        payload["buttons"] = [{"label": b.label, "value": b.value} for b in self.buttons]
        payload["template_data"] = dict(self.template_data)
        return payload

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> OutboundMessage:
        return cls(
            text=str(data.get("text", "")),
            buttons=tuple(Button(b["label"], b["value"]) for b in data.get("buttons", ())),
            template=data.get("template"),
            template_data=dict(data.get("template_data") or {}),
            photo=data.get("photo"),
        )


_OUTBOUND_FIELDS = tuple(f.name for f in fields(OutboundMessage))


# --- identities ------------------------------------------------------------------------


async def identity_for(
    session: AsyncSession, channel: str, external_id: str, *, display_name: str = ""
) -> ChannelIdentity:
    """The chat account, created unverified on first contact."""
    identity = await session.scalar(
        IDENTITY_BY_ACCOUNT, {"channel": channel, "external_id": external_id}
    )
    if identity is None:
        identity = ChannelIdentity(
            channel=channel, external_id=external_id, display_name=display_name[:200]
        )
        session.add(identity)
        try:
            async with session.begin_nested():
                await session.flush()
        except Exception:  # created by a concurrent request: use theirs
            identity = await session.scalar(
                select(ChannelIdentity).where(
                    ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
                )
            )
            assert identity is not None
    return identity


async def latest_identity(session: AsyncSession, owner_id: int) -> ChannelIdentity | None:
    """Where to reach an owner: the channel they last wrote from (or were bound on)."""
    return await session.scalar(
        select(ChannelIdentity)
        .where(
            ChannelIdentity.owner_id == owner_id,
            ChannelIdentity.channel.in_([c.value for c in PUSH_CHANNELS]),
        )
        .order_by(
            ChannelIdentity.last_inbound_at.desc().nulls_last(),
            ChannelIdentity.verified_at.desc().nulls_last(),
            ChannelIdentity.id.desc(),
        )
        .limit(1)
    )


# --- inbound ---------------------------------------------------------------------------


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@dataclass(frozen=True)
class _Inserts:
    """The inserts of every message, built once per dialect (see IDENTITY_BY_ACCOUNT)."""

    inbound: Any
    outgoing: Any
    outbox: Any


@cache
def _inserts(dialect: str) -> _Inserts:
    insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    return _Inserts(
        inbound=insert(MESSAGES)
        .on_conflict_do_nothing(index_elements=["channel", "platform_message_id"])
        .returning(MESSAGES.c.id),
        outgoing=insert(MESSAGES).returning(MESSAGES.c.id),
        outbox=insert(OUTBOX)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OUTBOX.c.id),
    )


def stored_text(text: str) -> str:
    """An owner's text as stored: cut at ``MAX_TEXT`` (the cut is noted in ``media``)."""
    return text[:MAX_TEXT]


async def record_inbound(
    session: AsyncSession, identity: ChannelIdentity, inbound: InboundMessage
) -> int | None:
    """Store the owner's message; None when this platform message was stored before
    (platforms retry deliveries: WeChat three times within 15 s)."""
    text = stored_text(inbound.text)
    media: dict[str, Any] = {}
    if len(inbound.text) > MAX_TEXT:
        media["truncated_from"] = len(inbound.text)
    if inbound.media:
        media["items"] = [asdict(m) for m in inbound.media]
    if inbound.value is not None:
        media["value"] = inbound.value
    if inbound.event:
        media["event"] = inbound.event
    statement = _inserts(_dialect(session)).inbound
    row = {
        "channel": inbound.channel,
        "platform_message_id": inbound.platform_message_id,
        "direction": Direction.IN.value,
        "identity_id": identity.id,
        "owner_id": identity.owner_id,
        "text": text,
        "media": media,
        "created_at": inbound.received_at,
    }
    message_id = (await session.execute(statement, row)).scalar_one_or_none()
    if message_id is None:
        return None
    identity.last_inbound_at = max(
        identity.last_inbound_at or inbound.received_at, inbound.received_at
    )
    return int(message_id)


async def mark_processed(
    session: AsyncSession, message_id: int, at: datetime | None = None
) -> None:
    await session.execute(
        update(Message).where(Message.id == message_id).values(processed_at=at or utcnow())
    )


async def unprocessed(
    session: AsyncSession, older_than: datetime, limit: int = 100
) -> list[Message]:
    """Owner messages stored but never answered (the process died in between)."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.direction == Direction.IN.value,
            Message.processed_at.is_(None),
            Message.created_at < older_than,
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return list(rows)


# --- outbox ----------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    identity: ChannelIdentity,
    message: OutboundMessage,
    ticket_id: int | None = None,
    staff_id: int | None = None,
    campaign_id: int | None = None,
    priority: int = 0,
    not_before: datetime | None = None,
    language: str | None = None,
    delivered: bool = False,
) -> int | None:
    """Queue ``message`` for ``identity`` under an idempotency key.

    Also writes the outgoing row of the conversation (so the console and the web chat
    show it at once) and returns its id; None when the key was queued before.
    ``delivered``: the channel shows what is written (the web chat), so the outbox row
    is stored as sent and the delivery worker never has to look at it.
    """
    now = utcnow()
    inserts = _inserts(_dialect(session))
    message_id = (
        await session.execute(
            inserts.outgoing,
            {
                "channel": identity.channel,
                "direction": Direction.OUT.value,
                "identity_id": identity.id,
                "owner_id": identity.owner_id,
                "ticket_id": ticket_id,
                "staff_id": staff_id,
                "text": message.text,
                "media": (
                    {"buttons": [asdict(b) for b in message.buttons]} if message.buttons else {}
                ),
                "language": language,
                "created_at": now,
            },
        )
    ).scalar_one()
    outbox_id = (
        await session.execute(
            inserts.outbox,
            {
                "idempotency_key": key,
                "channel": identity.channel,
                "chat_id": identity.external_id,
                "identity_id": identity.id,
                "owner_id": identity.owner_id,
                "ticket_id": ticket_id,
                "campaign_id": campaign_id,
                "message_id": message_id,
                "payload": message.to_payload(),
                "state": (OutboxState.SENT if delivered else OutboxState.PENDING).value,
                "priority": priority,
                "attempts": 1 if delivered else 0,
                "next_attempt_at": not_before or now,
                "created_at": now,
                "sent_at": now if delivered else None,
            },
        )
    ).scalar_one_or_none()
    if outbox_id is None:  # queued before (a job run twice): keep the conversation clean
        await session.execute(delete(Message).where(Message.id == message_id))
        return None
    return int(message_id)
