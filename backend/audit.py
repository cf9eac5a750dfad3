"""The audit log: every staff action and every login attempt, with where it came from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import AuditEntry, Staff, utcnow


async def record(
    session: AsyncSession,
    action: str,
    *,
    staff: Staff | None = None,
    username: str = "",
    target_type: str = "",
    target_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now or utcnow(),
        staff_id=staff.id if staff else None,
        username=(staff.username if staff else username)[:64],
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail or {},
        ip=ip[:64],
    )
    session.add(entry)
    await session.flush()
    return entry


async def recent_failed_logins(
    session: AsyncSession, *, username: str, ip: str, window: timedelta, now: datetime | None = None
) -> int:
    """Failed logins for this username or from this address within ``window``."""
    since = (now or utcnow()) - window
    count = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "login_failed",
            AuditEntry.at >= since,
            or_(AuditEntry.username == username[:64], AuditEntry.ip == ip[:64]),
        )
    )
    return int(count or 0)
