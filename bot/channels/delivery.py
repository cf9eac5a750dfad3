"""The outbox worker: claims due rows, sends them through each channel's sender,
retries with backoff, honours platform rate limits and never sends a row twice.

Per chat, rows go strictly in order (``backend.outbox`` never hands out a row while an
earlier one of the same chat is unsent); across chats, sends run concurrently under
the channel's global rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from backend import outbox
from backend.db import Database
from backend.models import utcnow
from backend.outbox import Delivery
from bot.channels.base import Sender, SendOutcome

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BACKOFF_BASE = 2.0  # seconds; doubled per attempt, capped
BACKOFF_CAP = 600.0
# Platforms count sends per second by arrival; evenly spaced sends still arrive bunched by
# network and scheduling jitter. So: no bursts (a one-token bucket) and 1 % under the
# declared rate. Measured in benchmarks/delivery_bench.py (docs/telegram.md).
RATE_MARGIN = 0.99


def backoff(attempts: int) -> float:
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_CAP)


class TokenBucket:
    """At most ``rate`` sends per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(rate, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        """The platform said "slow down": spend the bucket so nothing goes for a while."""
        self.tokens = -seconds * self.rate


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 100,
        idle_sleep: float = 0.2,
    ) -> None:
        self.db = db
        self.senders = dict(senders)
        self.clock = clock
        self.batch = batch
        self.idle_sleep = idle_sleep
        self._buckets = {
            name: TokenBucket(s.limits.per_second * RATE_MARGIN, burst=1)
            for name, s in self.senders.items()
        }
        self._last_to_chat: dict[tuple[str, str], float] = {}
        # Channels whose rows are delivered once written: settled in bulk (see ``Sender``).
        self.delivered_on_write = {
            name for name, s in self.senders.items() if getattr(s, "delivered_on_write", False)
        }
        self._wake = asyncio.Event()
        self.sent = 0
        self.failed = 0

    def wake(self) -> None:
        """New rows were written: look now rather than after the idle sleep."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception:
                log.exception("delivery round failed; retrying")
                done = 0
            if done == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.idle_sleep)

    async def run_once(self) -> int:
        """Claim one batch and send it; returns how many rows were settled."""
        if not self.senders:
            return 0
        async with self.db.session() as session:
            claimed = await outbox.claim(
                session, self.clock(), channels=list(self.senders), limit=self.batch
            )
        if not claimed:
            return 0
        written: list[int] = []
        by_chat: defaultdict[tuple[str, str], list[Delivery]] = defaultdict(list)
        for delivery in claimed:
            if delivery.channel in self.delivered_on_write:
                written.append(delivery.outbox_id)
            else:
                by_chat[(delivery.channel, delivery.chat_id)].append(delivery)
        if written:
            async with self.db.session() as session:
                await outbox.mark_sent_many(session, written, self.clock())
            self.sent += len(written)
        await asyncio.gather(*(self._send_chat(rows) for rows in by_chat.values()))
        return len(claimed)

    async def _send_chat(self, rows: list[Delivery]) -> None:
        """One chat's rows in order; stop at the first that must wait (order is kept)."""
        for index, delivery in enumerate(rows):
            outcome = await self._send_one(delivery)
            await self._settle(delivery, outcome)
            if not outcome.ok:
                # Later rows of this chat go back unchanged, to follow this one.
                async with self.db.session() as session:
                    for later in rows[index + 1 :]:
                        await outbox.mark_retry(
                            session, later.outbox_id, self.clock(), "waiting for an earlier message"
                        )
                return

    async def _send_one(self, delivery: Delivery) -> SendOutcome:
        sender = self.senders[delivery.channel]
        gap = sender.limits.per_chat_interval
        chat = (delivery.channel, delivery.chat_id)
        if gap:
            wait = self._last_to_chat.get(chat, 0.0) + gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        await self._buckets[delivery.channel].take()
        try:
            outcome = await sender.send(delivery)
        except Exception as exc:  # a sender bug or an unexpected transport error: retry later
            log.exception("sender %s raised on outbox row %s", delivery.channel, delivery.outbox_id)
            outcome = SendOutcome.retry(backoff(delivery.attempts), f"{type(exc).__name__}: {exc}")
        self._last_to_chat[chat] = time.monotonic()
        if outcome.throttled and outcome.retry_after is not None:
            self._buckets[delivery.channel].pause(outcome.retry_after)
        return outcome

    async def _settle(self, delivery: Delivery, outcome: SendOutcome) -> None:
        now = self.clock()
        async with self.db.session() as session:
            if outcome.ok:
                await outbox.mark_sent(session, delivery.outbox_id, now)
                self.sent += 1
            elif outcome.permanent or (delivery.attempts >= MAX_ATTEMPTS and not outcome.throttled):
                await outbox.mark_failed(session, delivery.outbox_id, outcome.error or "gave up")
                self.failed += 1
                log.warning("outbox row %s failed for good: %s", delivery.outbox_id, outcome.error)
            else:
                delay = max(
                    outcome.retry_after or 0.0,
                    backoff(delivery.attempts)
                    if not outcome.error.startswith("rate limited")
                    else 0.0,
                )
                await outbox.mark_retry(
                    session, delivery.outbox_id, now + timedelta(seconds=delay), outcome.error
                )
