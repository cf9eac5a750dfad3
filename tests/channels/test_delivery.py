"""The outbox worker: order per chat, retries, throttling, permanent failures, leases."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from backend import outbox
from backend.db import Database
from backend.messaging import OutboundMessage, enqueue, identity_for
from backend.models import OutboxItem, utcnow
from backend.outbox import Delivery
from bot.channels.base import RateLimits, SendOutcome
from bot.channels.delivery import MAX_ATTEMPTS, DeliveryWorker
from tests.fakes.chat import Clock


class ScriptedSender:
    """Answers from a per-chat script of outcomes, then ``sent``; records what went out."""

    channel = "fake"
    limits = RateLimits(per_second=1000.0)

    def __init__(self) -> None:
        self.script: defaultdict[str, list[SendOutcome]] = defaultdict(list)
        self.delivered: list[tuple[str, str]] = []
        self.calls = 0

    async def send(self, delivery: Delivery) -> SendOutcome:
        self.calls += 1
        if self.script[delivery.chat_id]:
            return self.script[delivery.chat_id].pop(0)
        self.delivered.append((delivery.chat_id, delivery.message.text))
        return SendOutcome.sent()


async def queue(db: Database, chat: str, *texts: str) -> None:
    async with db.session() as s:
        identity = await identity_for(s, "fake", chat)
        for text in texts:
            await enqueue(s, key=f"{chat}:{text}", identity=identity, message=OutboundMessage(text))


async def states(db: Database) -> dict[str, str]:
    async with db.session() as s:
        return {row.payload["text"]: row.state for row in await s.scalars(select(OutboxItem))}


async def drain(worker: DeliveryWorker, clock: Clock, rounds: int = 30, step: float = 5.0) -> None:
    for _ in range(rounds):
        await worker.run_once()
        clock.advance(seconds=step)


async def test_every_message_once_and_in_order_per_chat_despite_errors(db: Database) -> None:
    sender = ScriptedSender()
    sender.script["a"] = [
        SendOutcome.retry(1, "HTTP 502"),
        SendOutcome.rate_limited(3),
        SendOutcome.retry(1, "timeout"),
    ]
    clock = Clock(utcnow() + timedelta(seconds=1))
    worker = DeliveryWorker(db, {"fake": sender}, clock=clock)
    await queue(db, "a", "a1", "a2", "a3")
    await queue(db, "b", "b1", "b2")
    await drain(worker, clock)
    assert [t for c, t in sender.delivered if c == "a"] == ["a1", "a2", "a3"]
    assert [t for c, t in sender.delivered if c == "b"] == ["b1", "b2"]
    assert len(sender.delivered) == 5
    assert set((await states(db)).values()) == {"sent"}


async def test_rows_delivered_by_being_written_are_settled_in_bulk_without_a_send(
    db: Database,
) -> None:
    written, sent = ScriptedSender(), ScriptedSender()
    written.delivered_on_write = True  # type: ignore[attr-defined]  # as the web chat's sender
    clock = Clock(utcnow() + timedelta(seconds=1))
    worker = DeliveryWorker(db, {"fake": written, "other": sent}, clock=clock)
    await queue(db, "a", "a1", "a2")
    await queue(db, "b", "b1")
    async with db.session() as s:
        identity = await identity_for(s, "other", "c")
        await enqueue(s, key="c:c1", identity=identity, message=OutboundMessage("c1"))
    assert await worker.run_once() == 3  # a2 waits until a1 is settled: order per chat
    assert await worker.run_once() == 1
    assert written.calls == 0 and sent.delivered == [("c", "c1")]
    assert await states(db) == {"a1": "sent", "a2": "sent", "b1": "sent", "c1": "sent"}
    assert worker.sent == 4
    assert await worker.run_once() == 0  # nothing is sent twice


async def test_a_permanent_failure_does_not_block_other_chats(db: Database) -> None:
    sender = ScriptedSender()
    sender.script["blocked"] = [SendOutcome.failed("Forbidden: bot was blocked by the user")]
    clock = Clock(utcnow() + timedelta(seconds=1))
    worker = DeliveryWorker(db, {"fake": sender}, clock=clock)
    await queue(db, "blocked", "x1")
    await queue(db, "ok", "y1")
    await drain(worker, clock, rounds=3)
    found = await states(db)
    assert found == {"x1": "failed", "y1": "sent"}
    async with db.session() as s:
        row = await s.scalar(select(OutboxItem).where(OutboxItem.chat_id == "blocked"))
        assert row is not None and "blocked" in row.last_error


async def test_retries_back_off_and_give_up(db: Database) -> None:
    sender = ScriptedSender()
    sender.script["flaky"] = [SendOutcome.retry(0, "HTTP 502")] * (MAX_ATTEMPTS + 5)
    clock = Clock(utcnow() + timedelta(seconds=1))
    worker = DeliveryWorker(db, {"fake": sender}, clock=clock)
    await queue(db, "flaky", "f1")
    await worker.run_once()
    assert sender.calls == 1
    await worker.run_once()  # not due yet: the backoff holds it
    assert sender.calls == 1
    await drain(worker, clock, rounds=40, step=700)
    assert sender.calls == MAX_ATTEMPTS
    assert await states(db) == {"f1": "failed"}


async def test_throttling_never_counts_as_failure(db: Database) -> None:
    sender = ScriptedSender()
    sender.script["busy"] = [SendOutcome.rate_limited(0.01)] * (MAX_ATTEMPTS + 3)
    clock = Clock(utcnow() + timedelta(seconds=1))
    worker = DeliveryWorker(db, {"fake": sender}, clock=clock)
    await queue(db, "busy", "z1")
    await drain(worker, clock, rounds=MAX_ATTEMPTS + 6, step=1)
    assert await states(db) == {"z1": "sent"}


async def test_two_workers_never_send_a_row_twice(db: Database) -> None:
    sender = ScriptedSender()
    clock = Clock(utcnow() + timedelta(seconds=1))
    for n in range(20):
        await queue(db, f"c{n}", f"m{n}-1", f"m{n}-2")
    workers = [DeliveryWorker(db, {"fake": sender}, clock=clock) for _ in range(3)]
    for _ in range(4):
        await asyncio.gather(*(w.run_once() for w in workers))
    assert sorted(t for _, t in sender.delivered) == sorted(
        f"m{n}-{i}" for n in range(20) for i in (1, 2)
    )


async def test_rows_of_a_worker_that_died_are_reclaimed_after_the_lease(db: Database) -> None:
    clock = Clock(utcnow() + timedelta(seconds=1))
    await queue(db, "d", "d1")
    async with db.session() as s:
        claimed = await outbox.claim(s, clock(), channels=["fake"])  # ...and the process dies
    assert [c.message.text for c in claimed] == ["d1"]
    sender = ScriptedSender()
    worker = DeliveryWorker(db, {"fake": sender}, clock=clock)
    await worker.run_once()
    assert sender.delivered == []  # still leased
    clock.advance(seconds=outbox.LEASE.total_seconds() + 1)
    await worker.run_once()
    assert sender.delivered == [("d", "d1")]


async def test_enqueue_is_idempotent(db: Database) -> None:
    async with db.session() as s:
        identity = await identity_for(s, "fake", "i")
        assert await enqueue(s, key="same", identity=identity, message=OutboundMessage("once"))
        assert not await enqueue(s, key="same", identity=identity, message=OutboundMessage("twice"))
    assert await states(db) == {"once": "pending"}


async def test_not_before_holds_a_message(db: Database) -> None:
    clock = Clock(utcnow() + timedelta(seconds=1))
    async with db.session() as s:
        identity = await identity_for(s, "fake", "later")
        await enqueue(
            s,
            key="k",
            identity=identity,
            message=OutboundMessage("morning"),
            not_before=clock() + timedelta(hours=8),
        )
    sender = ScriptedSender()
    worker = DeliveryWorker(db, {"fake": sender}, clock=clock)
    await worker.run_once()
    assert sender.delivered == []
    clock.advance(hours=8)
    await worker.run_once()
    assert sender.delivered == [("later", "morning")]
