"""The words of the domain (DOMAIN.md), shared by models, services and channels."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    REPAIR = "repair"
    COMPLAINT = "complaint"
    ENQUIRY = "enquiry"


KIND_PREFIX: dict[Kind, str] = {Kind.REPAIR: "R", Kind.COMPLAINT: "C", Kind.ENQUIRY: "E"}


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    WEBCHAT = "webchat"
    CONSOLE = "console"  # entered by staff, e.g. a phone call written down
    PHONE = "phone"
    RASA = "rasa"  # a site's own Rasa assistant: it asks, OwnerDesk cannot push to it


# Channels OwnerDesk can send to on its own (updates, staff replies, care messages).
PUSH_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WECHAT, Channel.WEBCHAT})


class Role(StrEnum):
    AGENT = "agent"
    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"
    ADMIN = "admin"


class Stage(StrEnum):
    """Owner life stages: 准业主 / 磨合期 / 稳定期 / 老业主."""

    PROSPECTIVE = "prospective"
    RUNNING_IN = "running_in"
    STABLE = "stable"
    VETERAN = "veteran"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class RepairCategory(StrEnum):
    WATER_LEAK = "water_leak"
    CRACK = "crack"
    DOOR_WINDOW = "door_window"
    ELECTRICAL = "electrical"
    PLUMBING = "plumbing"
    LIFT = "lift"
    HEATING_AC = "heating_ac"
    PESTS = "pests"
    PUBLIC_AREA = "public_area"
    OTHER = "other"


# Leaks and cracks get a second callback two months after the work (DOMAIN.md).
MAJOR_REPAIR_CATEGORIES = frozenset({RepairCategory.WATER_LEAK, RepairCategory.CRACK})


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # permanent: blocked bot, unsubscribed user, retries exhausted
    CANCELLED = "cancelled"
    HELD = "held"  # a paused campaign's messages: not sent until resumed


class DeadlineState(StrEnum):
    PENDING = "pending"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"  # the ticket was cancelled before the promise was due


class CareType(StrEnum):
    """Care messages an owner may opt out of; repair and complaint updates always go."""

    BIRTHDAY = "birthday"
    HOLIDAY = "holiday"
    WARRANTY = "warranty"
    BULLETIN = "bulletin"
    CAMPAIGN = "campaign"
    ACTIVITY = "activity"


class Relation(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    ELDER = "elder"
    SERVICEMAN = "serviceman"
    OTHER = "other"
