"""Who did something: written into every ticket event and audit line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backend.models import Owner, Staff


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | owner | bot | system
    id: int | None = None
    name: str = ""

    @classmethod
    def of_staff(cls, staff: Staff) -> Actor:
        return cls("staff", staff.id, staff.shown_name)

    @classmethod
    def of_owner(cls, owner: Owner) -> Actor:
        return cls("owner", owner.id, owner.name)


BOT = Actor("bot", None, "OwnerDesk")
SYSTEM = Actor("system", None, "system")
