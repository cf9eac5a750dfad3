"""Binding a chat account to a household: estate + unit + the phone on file, confirmed
by a one-time code sent to that phone. Until then the account sees no owner data.

The answer to a wrong estate/unit/phone is the same as to a right one ("if the details
match, a code was sent"), so the bot cannot be used to find out who lives where.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import DomainError
from backend.fields import normalize_phone
from backend.models import ChannelIdentity, Estate, Owner, Unit, VerificationCode, utcnow

log = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS_PER_CODE = 5
MAX_CODES_PER_IDENTITY_PER_HOUR = 3
MAX_CODES_PER_PHONE_PER_DAY = 5


class CodeSender(Protocol):
    """Delivers a verification code to a phone (an SMS gateway in production)."""

    async def send(self, phone: str, code: str, language: str) -> None: ...


class LogCodeSender:
    """The demo sender: the code goes to the service log, for trying the flow locally."""

    async def send(self, phone: str, code: str, language: str) -> None:
        log.warning(
            "verification code for %s: %s (demo sender: configure SMS for real use)",
            mask_phone(phone),
            code,
        )


class CodeNotSent(DomainError):
    """The SMS gateway did not take the code: the owner is asked to try again later."""

    code = "code_not_sent"
    http_status = 503


class RateLimited(DomainError):
    code = "rate_limited"
    http_status = 429


def mask_phone(phone: str) -> str:
    digits = phone.lstrip("+")
    return phone[:3] + "****" + phone[-4:] if len(digits) >= 8 else "****"


_UNIT_PATTERNS = (
    re.compile(
        r"^\s*([a-z0-9]{1,4})\s*[-\s#栋座幢号楼]\s*(\d{1,2})\s*[-\s单元门]*\s*(\d{3,4})\s*室?\s*$",
        re.I,
    ),
    re.compile(r"^\s*([a-z])(\d)(\d{3,4})\s*$", re.I),
)


def normalize_unit_text(text: str) -> str | None:
    """``A-1-101``, ``a 1 101``, ``A栋1单元101``, ``3栋2单元1101`` → ``A-1-101`` style."""
    cleaned = text.strip().upper().replace("—", "-").replace("－", "-")
    for pattern in _UNIT_PATTERNS:
        if m := pattern.match(cleaned):
            return f"{m.group(1).upper()}-{int(m.group(2))}-{m.group(3)}"
    return None


def _hash(code: str, secret: str) -> str:
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CodeRequest:
    sent: bool  # False when nothing matched (the owner is told the same thing either way)
    masked_phone: str


async def find_household(
    session: AsyncSession, estate_id: int, unit_text: str, phone_text: str
) -> Owner | None:
    unit_number = normalize_unit_text(unit_text)
    try:
        phone = normalize_phone(phone_text)
    except DomainError:
        return None
    if unit_number is None:
        return None
    return await session.scalar(
        select(Owner)
        .join(Unit, Unit.id == Owner.unit_id)
        .where(Unit.estate_id == estate_id, Unit.number == unit_number, Owner.phone == phone)
    )


async def request_code(
    session: AsyncSession,
    identity: ChannelIdentity,
    *,
    estate_id: int,
    unit_text: str,
    phone_text: str,
    sender: CodeSender,
    secret: str,
    language: str,
    now: datetime | None = None,
) -> CodeRequest:
    """Send a code when estate, unit and phone match a household; rate-limited either way."""
    now = now or utcnow()
    recent = await session.scalar(
        select(func.count())
        .select_from(VerificationCode)
        .where(
            VerificationCode.identity_id == identity.id,
            VerificationCode.created_at > now - timedelta(hours=1),
        )
    )
    if (recent or 0) >= MAX_CODES_PER_IDENTITY_PER_HOUR:
        raise RateLimited("too many codes requested from this chat in the last hour")
    owner = await find_household(session, estate_id, unit_text, phone_text)
    try:
        masked = mask_phone(normalize_phone(phone_text))
    except DomainError:
        masked = "****"
    if owner is None:
        log.info("binding attempt without a match from identity %s", identity.id)
        # Count the miss too, so guessing costs the same as trying.
        session.add(
            VerificationCode(
                identity_id=identity.id,
                owner_id=None,
                phone="",
                code_hash="",
                attempts=MAX_ATTEMPTS_PER_CODE,
                created_at=now,
                expires_at=now,
            )
        )
        await session.flush()
        return CodeRequest(False, masked)
    per_phone = await session.scalar(
        select(func.count())
        .select_from(VerificationCode)
        .where(
            VerificationCode.phone == owner.phone,
            VerificationCode.created_at > now - timedelta(days=1),
        )
    )
    if (per_phone or 0) >= MAX_CODES_PER_PHONE_PER_DAY:
        raise RateLimited("too many codes sent to this phone today")
    code = f"{secrets.randbelow(1_000_000):06d}"
    await session.execute(
        update(VerificationCode)
        .where(VerificationCode.identity_id == identity.id, VerificationCode.used_at.is_(None))
        .values(expires_at=now)
    )
    session.add(
        VerificationCode(
            identity_id=identity.id,
            owner_id=owner.id,
            phone=owner.phone,
            code_hash=_hash(code, secret),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    await session.flush()
    await sender.send(owner.phone, code, language)
    return CodeRequest(True, masked)


async def confirm_code(
    session: AsyncSession,
    identity: ChannelIdentity,
    code_text: str,
    *,
    secret: str,
    now: datetime | None = None,
) -> Owner | None:
    """Bind ``identity`` to the household when the code is right; None otherwise."""
    now = now or utcnow()
    pending = await session.scalar(
        select(VerificationCode)
        .where(
            VerificationCode.identity_id == identity.id,
            VerificationCode.used_at.is_(None),
            VerificationCode.expires_at > now,
            VerificationCode.owner_id.is_not(None),
        )
        .order_by(VerificationCode.id.desc())
        .limit(1)
    )
    if pending is None or pending.attempts >= MAX_ATTEMPTS_PER_CODE:
        return None
    pending.attempts += 1
    code = re.sub(r"\D", "", code_text)
    if not hmac.compare_digest(pending.code_hash, _hash(code, secret)):
        await session.flush()
        return None
    pending.used_at = now
    owner = await session.get(Owner, pending.owner_id)
    assert owner is not None
    identity.owner_id = owner.id
    identity.verified_at = now
    await session.flush()
    return owner


async def estates_of_company(session: AsyncSession, company_id: int | None = None) -> list[Estate]:
    query = select(Estate).order_by(Estate.id)
    if company_id is not None:
        query = query.where(Estate.company_id == company_id)
    return list(await session.scalars(query))
