"""Receiving from Telegram: long polling (the default) or a webhook, one process each.

Both paths end in ``TelegramReceiver.receive``: convert the update, hand it to the
front desk (which stores it, answers it and queues the replies), wake the delivery
worker, stop the button's spinner. An update is acknowledged to Telegram only once
it is stored (DESIGN.md, "store first … ack"):

- Polling advances the offset (Telegram drops updates below the offset of the next
  ``getUpdates``) only past updates that were stored, and keeps it in the database
  (``platform_state``, key ``telegram:offset``) so a restart neither loses nor replays.
  That is why this is our own ``getUpdates`` loop and not PTB's ``Updater``: the updater
  confirms updates as soon as it has fetched them and keeps the offset in memory only.
- The webhook (``telegram_webhook``) answers 200 after ``receive`` returns, 503 when the
  message could not be stored (Telegram then delivers it again); the platform's repeats
  are dropped by the desk's (channel, platform_message_id) dedupe either way.

The PTB ``Application`` is built as PTB prescribes for a custom webhook (token, base URL,
``updater(None)``, no job queue, no rate limiter) and owns the receiving bot's life cycle
(``initialize`` → ``getMe``, ``shutdown``). Updates are not pushed through its
``update_queue``/``process_update``: those swallow what the handler did, and we must know
whether the message was stored before acknowledging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from telegram import Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from backend.db import Database
from backend.messaging import InboundMessage
from backend.models import Message, PlatformState, utcnow
from backend.settings import Settings
from bot.channels.telegram_updates import (
    ALLOWED_UPDATES,
    CHANNEL,
    retry_after_seconds,
    to_inbound,
)

log = logging.getLogger(__name__)

OFFSET_KEY = "telegram:offset"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105  (a header name)
POLL_TIMEOUT = 25  # seconds a getUpdates call waits for news (Telegram allows up to 50)
RETRY_CAP = 60.0  # seconds between attempts while Telegram or the database is away
CONFLICT_PAUSE = 15.0  # another poller or a webhook holds the bot


class Receipt(StrEnum):
    STORED = "stored"  # new message, stored (and normally answered)
    DUPLICATE = "duplicate"  # stored before: a redelivery
    IGNORED = "ignored"  # nothing for the desk (a group, a service message)
    FAILED = "failed"  # not stored: do not acknowledge, Telegram must send it again


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or one derived from the install's secret key and the token,
    so a webhook is never left open to anyone who finds the URL."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    material = f"telegram-webhook:{settings.telegram_token}".encode()
    return hmac.new(settings.secret_key.encode(), material, hashlib.sha256).hexdigest()


def build_application(settings: Settings) -> Application[Any, Any, Any, Any, Any, Any]:
    assert settings.telegram_token, "Telegram is off without OWNERDESK_TELEGRAM_TOKEN"
    return (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .updater(None)
        .job_queue(None)
        .build()
    )


class OffsetStore:
    """The next ``getUpdates`` offset, shared through the database (DESIGN.md)."""

    def __init__(self, db: Database, key: str = OFFSET_KEY) -> None:
        self.db = db
        self.key = key

    async def load(self) -> int | None:
        async with self.db.session() as session:
            row = await session.get(PlatformState, self.key)
            return int(row.value) if row is not None and row.value.strip() else None

    async def save(self, offset: int) -> None:
        async with self.db.session() as session:
            row = await session.get(PlatformState, self.key)
            if row is None:
                session.add(PlatformState(key=self.key, value=str(offset), updated_at=utcnow()))
            else:
                row.value = str(offset)
                row.updated_at = utcnow()


class TelegramReceiver:
    """Turns Telegram updates into front-desk messages, by polling or by webhook."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        desk: Any,  # bot.frontdesk.FrontDesk
        wake: Callable[[], None],
        *,
        application: Application[Any, Any, Any, Any, Any, Any] | None = None,
        poll_timeout: int = POLL_TIMEOUT,
        warm_up: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.desk = desk
        self.wake = wake
        self.application = application or build_application(settings)
        self.poll_timeout = poll_timeout
        self.warm_up = warm_up  # the sender's getMe, so its first message goes at once
        self.offsets = OffsetStore(db)
        self.secret = webhook_secret(settings)
        self.offset: int | None = None
        self.ready = False  # getMe answered, and the webhook is set / polling has begun
        self.last_update_at: datetime | None = None
        self.counts: dict[str, int] = {r.value: 0 for r in Receipt}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def mode(self) -> str:
        return "webhook" if self.settings.telegram_webhook_url else "polling"

    @property
    def bot(self) -> Any:
        return self.application.bot

    # --- one update --------------------------------------------------------------------

    async def receive(self, update: Update) -> Receipt:
        """Store and answer one update; never raises (a handler must not die of one)."""
        self.last_update_at = utcnow()
        try:
            inbound = to_inbound(update)
        except Exception:  # an update shape we misread must not block those behind it
            log.exception("could not read Telegram update %s; skipped", update.update_id)
            inbound = None
        if inbound is None:
            receipt = Receipt.IGNORED
        else:
            receipt = await self._handle(inbound)
            if receipt is not Receipt.FAILED:
                self.wake()
        if receipt is not Receipt.FAILED:
            await self._answer_callback(update)
        self.counts[receipt.value] += 1
        return receipt

    async def _handle(self, inbound: InboundMessage) -> Receipt:
        try:
            handled = await self.desk.handle(inbound)
        except Exception:
            log.exception("front desk failed on Telegram %s", inbound.platform_message_id)
            # Stored but not answered: the desk's recovery sweep answers it later.
            return Receipt.STORED if await self._stored(inbound) else Receipt.FAILED
        return Receipt.DUPLICATE if handled.message_id is None else Receipt.STORED

    async def _stored(self, inbound: InboundMessage) -> bool:
        try:
            async with self.db.session() as session:
                found = await session.scalar(
                    select(Message.id).where(
                        Message.channel == CHANNEL,
                        Message.platform_message_id == inbound.platform_message_id,
                    )
                )
            return found is not None
        except Exception:
            log.exception("database unavailable while checking a Telegram message")
            return False

    async def _answer_callback(self, update: Update) -> None:
        """Stop the tapped button's spinner; what the tap means is answered by the desk."""
        if update.callback_query is None:
            return
        try:
            await self.bot.answer_callback_query(update.callback_query.id)
        except TelegramError as exc:  # too old, or already answered on a redelivery
            log.info("answerCallbackQuery failed: %s", exc)
        except Exception:  # the message is stored; a spinner is not worth failing for
            log.exception("answerCallbackQuery failed")

    # --- start and stop ----------------------------------------------------------------

    async def start(self) -> None:
        """Begin in the background: the service starts even while Telegram is unreachable."""
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=f"telegram-{self.mode}")

    async def _run(self) -> None:
        if not await self._until_done(self.application.initialize, "start"):
            return
        if self.warm_up is not None:
            try:
                await self.warm_up()
            except Exception as exc:  # the first send tries again
                log.warning("Telegram sender warm-up failed: %s", exc)
        await (self._run_polling() if self.mode == "polling" else self._set_up_webhook())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, timeout=10)
            self._task = None
        try:
            await self.application.shutdown()  # a no-op if it never started
        except Exception:
            log.exception("stopping the Telegram application failed")
        self.ready = False

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    async def _until_done(self, call: Callable[[], Awaitable[Any]], what: str) -> bool:
        """Retry ``call`` with growing pauses until it works; False once stopping."""
        failures = 0
        while not self._stop.is_set():
            try:
                await call()
                return True
            except RetryAfter as exc:
                await self._pause(retry_after_seconds(exc))
            except Exception as exc:
                failures += 1
                level = logging.ERROR if isinstance(exc, InvalidToken) else logging.WARNING
                log.log(level, "Telegram %s failed (%s); retrying", what, exc)
                await self._pause(min(2.0**failures, RETRY_CAP))
        return False

    async def _set_up_webhook(self) -> None:
        url = self.settings.telegram_webhook_url
        if await self._until_done(
            lambda: self.bot.set_webhook(
                url, secret_token=self.secret, allowed_updates=list(ALLOWED_UPDATES)
            ),
            "setWebhook",
        ):
            self.ready = True
            log.info("Telegram webhook set to %s", url)

    # --- long polling ------------------------------------------------------------------

    async def _run_polling(self) -> None:
        # getUpdates is refused while a webhook is set (say, left by an earlier setup).
        if not await self._until_done(self.bot.delete_webhook, "deleteWebhook"):
            return
        if not await self._until_done(self._load_offset, "loading the update offset"):
            return
        self.ready = True
        failures = 0  # fetches that failed in a row
        unstored = 0  # batches in a row with an update the database would not take
        while not self._stop.is_set():
            try:
                updates = await self._fetch()
                failures = 0
            except Conflict as exc:
                log.error("Telegram polling conflict (%s): only one process may poll", exc)
                await self._pause(CONFLICT_PAUSE)
                continue
            except RetryAfter as exc:
                await self._pause(retry_after_seconds(exc))
                continue
            except Exception as exc:
                failures += 1
                log.warning("Telegram getUpdates failed (%s); retrying", exc)
                await self._pause(min(2.0**failures, RETRY_CAP))
                continue
            try:
                complete = not updates or await self._take(updates)
            except Exception:  # a bug: never let it end polling for the whole process
                log.exception("handling Telegram updates failed")
                complete = False
            if complete:
                unstored = 0
            else:  # let the database (or whatever failed) recover before fetching again
                unstored += 1
                await self._pause(min(2.0**unstored, RETRY_CAP))

    async def _load_offset(self) -> None:
        self.offset = await self.offsets.load()

    async def _fetch(self) -> tuple[Update, ...]:
        """One long poll, abandoned at once when the service stops (nothing is lost:
        Telegram only forgets updates below the offset of a later call)."""
        fetch = asyncio.ensure_future(
            self.bot.get_updates(
                offset=self.offset,
                timeout=self.poll_timeout,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        )
        stopping = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(BaseException):
                await fetch
            return ()
        return tuple(fetch.result())

    async def _take(self, updates: tuple[Update, ...]) -> bool:
        """Receive a batch: owners side by side, each owner's updates in order, stopping
        at an owner's first update that could not be stored; False if one was not."""
        by_owner: dict[str, list[Update]] = {}
        for update in sorted(updates, key=lambda u: u.update_id):
            user = update.effective_user
            by_owner.setdefault(str(user.id) if user else f"u{update.update_id}", []).append(update)
        failed: list[int] = []

        async def in_order(batch: list[Update]) -> None:
            for update in batch:
                if await self.receive(update) is Receipt.FAILED:
                    failed.append(update.update_id)
                    return

        await asyncio.gather(*(in_order(batch) for batch in by_owner.values()))
        offset = min(failed) if failed else max(u.update_id for u in updates) + 1
        if offset != self.offset:
            self.offset = offset
            try:
                await self.offsets.save(offset)
            except Exception:  # Telegram still has the offset; only a restart would replay
                log.exception("could not save the Telegram offset %s", offset)
        return not failed

    # --- health ------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "ready": self.ready,
            "last_update_at": self.last_update_at.isoformat() if self.last_update_at else None,
            "updates": dict(self.counts),
            **({"offset": self.offset} if self.mode == "polling" else {}),
        }
