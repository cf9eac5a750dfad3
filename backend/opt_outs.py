"""Opting out of a kind of care message, and withdrawing what is already queued of it.

Care and campaign messages are queued ahead of time (a campaign to 100,000 owners, a
greeting at the care hour), so an owner who taps "unsubscribe" or asks the front desk to
stop them could still receive a queued one minutes later. Each such message carries its
kind in its unsubscribe button (``unsubscribe:{kind}``), which is how it is found here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import OutboxItem, Owner
from backend.vocabulary import CareType, OutboxState

WITHDRAWABLE = (OutboxState.PENDING.value, OutboxState.HELD.value)


def kind_of(payload: dict[str, Any]) -> str | None:
    """The care kind a queued message belongs to, from its unsubscribe button."""
    for button in payload.get("buttons") or []:
        value = str(button.get("value", "")) if isinstance(button, dict) else ""
        if value.startswith("unsubscribe:"):
            return value.split(":", 1)[1]
    return None


async def withdraw_queued(session: AsyncSession, owner_id: int, kinds: Iterable[str]) -> int:
    """Cancel the owner's queued, not yet claimed messages of these kinds; how many.

    A row already being sent (``sending``) is left alone: it is on its way.
    """
    wanted = set(kinds)
    if not wanted:
        return 0
    rows = await session.scalars(
        select(OutboxItem).where(
            OutboxItem.owner_id == owner_id, OutboxItem.state.in_(WITHDRAWABLE)
        )
    )
    withdrawn = 0
    for row in rows:
        if kind_of(row.payload or {}) in wanted:
            row.state = OutboxState.CANCELLED.value
            row.last_error = "withdrawn: the owner opted out of this kind of message"
            row.claimed_until = None
            withdrawn += 1
    if withdrawn:
        await session.flush()
    return withdrawn


async def opt_out(session: AsyncSession, owner: Owner, care_type: str) -> int:
    """No more messages of ``care_type``; returns how many queued ones were withdrawn."""
    kind = CareType(care_type)
    owner.care_opt_outs = sorted(set(owner.care_opt_outs or []) | {kind.value})
    return await withdraw_queued(session, owner.id, [kind.value])


async def set_opt_outs(session: AsyncSession, owner: Owner, opt_outs: Iterable[str]) -> int:
    """Staff set the owner's opt-outs; the newly added kinds are withdrawn as above."""
    before = set(owner.care_opt_outs or [])
    after = {CareType(x).value for x in opt_outs}
    owner.care_opt_outs = sorted(after)
    return await withdraw_queued(session, owner.id, after - before)
