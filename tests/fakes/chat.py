"""Talk to the channel-blind core in-process, like errbot's testbot (STYLE.md)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from backend.messaging import InboundMessage, Media, OutboundMessage
from backend.models import utcnow
from bot.frontdesk import FrontDesk

_ids = itertools.count(1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Chat:
    """One chat account talking to the front desk; remembers the last replies."""

    def __init__(self, desk: FrontDesk, session: str, channel: str = "webchat") -> None:
        self.desk = desk
        self.session = session
        self.channel = channel
        self.last: list[OutboundMessage] = []

    async def send(
        self,
        text: str = "",
        *,
        value: str | None = None,
        media: Sequence[Media] = (),
        message_id: str | None = None,
    ) -> list[OutboundMessage]:
        inbound = InboundMessage(
            channel=self.channel,
            user_id=self.session,
            chat_id=self.session,
            platform_message_id=message_id or f"t{next(_ids)}",
            text=text,
            value=value,
            media=tuple(media),
            received_at=self.desk.clock(),
        )
        handled = await self.desk.handle(inbound)
        self.last = [r.message for r in handled.replies]
        return self.last

    async def say(self, text: str) -> str:
        """Send text; return all reply texts joined, for pattern checks."""
        return self.text(await self.send(text))

    async def tap(self, value_prefix: str) -> str:
        """Press the button of the last replies whose value starts with ``value_prefix``."""
        for message in reversed(self.last):
            for button in message.buttons:
                if button.value.startswith(value_prefix):
                    return self.text(await self.send(button.label, value=button.value))
        offered = [b.value for m in self.last for b in m.buttons]
        raise AssertionError(f"no button {value_prefix!r} in the last replies: {offered}")

    def buttons(self) -> list[str]:
        return [b.value for m in self.last for b in m.buttons]

    @staticmethod
    def text(replies: Sequence[OutboundMessage]) -> str:
        return "\n".join(r.text for r in replies)

    async def transcript(self, steps: Sequence[tuple[str, str]]) -> None:
        """(owner says, reply must match) pairs; "tap:<value>" presses a button."""
        for said, pattern in steps:
            if said.startswith("tap:"):
                reply = await self.tap(said[4:])
            else:
                reply = await self.say(said)
            assert re.search(pattern, reply, re.S), (
                f"after {said!r} expected /{pattern}/, got:\n{reply}"
            )
