"""What a dialog flow sees of one owner message, and how it answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.i18n import t
from backend.kb import KnowledgeBase
from backend.messaging import Button, InboundMessage, OutboundMessage
from backend.models import ChannelIdentity, Conversation, Estate, Owner, Ticket
from backend.settings import Settings
from backend.verification import CodeSender
from bot.intents import Understanding


@dataclass
class Services:
    """Everything flows need besides the database session."""

    settings: Settings
    kb: KnowledgeBase
    codes: CodeSender
    understand: Callable[[str], Understanding]


@dataclass
class Turn:
    session: AsyncSession
    services: Services
    inbound: InboundMessage
    message_id: int  # the stored owner message being answered
    identity: ChannelIdentity
    conversation: Conversation
    owner: Owner | None
    estate: Estate | None  # the owner's estate, or None for an unverified user
    lang: str
    now: datetime
    replies: list[OutboundMessage] = field(default_factory=list)
    ticket_id: int | None = None  # the ticket the replies are about, for the console
    _understanding: Understanding | None = None

    # --- reading -----------------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.inbound.text.strip()

    @property
    def value(self) -> str | None:
        return self.inbound.value

    @property
    def understanding(self) -> Understanding:
        if self._understanding is None:
            self._understanding = self.services.understand(self.text)
        return self._understanding

    @property
    def understood(self) -> Understanding | None:
        """The reading of the message, if any flow needed one (reports count it)."""
        return self._understanding

    def reset_understanding(self) -> None:
        self._understanding = None

    @property
    def verified(self) -> bool:
        return self.owner is not None

    # --- answering ---------------------------------------------------------------------

    def tr(self, key: str, **params: object) -> str:
        return t(self.lang, key, **params)

    def button(self, key: str, value: str, **params: object) -> Button:
        return Button(self.tr(key, **params), value)

    def say(self, key: str, *buttons: Button, **params: object) -> None:
        self.replies.append(OutboundMessage(self.tr(key, **params), tuple(buttons)))

    def owns(self, ticket: Ticket | None) -> bool:
        """The ticket is this owner's, or was opened from this chat: its buttons may act."""
        return ticket is not None and (
            (self.owner is not None and ticket.owner_id == self.owner.id)
            or ticket.identity_id == self.identity.id
        )

    def say_text(self, text: str, *buttons: Button) -> None:
        self.replies.append(OutboundMessage(text, tuple(buttons)))

    # --- conversation state ------------------------------------------------------------

    @property
    def flow(self) -> str | None:
        return self.conversation.flow

    @property
    def step(self) -> str | None:
        return self.conversation.step

    @property
    def data(self) -> dict[str, Any]:
        return self.conversation.data

    def start(self, flow: str, step: str, **data: Any) -> None:
        parked = self.conversation.data.get("parked")
        self.conversation.flow = flow
        self.conversation.step = step
        self.conversation.data = {**data, **({"parked": parked} if parked else {})}

    def goto(self, step: str, **data: Any) -> None:
        self.conversation.step = step
        self.conversation.data = {**self.conversation.data, **data}

    def finish(self) -> None:
        parked = self.conversation.data.get("parked")
        self.conversation.flow = None
        self.conversation.step = None
        self.conversation.data = {"parked": parked} if parked else {}

    def park(self) -> bool:
        """Keep an unfinished flow aside (owner changed topic or came back later)."""
        if not self.conversation.flow:
            return False
        self.conversation.data = {
            "parked": {
                "flow": self.conversation.flow,
                "step": self.conversation.step,
                "data": {k: v for k, v in self.conversation.data.items() if k != "parked"},
            }
        }
        self.conversation.flow = None
        self.conversation.step = None
        return True

    def resume(self) -> bool:
        parked = self.conversation.data.get("parked")
        if not parked:
            return False
        self.conversation.flow = parked["flow"]
        self.conversation.step = parked["step"]
        self.conversation.data = dict(parked["data"])
        return True
