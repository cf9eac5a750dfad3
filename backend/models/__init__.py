"""The OwnerDesk schema. Import models from here."""

from backend.models.alerts import GroupAlert, GroupAlertTicket, ReportSnapshot
from backend.models.base import Base, UTCDateTime, utcnow
from backend.models.content import Campaign, KbEntry
from backend.models.messaging import Conversation, Message, OutboxItem, PlatformState
from backend.models.org import (
    Building,
    Company,
    CompanyHoliday,
    Estate,
    SlaPolicy,
    Unit,
    WarrantyItem,
)
from backend.models.people import (
    AuditEntry,
    ChannelIdentity,
    HouseholdMember,
    Owner,
    Staff,
    VerificationCode,
    staff_estates,
)
from backend.models.tickets import (
    CallbackTask,
    Deadline,
    Rating,
    Ticket,
    TicketCounter,
    TicketEvent,
)

__all__ = [
    "AuditEntry",
    "Base",
    "Building",
    "CallbackTask",
    "Campaign",
    "ChannelIdentity",
    "Company",
    "CompanyHoliday",
    "Conversation",
    "Deadline",
    "Estate",
    "GroupAlert",
    "GroupAlertTicket",
    "HouseholdMember",
    "KbEntry",
    "Message",
    "OutboxItem",
    "Owner",
    "PlatformState",
    "Rating",
    "ReportSnapshot",
    "SlaPolicy",
    "Staff",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
    "UTCDateTime",
    "Unit",
    "VerificationCode",
    "WarrantyItem",
    "staff_estates",
    "utcnow",
]
