"""Staff accounts as an admin keeps them in the console: within their own company only,
never their own account's role or activity (so a company always keeps an admin)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from backend.access import Permission, StaffContext
from backend.errors import InvalidInput, NotFound
from backend.fields import normalize_phone
from backend.models import Estate, Staff
from backend.passwords import MIN_LENGTH, hash_password
from backend.staff import COMPANY_WIDE_ROLES, USERNAME, add_staff
from backend.vocabulary import Language, Role

MAX_PASSWORD = 256


@dataclass(frozen=True)
class StaffForm:
    """An account's editable fields as the console's form sends them."""

    role: str
    estates: tuple[str, ...]  # estate codes
    display_name: str = ""
    phone: str = ""
    language: str = "zh"


async def company_estates(session: AsyncSession, ctx: StaffContext) -> list[Estate]:
    return list(
        await session.scalars(
            select(Estate).where(Estate.company_id == ctx.staff.company_id).order_by(Estate.id)
        )
    )


async def list_staff(session: AsyncSession, ctx: StaffContext) -> list[Staff]:
    ctx.require(Permission.MANAGE_STAFF)
    return list(
        await session.scalars(
            select(Staff)
            .where(Staff.company_id == ctx.staff.company_id)
            .options(selectinload(Staff.estates))
            .order_by(Staff.active.desc(), Staff.role, Staff.username)
        )
    )


async def managed_staff(session: AsyncSession, ctx: StaffContext, staff_id: int) -> Staff:
    """A colleague of the admin's company; anyone else's account is "not found"."""
    ctx.require(Permission.MANAGE_STAFF)
    staff = await session.scalar(
        select(Staff)
        .where(Staff.id == staff_id, Staff.company_id == ctx.staff.company_id)
        .options(selectinload(Staff.estates))
    )
    if staff is None:
        raise NotFound(f"no staff member with id {staff_id}")
    return staff


def _password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password needs {MIN_LENGTH} to {MAX_PASSWORD} characters")
    return password


async def _checked(
    session: AsyncSession, ctx: StaffContext, form: StaffForm
) -> tuple[Role, list[Estate], str, str]:
    try:
        role = Role(form.role)
    except ValueError:
        raise InvalidInput(f"unknown role {form.role!r}") from None
    try:
        language = Language(form.language).value
    except ValueError:
        raise InvalidInput(f"unknown language {form.language!r}") from None
    by_code = {e.code: e for e in await company_estates(session, ctx)}
    unknown = [c for c in form.estates if c not in by_code]
    if unknown:
        raise InvalidInput(f"unknown estate {unknown[0]!r}")
    estates = [by_code[c] for c in dict.fromkeys(form.estates)]
    if not estates and role not in COMPANY_WIDE_ROLES:
        raise InvalidInput(f"a {role.value} needs at least one estate")
    phone = normalize_phone(form.phone) if form.phone.strip() else ""
    return role, estates, phone, language


async def create_staff(
    session: AsyncSession, ctx: StaffContext, username: str, password: str, form: StaffForm
) -> Staff:
    ctx.require(Permission.MANAGE_STAFF)
    username = username.strip()
    if not USERNAME.match(username):
        raise InvalidInput("a username is 2–64 letters, digits or . _ @ - (no spaces)")
    if await session.scalar(select(Staff.id).where(Staff.username == username)) is not None:
        raise InvalidInput(f"the username {username!r} is taken", code="username_taken")
    role, estates, phone, language = await _checked(session, ctx, form)
    return await add_staff(
        session,
        username=username,
        role=role.value,
        password=_password(password),
        estate_codes=[e.code for e in estates],
        display_name=form.display_name.strip()[:100],
        phone=phone,
        language=language,
        company_id=ctx.staff.company_id,
    )


async def update_staff(
    session: AsyncSession, ctx: StaffContext, staff_id: int, form: StaffForm
) -> list[str]:
    """Role, estates, name, phone and language; the names of the fields that changed."""
    staff = await managed_staff(session, ctx, staff_id)
    role, estates, phone, language = await _checked(session, ctx, form)
    if staff.id == ctx.staff.id and role.value != staff.role:
        raise InvalidInput("you cannot change your own role")
    values: dict[str, object] = {
        "role": role.value,
        "display_name": form.display_name.strip()[:100] or staff.username,
        "phone": phone,
        "language": language,
    }
    changed = [k for k, v in values.items() if getattr(staff, k) != v]
    for name in changed:
        setattr(staff, name, values[name])
    if {e.id for e in staff.estates} != {e.id for e in estates}:
        staff.estates = estates
        changed.append("estates")
    await session.flush()
    return changed


async def reset_password(
    session: AsyncSession, ctx: StaffContext, staff_id: int, password: str
) -> Staff:
    """A new password; every session of that account ends (security.password_version)."""
    staff = await managed_staff(session, ctx, staff_id)
    staff.password_hash = await asyncio.to_thread(hash_password, _password(password))
    await session.flush()
    return staff


async def set_active(
    session: AsyncSession, ctx: StaffContext, staff_id: int, active: bool
) -> Staff:
    staff = await managed_staff(session, ctx, staff_id)
    if staff.id == ctx.staff.id and not active:
        raise InvalidInput("you cannot deactivate your own account", code="self_deactivate")
    staff.active = active
    await session.flush()
    return staff


def estate_codes(staff: Staff) -> Sequence[str]:
    return [e.code for e in staff.estates]
