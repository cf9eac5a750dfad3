"""Queueing many messages at once: each key once, its history row with it, on either
database (PostgreSQL takes the array path, SQLite the multi-row one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.bulk_outbox import Outgoing, enqueue_many
from backend.messaging import Button, OutboundMessage, identity_for
from backend.models import Message, OutboxItem
from tests.factories import World

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def outgoing(session: AsyncSession, world: World, n: int) -> list[Outgoing]:
    identity = await identity_for(session, "webchat", "bulk")
    identity.owner_id = world.owner.id
    await session.flush()
    return [
        Outgoing(
            key=f"bulk:{k}",
            channel="webchat",
            chat_id="bulk",
            identity_id=identity.id,
            owner_id=world.owner.id,
            message=OutboundMessage(
                f"第 {k} 条", buttons=(Button("退订", "unsubscribe:campaign"),) if k % 2 else ()
            ),
            not_before=NOW + timedelta(minutes=k),
            language="zh",
        )
        for k in range(n)
    ]


async def test_each_key_once_with_its_history_row(session: AsyncSession, world: World) -> None:
    items = await outgoing(session, world, 25)
    assert await enqueue_many(session, items[:10]) == 10
    # A second run that believes all keys are new (as a campaign does) while ten were
    # queued meanwhile: those ten are skipped and leave no stray history rows.
    assert await enqueue_many(session, items, new_keys=True) == 15
    assert await enqueue_many(session, items) == 0
    rows = {r.idempotency_key: r for r in await session.scalars(select(OutboxItem))}
    assert len(rows) == 25
    history = await session.scalar(
        select(func.count()).select_from(Message).where(Message.direction == "out")
    )
    assert history == 25
    seventh = rows["bulk:7"]
    assert seventh.next_attempt_at == NOW + timedelta(minutes=7)
    assert seventh.payload["text"] == "第 7 条"
    assert seventh.payload["buttons"] == [{"label": "退订", "value": "unsubscribe:campaign"}]
    message = await session.get(Message, seventh.message_id)
    assert message is not None and message.text == "第 7 条"
    assert message.media == {"buttons": [{"label": "退订", "value": "unsubscribe:campaign"}]}
    assert (await session.get(Message, rows["bulk:8"].message_id)).media == {}  # type: ignore[union-attr]
