"""The household file (一户一档) as staff read and keep it: search, the whole file of one
household, edits, members, and which chat accounts speak for it.

Every function checks the staff member's permission and estates itself, so another
estate's household is "not found" whichever page, fragment or call asks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import opt_outs
from backend.access import Permission, StaffContext, visible_owner
from backend.errors import InvalidInput, NotFound
from backend.fields import normalize_phone, parse_date
from backend.models import (
    ChannelIdentity,
    Estate,
    HouseholdMember,
    Message,
    Owner,
    Rating,
    Staff,
    Ticket,
    Unit,
    WarrantyItem,
    utcnow,
)
from backend.vocabulary import CareType, Channel, Language, Relation, Stage

PAGE_SIZE = 50
RECENT_MESSAGES = 30
CHAT_CHANNELS = (Channel.TELEGRAM, Channel.WECHAT, Channel.WEBCHAT)
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class OwnerRow:
    owner: Owner
    estate_code: str
    unit_number: str


@dataclass(frozen=True)
class OwnerPage:
    rows: list[OwnerRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class IdentityRow:
    identity: ChannelIdentity
    last_message: Message | None


@dataclass(frozen=True)
class HouseholdFile:
    owner: Owner
    estate: Estate
    unit: Unit
    members: list[HouseholdMember]
    warranty: list[WarrantyItem]
    identities: list[IdentityRow]
    tickets: list[Ticket]
    ratings: list[tuple[Rating, str]]  # with the ticket's number
    messages: list[tuple[Message, str | None]]  # with the replying staff member's name


@dataclass(frozen=True)
class OwnerEdit:
    """The fields of the console's edit form, as typed."""

    phone: str
    language: str
    stage: str
    key_owner: bool
    birthday: str = ""
    opt_outs: tuple[str, ...] = ()


async def search_owners(
    session: AsyncSession,
    ctx: StaffContext,
    term: str = "",
    *,
    estate_id: int | None = None,
    page: int = 1,
) -> OwnerPage:
    """Households of the visible estates whose name, phone or unit contains ``term``."""
    ctx.require(Permission.VIEW_OWNERS)
    query = (
        select(Owner, Estate.code, Unit.number)
        .join(Unit, Unit.id == Owner.unit_id)
        .join(Estate, Estate.id == Owner.estate_id)
        .where(Owner.estate_id.in_(ctx.estate_ids))
    )
    if estate_id is not None:
        query = query.where(Owner.estate_id == estate_id)
    term = term.strip()[:64]
    if term:
        matches = [
            func.lower(Owner.name).contains(term.lower(), autoescape=True),
            Unit.number.contains(term.upper(), autoescape=True),
        ]
        digits = _PHONE_SEPARATORS.sub("", term)
        if digits:
            matches.append(Owner.phone.contains(digits, autoescape=True))
        query = query.where(or_(*matches))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(page, 1), pages)
    result = await session.execute(
        query.order_by(Owner.estate_id, Unit.number, Owner.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    rows = [OwnerRow(owner, code, number) for owner, code, number in result]
    return OwnerPage(rows, total, page, pages)


async def household_file(session: AsyncSession, ctx: StaffContext, owner_id: int) -> HouseholdFile:
    owner = await visible_owner(session, ctx, owner_id)
    estate = await session.get(Estate, owner.estate_id)
    unit = await session.get(Unit, owner.unit_id)
    assert estate is not None and unit is not None
    members = list(
        await session.scalars(
            select(HouseholdMember)
            .where(HouseholdMember.owner_id == owner.id)
            .order_by(HouseholdMember.id)
        )
    )
    warranty = list(
        await session.scalars(
            select(WarrantyItem)
            .where(WarrantyItem.unit_id == unit.id)
            .order_by(WarrantyItem.expires_on)
        )
    )
    identities = list(
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.owner_id == owner.id)
            .order_by(ChannelIdentity.id)
        )
    )
    ids = [i.id for i in identities]
    # This household's messages, and what its accounts wrote before they were bound; not
    # what an account said while it spoke for another household.
    ours = or_(
        Message.owner_id == owner.id,
        and_(Message.identity_id.in_(ids), Message.owner_id.is_(None)),
    )
    last: dict[int, Message] = {}
    if ids:
        latest = (
            select(func.max(Message.id))
            .where(Message.identity_id.in_(ids), ours)
            .group_by(Message.identity_id)
        )
        for message in await session.scalars(select(Message).where(Message.id.in_(latest))):
            if message.identity_id is not None:
                last[message.identity_id] = message
    tickets = list(
        await session.scalars(
            select(Ticket)
            .where(Ticket.owner_id == owner.id, ctx.ticket_scope())
            .order_by(Ticket.created_at.desc())
            .limit(100)
        )
    )
    ratings = [
        (rating, number)
        for rating, number in await session.execute(
            select(Rating, Ticket.number)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .where(or_(Rating.owner_id == owner.id, Ticket.owner_id == owner.id))
            .where(ctx.ticket_scope())
            .order_by(Rating.created_at.desc())
            .limit(50)
        )
    ]
    messages: list[tuple[Message, str | None]] = [
        (message, name)
        for message, name in await session.execute(
            select(Message, Staff.display_name)
            .outerjoin(Staff, Staff.id == Message.staff_id)
            .where(ours)
            .order_by(Message.id.desc())
            .limit(RECENT_MESSAGES)
        )
    ]
    messages.reverse()
    return HouseholdFile(
        owner=owner,
        estate=estate,
        unit=unit,
        members=members,
        warranty=warranty,
        identities=[IdentityRow(i, last.get(i.id)) for i in identities],
        tickets=tickets,
        ratings=ratings,
        messages=messages,
    )


async def _editable_owner(session: AsyncSession, ctx: StaffContext, owner_id: int) -> Owner:
    ctx.require(Permission.EDIT_OWNERS)
    return await visible_owner(session, ctx, owner_id)


def _choice(value: str, allowed: type[Language] | type[Stage] | type[Relation], what: str) -> str:
    try:
        return allowed(value.strip()).value
    except ValueError:
        raise InvalidInput(f"unknown {what} {value!r}") from None


async def update_owner(
    session: AsyncSession, ctx: StaffContext, owner_id: int, edit: OwnerEdit
) -> list[str]:
    """Apply the edit; the names of the fields that changed (for the audit log)."""
    owner = await _editable_owner(session, ctx, owner_id)
    unknown = [x for x in edit.opt_outs if x not in {c.value for c in CareType}]
    if unknown:
        raise InvalidInput(f"unknown care message type {unknown[0]!r}")
    values: dict[str, object] = {
        "phone": normalize_phone(edit.phone),
        "language": _choice(edit.language, Language, "language"),
        "stage": _choice(edit.stage, Stage, "stage"),
        "key_owner": edit.key_owner,
        "birthday": parse_date(edit.birthday),
        "care_opt_outs": [c.value for c in CareType if c.value in edit.opt_outs],
    }
    if values["phone"] != owner.phone:
        clash = await session.scalar(
            select(Owner.id).where(
                Owner.unit_id == owner.unit_id, Owner.phone == values["phone"], Owner.id != owner.id
            )
        )
        if clash is not None:
            raise InvalidInput("another owner of this unit has that phone number")
    changed = [name for name, value in values.items() if getattr(owner, name) != value]
    for name in changed:
        if name == "care_opt_outs":  # also withdraws what is queued of a newly refused kind
            await opt_outs.set_opt_outs(session, owner, edit.opt_outs)
        else:
            setattr(owner, name, values[name])
    await session.flush()
    return changed


async def add_member(
    session: AsyncSession,
    ctx: StaffContext,
    owner_id: int,
    *,
    name: str,
    relation: str,
    birthday: str = "",
    phone: str = "",
) -> HouseholdMember:
    owner = await _editable_owner(session, ctx, owner_id)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a household member needs a name of at most 100 characters")
    member = HouseholdMember(
        owner_id=owner.id,
        name=name,
        relation=_choice(relation, Relation, "relation"),
        birthday=parse_date(birthday),
        phone=normalize_phone(phone) if phone.strip() else "",
    )
    session.add(member)
    await session.flush()
    return member


async def remove_member(
    session: AsyncSession, ctx: StaffContext, owner_id: int, member_id: int
) -> HouseholdMember:
    owner = await _editable_owner(session, ctx, owner_id)
    member = await session.scalar(
        select(HouseholdMember).where(
            HouseholdMember.id == member_id, HouseholdMember.owner_id == owner.id
        )
    )
    if member is None:
        raise NotFound(f"no household member with id {member_id}")
    await session.delete(member)
    await session.flush()
    return member


async def unbind_identity(
    session: AsyncSession, ctx: StaffContext, owner_id: int, identity_id: int
) -> ChannelIdentity:
    """The chat account no longer speaks for the household (a sold unit, a lost phone)."""
    owner = await _editable_owner(session, ctx, owner_id)
    identity = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.id == identity_id, ChannelIdentity.owner_id == owner.id
        )
    )
    if identity is None:
        raise NotFound(f"no chat account with id {identity_id} on this household")
    identity.owner_id = None
    identity.verified_at = None
    await session.flush()
    return identity


async def bind_identity(
    session: AsyncSession,
    ctx: StaffContext,
    owner_id: int,
    *,
    channel: str,
    external_id: str,
    now: datetime | None = None,
) -> ChannelIdentity:
    """Staff vouch for a chat account (the owner called the front desk): bind it without
    a code. Only an account that has written to us and is bound to no household."""
    owner = await _editable_owner(session, ctx, owner_id)
    if channel not in {c.value for c in CHAT_CHANNELS}:
        raise InvalidInput(f"unknown chat channel {channel!r}")
    external_id = external_id.strip()
    identity = await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    )
    if identity is None:
        raise InvalidInput(
            f"no {channel} account {external_id!r} has written to us yet", code="unknown_identity"
        )
    if identity.owner_id == owner.id:
        raise InvalidInput("this chat account is already bound to this household")
    if identity.owner_id is not None:
        raise InvalidInput(
            "this chat account is bound to another household; unbind it there first",
            code="already_bound",
        )
    identity.owner_id = owner.id
    identity.verified_at = now or utcnow()
    identity.language = identity.language or owner.language
    await session.flush()
    return identity
