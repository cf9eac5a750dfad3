"""What every channel's sender promises the delivery worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from backend.outbox import Delivery


@dataclass(frozen=True)
class SendOutcome:
    """How one send went: delivered, try again later, or never (blocked, unsubscribed)."""

    ok: bool
    retry_after: float | None = None  # seconds; None with ok=False means permanent failure
    error: str = ""
    platform_message_id: str | None = None
    throttled: bool = False  # the platform asked us to slow down (HTTP 429, quota codes)

    @classmethod
    def sent(cls, platform_message_id: str | None = None) -> SendOutcome:
        return cls(True, platform_message_id=platform_message_id)

    @classmethod
    def retry(cls, after: float, error: str) -> SendOutcome:
        return cls(False, retry_after=max(after, 0.0), error=error)

    @classmethod
    def rate_limited(cls, after: float, error: str = "rate limited") -> SendOutcome:
        return cls(False, retry_after=max(after, 0.0), error=error, throttled=True)

    @classmethod
    def failed(cls, error: str) -> SendOutcome:
        return cls(False, error=error)

    @property
    def permanent(self) -> bool:
        return not self.ok and self.retry_after is None


@dataclass(frozen=True)
class RateLimits:
    """A platform's limits: messages per second overall, and the gap between two to one chat."""

    per_second: float = 30.0
    per_chat_interval: float = 0.0


class Sender(Protocol):
    """Sends one claimed row to its platform.

    A sender may also declare ``delivered_on_write = True`` (the web chat, whose page reads
    the stored messages): the front desk then stores its replies as sent, and the worker
    settles the channel's other rows (staff replies, notices) in bulk, without calling
    ``send`` or spending the rate budget on them.
    """

    channel: str
    limits: RateLimits

    async def send(self, delivery: Delivery) -> SendOutcome: ...
