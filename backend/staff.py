"""Staff accounts: roles, the estates they may see, hashed passwords."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.errors import InvalidInput, NotFound
from backend.models import Estate, Staff
from backend.passwords import MIN_LENGTH, hash_password, verify_password
from backend.vocabulary import Role

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
# Managers and admins read the whole company; the rest only the estates they are given.
COMPANY_WIDE_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


async def add_staff(
    session: AsyncSession,
    *,
    username: str,
    role: str,
    password: str,
    estate_codes: Sequence[str],
    display_name: str = "",
    phone: str = "",
    language: str = "zh",
    company_id: int | None = None,
    password_hash: str | None = None,
) -> Staff:
    """Create or update (same username) a staff account.

    ``password_hash`` lets a caller that creates many accounts with one password hash it once.
    """
    if not USERNAME.match(username):
        raise InvalidInput(
            "a username is 2–64 letters, digits or . _ @ - (no spaces)", code="bad_username"
        )
    try:
        r = Role(role)
    except ValueError:
        allowed = ", ".join(x.value for x in Role)
        raise InvalidInput(f"unknown role {role!r}; use one of {allowed}") from None
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters")
    estates: list[Estate] = []
    for code in estate_codes:
        estate = await session.scalar(select(Estate).where(Estate.code == code))
        if estate is None:
            raise NotFound(f"unknown estate {code!r}")
        estates.append(estate)
    if not estates and r not in COMPANY_WIDE_ROLES:
        raise InvalidInput(f"a {r.value} needs at least one --estate")
    if company_id is None:
        if estates:
            company_id = estates[0].company_id
        else:
            first = await session.scalar(select(Estate.company_id).order_by(Estate.id).limit(1))
            if first is None:
                raise InvalidInput("create an estate first (ownerdesk demo load or import)")
            company_id = first
    if any(e.company_id != company_id for e in estates):
        raise InvalidInput("all estates of a staff member must belong to one company")
    if password_hash is None:
        password_hash = await asyncio.to_thread(hash_password, password)  # ~50 ms of CPU
    staff = await session.scalar(
        select(Staff).where(Staff.username == username).options(selectinload(Staff.estates))
    )
    if staff is None:
        staff = Staff(username=username, company_id=company_id, role=r.value, password_hash="")
        session.add(staff)
    staff.company_id = company_id
    staff.role = r.value
    staff.password_hash = password_hash
    staff.display_name = display_name or staff.display_name or username
    staff.phone = phone or staff.phone
    staff.language = language
    staff.active = True
    staff.estates = estates
    await session.flush()
    return staff


async def authenticate(session: AsyncSession, username: str, password: str) -> Staff | None:
    staff = await session.scalar(select(Staff).where(Staff.username == username, Staff.active))
    if staff is None:
        # Spend the same time as a real check so a username cannot be probed by timing.
        await asyncio.to_thread(verify_password, _dummy_hash(), password)
        return None
    ok = await asyncio.to_thread(verify_password, staff.password_hash, password)
    return staff if ok else None


async def visible_estate_ids(session: AsyncSession, staff: Staff) -> frozenset[int]:
    """The estates whose tickets and owners this staff member may see."""
    if staff.role in COMPANY_WIDE_ROLES:
        rows = await session.scalars(select(Estate.id).where(Estate.company_id == staff.company_id))
    else:
        loaded = await session.scalar(
            select(Staff).where(Staff.id == staff.id).options(selectinload(Staff.estates))
        )
        assert loaded is not None
        return frozenset(e.id for e in loaded.estates)
    return frozenset(rows.all())


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
