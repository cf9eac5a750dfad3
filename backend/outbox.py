"""Claiming and settling outbox rows for the delivery workers.

Rows are claimed with a lease (``state = sending``, ``claimed_until``), so a worker that
dies mid-send leaves rows that another worker reclaims when the lease runs out. On
PostgreSQL several workers claim side by side with ``FOR UPDATE SKIP LOCKED``. A row is
only claimable when no earlier row of the same chat is still unsent: messages reach
each chat in the order they were written, retries and all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.messaging import OUTBOX, OutboundMessage
from backend.models import ChannelIdentity, OutboxItem
from backend.models.messaging import UNSENT_STATES
from backend.vocabulary import OutboxState

LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row, with what a sender needs to send it."""

    outbox_id: int
    key: str
    channel: str
    chat_id: str
    message: OutboundMessage
    attempts: int
    last_inbound_at: datetime | None  # for WeChat's 48-hour customer-service window
    payload: dict[str, Any]


@cache
def _claim_statement(postgres: bool) -> Any:
    """Built once: assembling it (aliases, the correlated EXISTS) cost more than running
    it, and the worker claims after every message a channel stores."""
    row, earlier = OUTBOX.alias("row"), OUTBOX.alias("earlier")
    unsent: list[Any] = [literal_column(repr(state)) for state in UNSENT_STATES]
    now: Any = bindparam("now")
    due = or_(
        and_(row.c.state == OutboxState.PENDING.value, row.c.next_attempt_at <= now),
        and_(row.c.state == OutboxState.SENDING.value, row.c.claimed_until < now),
    )
    blocked = exists().where(
        earlier.c.channel == row.c.channel,
        earlier.c.chat_id == row.c.chat_id,
        earlier.c.id < row.c.id,
        earlier.c.state.in_(unsent),
    )
    claimable = (
        select(row.c.id)
        .where(
            row.c.channel.in_(bindparam("channels", expanding=True)),
            row.c.state.in_(unsent),  # the partial index ix_outbox_unsent
            due,
            ~blocked,
        )
        .order_by(row.c.priority.desc(), row.c.id)
        .limit(bindparam("limit"))
    )
    if postgres:
        claimable = claimable.with_for_update(skip_locked=True, of=row)
    return (
        update(OUTBOX)
        .where(OUTBOX.c.id.in_(claimable.scalar_subquery()))
        .values(
            state=OutboxState.SENDING.value,
            claimed_until=bindparam("until"),
            attempts=OUTBOX.c.attempts + 1,
        )
        .returning(OUTBOX.c.id)
    )


async def claim(
    session: AsyncSession, now: datetime, *, channels: list[str], limit: int = 50
) -> list[Delivery]:
    """Claim up to ``limit`` due rows of ``channels``; commit promptly after.

    One UPDATE … WHERE id IN (SELECT …) RETURNING: atomic on SQLite (the statement holds
    the write lock) and on PostgreSQL (SKIP LOCKED lets other workers take other rows).
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    claimed = await session.scalars(
        _claim_statement(postgres),
        {"now": now, "channels": channels, "limit": limit, "until": now + LEASE},
    )
    ids = list(claimed.all())
    if not ids:
        return []
    rows = (
        await session.execute(
            select(OutboxItem, ChannelIdentity.last_inbound_at)
            .outerjoin(ChannelIdentity, ChannelIdentity.id == OutboxItem.identity_id)
            .where(OutboxItem.id.in_(ids))
            .order_by(OutboxItem.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    return [
        Delivery(
            outbox_id=row.id,
            key=row.idempotency_key,
            channel=row.channel,
            chat_id=row.chat_id,
            message=OutboundMessage.from_payload(row.payload),
            attempts=row.attempts,
            last_inbound_at=last_inbound,
            payload=row.payload,
        )
        for row, last_inbound in rows
    ]


async def mark_sent(session: AsyncSession, outbox_id: int, now: datetime) -> None:
    await mark_sent_many(session, [outbox_id], now)


async def mark_sent_many(session: AsyncSession, outbox_ids: list[int], now: datetime) -> None:
    """Also settles at once the rows of a channel that delivers by being written (web chat)."""
    if outbox_ids:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(outbox_ids))
            .values(state=OutboxState.SENT, sent_at=now, claimed_until=None, last_error="")
        )


async def mark_retry(session: AsyncSession, outbox_id: int, at: datetime, error: str) -> None:
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == outbox_id)
        .values(
            state=OutboxState.PENDING,
            next_attempt_at=at,
            claimed_until=None,
            last_error=error[:2000],
        )
    )


async def release(session: AsyncSession, outbox_ids: list[int]) -> None:
    """Give back rows claimed but not tried (an earlier row of their chat must go first)."""
    if outbox_ids:
        await session.execute(
            update(OutboxItem)
            .where(OutboxItem.id.in_(outbox_ids), OutboxItem.state == OutboxState.SENDING)
            .values(state=OutboxState.PENDING, claimed_until=None, attempts=OutboxItem.attempts - 1)
        )


async def mark_failed(session: AsyncSession, outbox_id: int, error: str) -> None:
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == outbox_id)
        .values(state=OutboxState.FAILED, claimed_until=None, last_error=error[:2000])
    )


async def take_for_passive_reply(session: AsyncSession, outbox_id: int, now: datetime) -> bool:
    """WeChat can carry one reply in the HTTP answer: mark that row sent, if still pending."""
    result = await session.execute(
        update(OutboxItem)
        .where(OutboxItem.id == outbox_id, OutboxItem.state == OutboxState.PENDING)
        .values(state=OutboxState.SENT, sent_at=now, last_error="passive reply")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
