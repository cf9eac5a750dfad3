"""Owners (one file per household), their members, chat identities and staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, utcnow

if TYPE_CHECKING:
    from backend.models.org import Estate


class Owner(Base):
    """The household file (一户一档): the owner on record for a unit and the household."""

    __tablename__ = "owners"
    __table_args__ = (
        UniqueConstraint("unit_id", "phone"),
        Index("ix_owners_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(200), default="")
    birthday: Mapped[date | None] = mapped_column(default=None)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    stage: Mapped[str] = mapped_column(String(16), default="stable")
    key_owner: Mapped[bool] = mapped_column(default=False)
    moved_in_on: Mapped[date | None] = mapped_column(default=None)
    care_opt_outs: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[str] = mapped_column(default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[HouseholdMember]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", order_by="HouseholdMember.id"
    )


class HouseholdMember(Base):
    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(16), default="other")
    birthday: Mapped[date | None] = mapped_column(default=None)
    phone: Mapped[str] = mapped_column(String(32), default="")

    owner: Mapped[Owner] = relationship(back_populates="members")


class ChannelIdentity(Base):
    """A chat account (Telegram user, WeChat openid, web-chat session).

    ``owner_id`` is set only after verification, so an unverified user sees no owner data.
    """

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True, default=None)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[Owner | None] = relationship()


staff_estates = Table(
    "staff_estates",
    Base.metadata,
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True),
    Column("estate_id", ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True),
)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    estates: Mapped[list[Estate]] = relationship(secondary=staff_estates)

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username


class VerificationCode(Base):
    """A one-time code sent to the phone on file to bind a chat account to a household."""

    __tablename__ = "verification_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(
        ForeignKey("channel_identities.id", ondelete="CASCADE"), index=True
    )
    # NULL for an attempt that matched no household (counted for rate limits only).
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class AuditEntry(Base):
    """Who did what in the console, when and from where (also failed logins)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True, default=None)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[int | None] = mapped_column(default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
