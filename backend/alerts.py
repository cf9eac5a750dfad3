"""Group-complaint early warning (群诉预警) and floods of one kind of repair.

Several households raising the same problem within a short time usually means one cause
(a renovation, a broken lift, a burst pipe, a fee change) and, left alone, a group
complaint. Detection looks for, per building (or per estate for problems of the whole
estate):

- complaints with the same topic (``backend.topics``) from at least ``households``
  distinct households within ``window`` (default 3 households in 24 h);
- repairs of the same category from at least ``flood_households`` distinct households
  within ``flood_window`` (default 5 in 2 h): a lift outage, a burst riser.

A household is a unit. Per key (kind, subject, estate, building) tickets are scanned in
time order with a sliding window of the not-yet-linked tickets; when the distinct units in
it reach the threshold, one alert is created with every ticket in the window. A later
ticket of the same key within ``window`` of an alert's latest ticket joins that alert
instead of starting another, so re-running (every few minutes, or over a whole month at
once) never duplicates an alert; a new household joining an acknowledged alert opens it
again. Each linked ticket gets a ``group_alert`` event; supervisors of the estate and the
company's managers see open alerts in the console (and, if configured, the staff chat).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, desk, lifecycle, tickets, topics
from backend.access import Permission, StaffContext, staff_context
from backend.actors import SYSTEM, Actor
from backend.errors import InvalidInput, NotFound
from backend.i18n import t
from backend.messaging import OutboundMessage, enqueue, identity_for
from backend.models import (
    Building,
    Company,
    Estate,
    GroupAlert,
    GroupAlertTicket,
    Owner,
    Staff,
    Ticket,
    Unit,
    utcnow,
)
from backend.sla import STAFF_REPLY
from backend.vocabulary import Kind, RepairCategory

log = logging.getLogger(__name__)

COMPLAINT = "complaint"
FLOOD = "flood"
OPEN = "open"
ACKNOWLEDGED = "acknowledged"
BUILDING = "building"
ESTATE = "estate"

# Problems of the whole estate: counted across its buildings. The rest are local to a
# building (three households of different buildings complaining about noise are three
# different noises).
ESTATE_TOPICS = frozenset(
    {"parking", "rubbish", "pets", "security", "staff_service", "fees", "water_power", "smell"}
)
ESTATE_CATEGORIES = frozenset(
    {RepairCategory.PUBLIC_AREA.value, RepairCategory.PESTS.value, RepairCategory.ELECTRICAL.value}
)
SETTINGS_KEY = "group_alerts"


# Below these a company's setting is ignored (logged): fewer than two households is no
# group, and a window under a few minutes catches nothing. The settings page checks the same.
FLOORS = {"households": 2, "flood_households": 2, "window_hours": 0.1, "flood_window_minutes": 1}


@dataclass(frozen=True)
class Thresholds:
    """How many households in how long make a warning; companies may override each."""

    households: int = 3
    window: timedelta = timedelta(hours=24)
    flood_households: int = 5
    flood_window: timedelta = timedelta(hours=2)
    estate_topics: frozenset[str] = ESTATE_TOPICS
    estate_categories: frozenset[str] = ESTATE_CATEGORIES

    def for_company(self, settings: dict[str, Any]) -> Thresholds:
        """``Company.settings["group_alerts"]``: households, window_hours, flood_households,
        flood_window_minutes, estate_topics, estate_categories. Bad values are ignored."""
        raw = settings.get(SETTINGS_KEY)
        if not isinstance(raw, dict):
            return self
        changes: dict[str, Any] = {}
        for key, name in (("households", "households"), ("flood_households", "flood_households")):
            count = _number(raw, key, FLOORS[key])
            if count is not None:
                changes[name] = int(count)
        hours = _number(raw, "window_hours", FLOORS["window_hours"])
        if hours is not None:
            changes["window"] = timedelta(hours=hours)
        minutes = _number(raw, "flood_window_minutes", FLOORS["flood_window_minutes"])
        if minutes is not None:
            changes["flood_window"] = timedelta(minutes=minutes)
        for key in ("estate_topics", "estate_categories"):
            if isinstance(raw.get(key), list):
                changes[key] = frozenset(str(x) for x in raw[key])
        return replace(self, **changes)

    @property
    def lookback(self) -> timedelta:
        """How far back a scheduled run looks: one window to rebuild the sliding window,
        one more to catch up after the scheduler was down."""
        return 2 * max(self.window, self.flood_window)


def _number(raw: dict[str, Any], key: str, low: float) -> float | None:
    """A numeric setting of at least ``low``; anything else is ignored with a warning."""
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        log.warning("ignoring company setting group_alerts.%s=%r", key, value)
        return None
    return float(value)


@dataclass
class _Candidate:
    id: int
    estate_id: int
    building_id: int
    unit_id: int
    created_at: datetime
    alert_id: int | None


@dataclass
class _Live:
    """An alert while a run works on it: its span and households, for joining tickets."""

    alert: GroupAlert
    units: set[int]
    new_ticket_ids: list[int] = field(default_factory=list)
    created: bool = False
    reopened: bool = False


@dataclass
class DetectionReport:
    created: list[int] = field(default_factory=list)
    extended: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    linked: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "extended": self.extended,
            "reopened": self.reopened,
            "linked": self.linked,
        }

    def __bool__(self) -> bool:
        return bool(self.created or self.extended or self.reopened)


Key = tuple[str, str, int, int | None]  # kind, subject, estate, building (None: estate-wide)


async def detect_group_alerts(
    session: AsyncSession,
    now: datetime,
    *,
    households: int = 3,
    window: timedelta = timedelta(hours=24),
    flood_households: int = 5,
    flood_window: timedelta = timedelta(hours=2),
    since: datetime | None = None,
    staff_chat: str | None = None,
) -> DetectionReport:
    """Find new clusters among tickets created in ``[since, now]`` and link them.

    ``since`` defaults to ``now`` minus two windows; pass the start of a month to scan it
    in one go. The thresholds given here are defaults a company's settings override.
    With ``staff_chat`` (a Telegram chat id) new and re-opened alerts are also posted there.
    """
    base = Thresholds(households, window, flood_households, flood_window)
    report = DetectionReport()
    for company in await session.scalars(select(Company).order_by(Company.id)):
        limits = base.for_company(company.settings or {})
        start = since if since is not None else now - limits.lookback
        await _detect_company(session, company, limits, start, now, report, staff_chat)
    return report


async def _detect_company(
    session: AsyncSession,
    company: Company,
    limits: Thresholds,
    start: datetime,
    now: datetime,
    report: DetectionReport,
    staff_chat: str | None,
) -> None:
    groups: dict[Key, list[_Candidate]] = defaultdict(list)
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.kind,
            Ticket.topic,
            Ticket.category,
            Ticket.estate_id,
            Unit.building_id,
            Ticket.unit_id,
            Ticket.created_at,
            GroupAlertTicket.alert_id,
        )
        .join(Unit, Unit.id == Ticket.unit_id)
        .outerjoin(GroupAlertTicket, GroupAlertTicket.ticket_id == Ticket.id)
        .where(
            Ticket.company_id == company.id,
            Ticket.created_at >= start,
            Ticket.created_at <= now,
            Ticket.state != lifecycle.CANCELLED,
            or_(
                and_(
                    Ticket.kind == Kind.COMPLAINT.value,
                    Ticket.topic.is_not(None),
                    Ticket.topic != topics.OTHER,
                ),
                and_(
                    Ticket.kind == Kind.REPAIR.value,
                    Ticket.category.is_not(None),
                    Ticket.category != RepairCategory.OTHER.value,
                ),
            ),
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    for tid, kind, topic, category, estate_id, building_id, unit_id, created, alert_id in rows:
        assert unit_id is not None  # joined on the unit
        if kind == Kind.COMPLAINT.value:
            alert_kind, subject = COMPLAINT, str(topic)
            wide = subject in limits.estate_topics
        else:
            alert_kind, subject = FLOOD, str(category)
            wide = subject in limits.estate_categories
        key: Key = (alert_kind, subject, estate_id, None if wide else building_id)
        groups[key].append(_Candidate(tid, estate_id, building_id, unit_id, created, alert_id))
    if not groups:
        return

    live = await _recent_alerts(
        session, company.id, start - max(limits.window, limits.flood_window)
    )
    by_key: dict[Key, list[_Live]] = defaultdict(list)
    for item in live:
        a = item.alert
        by_key[(a.kind, a.subject, a.estate_id, a.building_id)].append(item)

    for key, candidates in groups.items():
        kind = key[0]
        threshold = limits.households if kind == COMPLAINT else limits.flood_households
        span = limits.window if kind == COMPLAINT else limits.flood_window
        await _scan(session, company, key, candidates, by_key[key], threshold, span, now)

    touched = [item for items in by_key.values() for item in items if item.new_ticket_ids]
    for item in touched:
        await _log_links(session, item, now)
        report.linked += len(item.new_ticket_ids)
        if item.created:
            report.created.append(item.alert.id)
        else:
            report.extended.append(item.alert.id)
        if item.reopened:
            report.reopened.append(item.alert.id)
        if staff_chat and (item.created or item.reopened):
            await _post_to_staff_chat(session, company, item, staff_chat)


async def _recent_alerts(session: AsyncSession, company_id: int, after: datetime) -> list[_Live]:
    """Alerts new tickets may still join, with the households already in them."""
    alerts = list(
        await session.scalars(
            select(GroupAlert).where(
                GroupAlert.company_id == company_id, GroupAlert.last_ticket_at >= after
            )
        )
    )
    units: dict[int, set[int]] = {a.id: set() for a in alerts}
    if alerts:
        for alert_id, unit_id in await session.execute(
            select(GroupAlertTicket.alert_id, GroupAlertTicket.unit_id).where(
                GroupAlertTicket.alert_id.in_(units)
            )
        ):
            if unit_id is not None:
                units[alert_id].add(unit_id)
    return [_Live(a, units[a.id]) for a in alerts]


def _joinable(alerts: Sequence[_Live], at: datetime, span: timedelta) -> _Live | None:
    """The latest alert a ticket created ``at`` continues: after its first ticket and no
    more than one window after its latest."""
    fitting = [
        item
        for item in alerts
        if item.alert.first_ticket_at <= at <= item.alert.last_ticket_at + span
    ]
    return max(fitting, key=lambda item: item.alert.last_ticket_at, default=None)


async def _scan(
    session: AsyncSession,
    company: Company,
    key: Key,
    candidates: list[_Candidate],
    alerts: list[_Live],
    threshold: int,
    span: timedelta,
    now: datetime,
) -> None:
    """Slide a window over one key's unlinked tickets; open or extend alerts."""
    pending: deque[_Candidate] = deque()
    units: Counter[int] = Counter()
    for ticket in candidates:
        if ticket.alert_id is not None:
            continue
        joined = _joinable(alerts, ticket.created_at, span)
        if joined is not None:
            _link(joined, [ticket], now)
            continue
        pending.append(ticket)
        units[ticket.unit_id] += 1
        while pending[0].created_at < ticket.created_at - span:
            gone = pending.popleft()
            units[gone.unit_id] -= 1
            if not units[gone.unit_id]:
                del units[gone.unit_id]
        if len(units) >= threshold:
            kind, subject, estate_id, building_id = key
            alert = GroupAlert(
                company_id=company.id,
                estate_id=estate_id,
                building_id=building_id,
                kind=kind,
                scope=ESTATE if building_id is None else BUILDING,
                subject=subject,
                state=OPEN,
                households=0,
                ticket_count=0,
                first_ticket_at=pending[0].created_at,
                last_ticket_at=ticket.created_at,
                created_at=now,
                updated_at=now,
            )
            session.add(alert)
            await session.flush()
            item = _Live(alert, set(), created=True)
            _link(item, list(pending), now)
            alerts.append(item)
            pending.clear()
            units.clear()


def _link(item: _Live, joining: Iterable[_Candidate], now: datetime) -> None:
    alert = item.alert
    for ticket in joining:
        ticket.alert_id = alert.id
        item.new_ticket_ids.append(ticket.id)
        if ticket.unit_id not in item.units:
            item.units.add(ticket.unit_id)
            if alert.state == ACKNOWLEDGED:  # a new household: news for whoever acknowledged
                alert.state = OPEN
                item.reopened = True
        alert.first_ticket_at = min(alert.first_ticket_at, ticket.created_at)
        alert.last_ticket_at = max(alert.last_ticket_at, ticket.created_at)
        alert.ticket_count += 1
        if alert.state == OPEN:
            alert.acknowledged_at = None
            alert.acknowledged_by_id = None
    alert.households = len(item.units)
    alert.updated_at = now


async def _log_links(session: AsyncSession, item: _Live, now: datetime) -> None:
    """Link rows and one ``group_alert`` event on each newly linked ticket."""
    alert = item.alert
    joined = list(await session.scalars(select(Ticket).where(Ticket.id.in_(item.new_ticket_ids))))
    for ticket in joined:
        session.add(
            GroupAlertTicket(
                alert_id=alert.id, ticket_id=ticket.id, unit_id=ticket.unit_id, added_at=now
            )
        )
        await tickets.log_event(
            session,
            ticket,
            SYSTEM,
            "group_alert",
            note=f"#{alert.id} {alert.kind}:{alert.subject} ×{alert.households}",
            data={"alert_id": alert.id, "households": alert.households, "scope": alert.scope},
            now=now,
        )
    await session.flush()


def subject_label(lang: str, kind: str, subject: str) -> str:
    """``装修`` / ``renovation`` for a complaint topic, the repair category's name for a flood."""
    return t(lang, f"topic.{subject}" if kind == COMPLAINT else f"category.{subject}")


async def _place(session: AsyncSession, alert: GroupAlert) -> tuple[Estate, Building | None]:
    estate = await session.get(Estate, alert.estate_id)
    assert estate is not None
    building = await session.get(Building, alert.building_id) if alert.building_id else None
    return estate, building


async def _post_to_staff_chat(
    session: AsyncSession, company: Company, item: _Live, chat_id: str
) -> None:
    alert = item.alert
    lang = str((company.settings or {}).get("report_language") or "zh")
    estate, building = await _place(session, alert)
    text = t(
        lang,
        "alert.staff_chat",
        subject=subject_label(lang, alert.kind, alert.subject),
        kind=t(lang, f"alert.kind.{alert.kind}"),
        place=f"{estate.name} {building.code}" if building else estate.name,
        households=alert.households,
        tickets=alert.ticket_count,
        id=alert.id,
    )
    identity = await identity_for(session, "telegram", chat_id, display_name="staff chat")
    await enqueue(
        session,
        key=f"alert:{alert.id}:{alert.households}",
        identity=identity,
        message=OutboundMessage(text),
        priority=1,
        language=lang,
    )


# --- staff actions -----------------------------------------------------------------------


def _scope(ctx: StaffContext) -> Any:
    return GroupAlert.estate_id.in_(ctx.estate_ids)


async def visible_alert(session: AsyncSession, ctx: StaffContext, alert_id: int) -> GroupAlert:
    """An alert the staff member may see: supervisors their estates, managers the company."""
    ctx.require(Permission.VIEW_REPORTS)
    alert = await session.scalar(select(GroupAlert).where(GroupAlert.id == alert_id, _scope(ctx)))
    if alert is None:
        raise NotFound(f"no alert with id {alert_id}")
    return alert


async def open_count(session: AsyncSession, ctx: StaffContext) -> int:
    """For the console header: open alerts this person should look at."""
    if not ctx.can(Permission.VIEW_REPORTS):
        return 0
    count = await session.scalar(
        select(func.count()).select_from(GroupAlert).where(GroupAlert.state == OPEN, _scope(ctx))
    )
    return int(count or 0)


@dataclass(frozen=True)
class AlertRow:
    alert: GroupAlert
    estate: Estate
    building_code: str | None
    acknowledged_by: str | None


async def list_alerts(
    session: AsyncSession, ctx: StaffContext, *, state: str | None = OPEN, limit: int = 200
) -> list[AlertRow]:
    ctx.require(Permission.VIEW_REPORTS)
    query = (
        select(GroupAlert, Estate, Building.code, Staff.display_name, Staff.username)
        .join(Estate, Estate.id == GroupAlert.estate_id)
        .outerjoin(Building, Building.id == GroupAlert.building_id)
        .outerjoin(Staff, Staff.id == GroupAlert.acknowledged_by_id)
        .where(_scope(ctx))
        .order_by(GroupAlert.last_ticket_at.desc(), GroupAlert.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(GroupAlert.state == state)
    return [
        AlertRow(alert, estate, code, name or username)
        for alert, estate, code, name, username in await session.execute(query)
    ]


@dataclass(frozen=True)
class LinkedTicket:
    ticket: Ticket
    unit_number: str | None
    owner_name: str | None


@dataclass(frozen=True)
class AlertDetail:
    row: AlertRow
    tickets: list[LinkedTicket]

    @property
    def alert(self) -> GroupAlert:
        return self.row.alert


async def alert_detail(session: AsyncSession, ctx: StaffContext, alert_id: int) -> AlertDetail:
    alert = await visible_alert(session, ctx, alert_id)
    estate, building = await _place(session, alert)
    by = await session.get(Staff, alert.acknowledged_by_id) if alert.acknowledged_by_id else None
    linked = [
        LinkedTicket(ticket, unit, owner)
        for ticket, unit, owner in await session.execute(
            select(Ticket, Unit.number, Owner.name)
            .join(GroupAlertTicket, GroupAlertTicket.ticket_id == Ticket.id)
            .outerjoin(Unit, Unit.id == Ticket.unit_id)
            .outerjoin(Owner, Owner.id == Ticket.owner_id)
            .where(GroupAlertTicket.alert_id == alert.id)
            .order_by(Ticket.created_at, Ticket.id)
        )
    ]
    row = AlertRow(
        alert, estate, building.code if building else None, by.shown_name if by else None
    )
    return AlertDetail(row, linked)


async def acknowledge(
    session: AsyncSession,
    alert: GroupAlert,
    staff: Staff,
    *,
    now: datetime | None = None,
    ip: str = "",
) -> GroupAlert:
    """Someone responsible has seen it: it leaves the banner (until new households join)."""
    ctx = await staff_context(session, staff)
    alert = await visible_alert(session, ctx, alert.id)
    if alert.state == ACKNOWLEDGED:
        return alert
    now = now or utcnow()
    alert.state = ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by_id = staff.id
    alert.updated_at = now
    await audit.record(
        session,
        "alert_acknowledge",
        staff=staff,
        target_type="group_alert",
        target_id=alert.id,
        detail={"households": alert.households, "tickets": alert.ticket_count},
        ip=ip,
        now=now,
    )
    return alert


@dataclass(frozen=True)
class ReplyOutcome:
    """Who got the answer in chat, and whose tickets need a phone call instead."""

    owners: int
    replied_ticket_ids: list[int]
    unreachable_ticket_ids: list[int]


async def reply_to_all(
    session: AsyncSession,
    alert: GroupAlert,
    staff: Staff,
    text: str,
    *,
    now: datetime | None = None,
    ip: str = "",
) -> ReplyOutcome:
    """One staff answer to every household of the alert: one message per owner (on their
    latest linked ticket), each linked ticket's reply promise kept, the whole audited.

    Replying also acknowledges the alert.
    """
    ctx = await staff_context(session, staff)
    ctx.require(Permission.REPLY)
    alert = await visible_alert(session, ctx, alert.id)
    text = text.strip()
    if not text:
        raise InvalidInput("a reply needs some text")
    now = now or utcnow()
    linked = list(
        await session.scalars(
            select(Ticket)
            .join(GroupAlertTicket, GroupAlertTicket.ticket_id == Ticket.id)
            .where(GroupAlertTicket.alert_id == alert.id)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        )
    )
    by_person: dict[tuple[str, int | None], list[Ticket]] = defaultdict(list)
    for ticket in linked:
        person = ("owner", ticket.owner_id) if ticket.owner_id else ("chat", ticket.identity_id)
        by_person[person].append(ticket)
    replied: list[int] = []
    unreachable: list[int] = []
    owners = 0
    actor = Actor.of_staff(staff)
    for theirs in by_person.values():
        latest, *others = theirs
        try:
            async with session.begin_nested():
                await desk.reply(session, staff, text, ticket=latest, now=now)
        except NotFound:  # no chat account: the front desk phones them
            unreachable.extend(tk.id for tk in theirs)
            continue
        owners += 1
        replied.append(latest.id)
        for ticket in others:
            await tickets.record(
                session, ticket, STAFF_REPLY, actor, note=f"group reply (alert {alert.id})", now=now
            )
            replied.append(ticket.id)
    if alert.state == OPEN:
        alert.state = ACKNOWLEDGED
        alert.acknowledged_at = now
        alert.acknowledged_by_id = staff.id
    alert.replied_at = now
    alert.replied_by_id = staff.id
    alert.updated_at = now
    await audit.record(
        session,
        "alert_reply_all",
        staff=staff,
        target_type="group_alert",
        target_id=alert.id,
        detail={
            "owners": owners,
            "tickets": sorted(replied),
            "unreachable": sorted(unreachable),
            "text": text[:500],
        },
        ip=ip,
        now=now,
    )
    return ReplyOutcome(owners, sorted(replied), sorted(unreachable))
