"""The audit log: every staff action and every login attempt, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import Permission, StaffContext
from backend.models import AuditEntry, Staff, utcnow

PAGE_SIZE = 100


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


@dataclass(frozen=True)
class AuditQuery:
    """What the reader asks for: exact matches, local days (both included), a page."""

    username: str = ""
    action: str = ""
    target_type: str = ""
    first: date | None = None
    last: date | None = None
    before: int | None = None  # keyset paging: entries older than this id


@dataclass(frozen=True)
class AuditPage:
    rows: list[tuple[AuditEntry, Staff | None]]
    older: int | None  # ``before`` for the next page, None on the last one


def company_scope(company_id: int) -> Any:
    """The entries of one company's staff: their actions, and failed or blocked logins
    under their usernames. Attempts on usernames nobody has belong to no company."""
    colleagues = select(Staff.id).where(Staff.company_id == company_id)
    usernames = select(Staff.username).where(Staff.company_id == company_id)
    return or_(
        AuditEntry.staff_id.in_(colleagues),
        and_(AuditEntry.staff_id.is_(None), AuditEntry.username.in_(usernames)),
    )


async def read_log(
    session: AsyncSession,
    ctx: StaffContext,
    query: AuditQuery,
    zone: ZoneInfo,
    *,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of the reader's company's log, newest first; ``zone`` makes the days."""
    ctx.require(Permission.VIEW_AUDIT)
    statement = (
        select(AuditEntry, Staff)
        .outerjoin(Staff, Staff.id == AuditEntry.staff_id)
        .where(company_scope(ctx.staff.company_id))
        .order_by(AuditEntry.id.desc())
        .limit(limit + 1)
    )
    if query.username:
        statement = statement.where(AuditEntry.username == query.username)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.target_type:
        statement = statement.where(AuditEntry.target_type == query.target_type)
    if query.first is not None:
        statement = statement.where(AuditEntry.at >= _midnight(query.first, zone))
    if query.last is not None:
        statement = statement.where(AuditEntry.at < _midnight(query.last + timedelta(days=1), zone))
    if query.before is not None:
        statement = statement.where(AuditEntry.id < query.before)
    rows: list[tuple[AuditEntry, Staff | None]] = [
        (entry, staff) for entry, staff in (await session.execute(statement)).all()
    ]
    older = rows[limit - 1][0].id if len(rows) > limit else None
    return AuditPage(rows[:limit], older)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)
