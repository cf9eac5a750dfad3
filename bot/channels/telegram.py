"""Telegram: the sender the delivery worker calls, and the extension that receives.

``TelegramSender`` renders an ``OutboundMessage`` as one Bot API call (``sendMessage``
with an inline keyboard, or ``sendPhoto``) and maps every Telegram error to a
``SendOutcome`` the worker understands. Pacing is the worker's job (``limits``), so the
bot has no rate limiter of its own: two limiters would each think they own the budget.

``telegram_extension`` hands the receiving side to the composition root: the update loop
(``telegram_receiver``: long polling, or the webhook route of ``telegram_webhook``), with
Telegram's shapes read in ``telegram_updates``.
"""

from __future__ import annotations

import asyncio
import logging
import unicodedata
from collections.abc import Sequence
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from backend.messaging import Button, OutboundMessage
from backend.outbox import Delivery
from backend.settings import Settings
from backend.web.app import Extension
from bot.channels.base import RateLimits, SendOutcome
from bot.channels.telegram_receiver import TelegramReceiver
from bot.channels.telegram_updates import CHANNEL, retry_after_seconds
from bot.channels.telegram_webhook import webhook_router

__all__ = ["TelegramReceiver", "TelegramSender", "keyboard", "telegram_extension"]

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # Bot API limit for a message
MAX_CAPTION = 1024  # Bot API limit for a photo caption
MAX_CALLBACK_DATA = 64  # bytes
ROW_WIDTH = 30  # display columns of one keyboard row on a phone, roughly
ROW_BUTTONS = 3
BUTTON_PADDING = 4  # columns a button takes besides its label


def _width(label: str) -> int:
    """Columns on screen: CJK characters and most emoji are twice as wide as Latin ones."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in label)


def keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """Buttons in reading order, packed into rows that fit a phone (at most three a row).

    A button whose value is longer than Telegram's 64-byte ``callback_data`` is left out
    (and logged): sending it would make Telegram refuse the whole message, and the owner
    can still type the answer.
    """
    rows: list[list[InlineKeyboardButton]] = []
    used = 0
    for button in buttons:
        if len(button.value.encode()) > MAX_CALLBACK_DATA:
            log.error("button value over 64 bytes left out on Telegram: %r", button.value)
            continue
        width = _width(button.label) + BUTTON_PADDING
        if not rows or len(rows[-1]) >= ROW_BUTTONS or used + width > ROW_WIDTH:
            rows.append([])
            used = 0
        rows[-1].append(InlineKeyboardButton(button.label, callback_data=button.value))
        used += width
    return InlineKeyboardMarkup(rows) if rows else None


def _cut(text: str, limit: int) -> str:
    """One outbox row is one Telegram message (so per-chat pacing stays exact): too long
    a text is shortened rather than split into several messages."""
    if len(text) <= limit:
        return text
    log.warning("Telegram text of %d characters cut to %d", len(text), limit)
    return text[: limit - 1] + "…"


def _chat(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class TelegramSender:
    """Sends outbox rows with one ``telegram.Bot``, created once and initialised on first use."""

    channel = CHANNEL
    # Telegram: about 30 messages a second per bot, and one a second to the same chat.
    limits = RateLimits(per_second=30.0, per_chat_interval=1.0)

    def __init__(self, settings: Settings) -> None:
        if not settings.telegram_token:
            raise ValueError("TelegramSender needs OWNERDESK_TELEGRAM_TOKEN")
        if settings.telegram_rate != self.limits.per_second:  # OWNERDESK_TELEGRAM_RATE
            self.limits = RateLimits(settings.telegram_rate, self.limits.per_chat_interval)
        self.bot = Bot(
            settings.telegram_token,
            base_url=settings.telegram_base_url,
            request=HTTPXRequest(
                connection_pool_size=64,  # the worker sends many chats at once
                read_timeout=15.0,
                write_timeout=15.0,
                connect_timeout=5.0,
                pool_timeout=5.0,
            ),
        )
        self._ready = False
        self._lock = asyncio.Lock()

    async def initialise(self) -> None:
        """``getMe`` once (the receiver calls it at start-up, else the first send does):
        checks the token early and opens the connection before the first message."""
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                await self.bot.initialize()
                self._ready = True

    async def send(self, delivery: Delivery) -> SendOutcome:
        try:
            await self.initialise()
            sent = await self._send(delivery.chat_id, delivery.message)
        except RetryAfter as exc:
            return SendOutcome.rate_limited(retry_after_seconds(exc), f"rate limited: {exc}")
        except Forbidden as exc:  # blocked by the user, user deactivated
            return SendOutcome.failed(f"forbidden: {exc}")
        except ChatMigrated as exc:  # a group became a supergroup; owners write privately
            return SendOutcome.failed(f"chat migrated to {exc.new_chat_id}")
        except BadRequest as exc:  # chat not found, bad file id…: the same call fails again
            return SendOutcome.failed(f"bad request: {exc}")
        except InvalidToken as exc:  # a configuration problem: keep the message, retry
            return SendOutcome.retry(0, f"invalid token: {exc}")
        except TimedOut as exc:  # may have arrived; at-least-once beats losing it
            return SendOutcome.retry(0, f"timed out: {exc}")
        except NetworkError as exc:  # connection errors and 5xx
            return SendOutcome.retry(0, f"network: {exc}")
        except TelegramError as exc:
            return SendOutcome.retry(0, f"telegram: {exc}")
        if sent is None:
            return SendOutcome.failed("empty message: nothing to send")
        return SendOutcome.sent(str(sent.message_id))

    async def _send(self, chat_id: str, message: OutboundMessage) -> Message | None:
        markup = keyboard(message.buttons)
        if message.photo:
            return await self.bot.send_photo(
                _chat(chat_id),
                message.photo,
                caption=_cut(message.text, MAX_CAPTION) or None,
                reply_markup=markup,
            )
        if not message.text.strip():
            return None
        return await self.bot.send_message(
            _chat(chat_id), _cut(message.text, MAX_TEXT), reply_markup=markup
        )

    async def aclose(self) -> None:
        """Close the HTTP connections (tests, benchmarks; a process may just exit)."""
        if self._ready:
            await self.bot.shutdown()
            self._ready = False


def telegram_extension(runtime: Any) -> Extension:
    """The receiving side for ``backend.composition`` (given its ``Runtime``): the webhook
    route in webhook mode, the polling loop otherwise, started and stopped with the app.
    The sender in ``runtime.senders`` is warmed up (``getMe``) at start."""
    sender = runtime.senders.get("telegram")
    receiver = TelegramReceiver(
        runtime.settings,
        runtime.db,
        runtime.desk,
        runtime.worker.wake,
        warm_up=getattr(sender, "initialise", None),
    )
    return Extension(
        "telegram",
        routers=[webhook_router(receiver)] if receiver.mode == "webhook" else [],
        on_start=receiver.start,
        on_stop=receiver.stop,
        health=receiver.health,
        extra={"receiver": receiver},
    )
