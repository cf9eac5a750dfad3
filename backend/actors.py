"""Who did something: written into every ticket event and audit line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.models import ChannelIdentity, Owner, Staff


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | owner | chat (a chat user not yet verified) | bot | system
    id: int | None = None
    name: str = ""

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls("staff", staff.id, staff.shown_name)

    @classmethod
    def of_owner(cls, owner: Owner) -> Actor:
        return cls("owner", owner.id, owner.name)

    @classmethod
    def of_chat(cls, identity: ChannelIdentity) -> Actor:
        """Someone not (yet) known as an owner, writing from this chat account."""
        return cls("chat", identity.id, identity.display_name or identity.channel)


BOT = Actor("bot", None, "OwnerDesk")
SYSTEM = Actor("system", None, "system")
