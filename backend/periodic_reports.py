"""The daily complaint report (投诉日报) and the monthly report with trends.

Both are computed per estate and stored as a snapshot row (``report_snapshots``): the
console, the CLI and the staff chat then show the same figures, and a ticket edited later
does not rewrite what management was told. Figures are counts per estate, so a
supervisor's view is the sum over their estates and a manager's over the company; rates
are derived from the counts when shown.

Days and months are the company's local ones. The scheduled jobs run hourly and make a
report only once it is due (after ``report_hour`` local time, default 08:00) and not yet
stored, so any time zone works and a scheduler that was down catches up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend import lifecycle
from backend.access import Permission, StaffContext
from backend.alerts import OPEN, subject_label
from backend.errors import InvalidInput, NotFound
from backend.i18n import t
from backend.messaging import OutboundMessage, enqueue, identity_for
from backend.models import (
    Building,
    Company,
    Deadline,
    Estate,
    GroupAlert,
    Rating,
    ReportSnapshot,
    Ticket,
    utcnow,
)
from backend.vocabulary import DeadlineState, Kind

DAILY = "daily"
MONTHLY = "monthly"
DEFAULT_REPORT_HOUR = 8
SATISFIED = 4  # "satisfied" or "very satisfied" on the 5-point scale

DAILY_COUNTS = (
    "complaints_new",
    "complaints_closed",
    "complaints_overdue",
    "complaints_open",
    "repairs_new",
    "urgent_new",
    "alerts_new",
    "alerts_open",
)
MONTHLY_COUNTS = (
    "tickets",
    "repairs",
    "complaints",
    "enquiries",
    "urgent",
    "complaints_eligible",
    "complaints_resolved",
    "ratings",
    "ratings_satisfied",
    "rating_points",
    "deadlines_due",
    "deadlines_on_time",
    "repeat_repairs",
    "alerts",
)


# --- periods -------------------------------------------------------------------------------


def zone_of(company: Company) -> ZoneInfo:
    return ZoneInfo(company.timezone or "Asia/Shanghai")


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day as UTC instants [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def parse_month(value: str) -> date:
    """``2026-11`` → 1 November 2026."""
    try:
        year, month = (int(x) for x in value.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidInput(f"a month is YYYY-MM, not {value!r}") from None


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_bounds(first: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time(0), tzinfo=tz),
        datetime.combine(next_month(first), time(0), tzinfo=tz),
    )


def _report_hour(company: Company) -> int:
    value = (company.settings or {}).get("report_hour", DEFAULT_REPORT_HOUR)
    return value if isinstance(value, int) and 0 <= value <= 23 else DEFAULT_REPORT_HOUR


def report_language(company: Company) -> str:
    return str((company.settings or {}).get("report_language") or "zh")


# --- counting helpers ----------------------------------------------------------------------


async def _estates(session: AsyncSession, company: Company) -> list[Estate]:
    return list(
        await session.scalars(
            select(Estate).where(Estate.company_id == company.id).order_by(Estate.id)
        )
    )


async def _count_by_estate(session: AsyncSession, company: Company, *where: Any) -> dict[int, int]:
    rows = await session.execute(
        select(Ticket.estate_id, func.count())
        .where(Ticket.company_id == company.id, *where)
        .group_by(Ticket.estate_id)
    )
    return {estate_id: int(n) for estate_id, n in rows}


def _sum(rows: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> dict[str, int]:
    keys = list(keys)
    total = dict.fromkeys(keys, 0)
    for row in rows:
        for key in keys:
            total[key] += int(row.get(key, 0))
    return total


def _merge_counters(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for row in rows:
        for key, n in row.items():
            total[key] = total.get(key, 0) + int(n)
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))


def _estate_head(estate: Estate) -> dict[str, Any]:
    return {"id": estate.id, "code": estate.code, "name": estate.name, "name_en": estate.name_en}


# --- daily ---------------------------------------------------------------------------------


async def build_daily(
    session: AsyncSession, company: Company, day: date, now: datetime
) -> dict[str, Any]:
    """Yesterday's complaints per estate: new (by topic), closed, overdue, still open;
    new repairs and emergencies; group alerts raised."""
    start, end = day_bounds(day, zone_of(company))
    complaint = Ticket.kind == Kind.COMPLAINT.value
    not_cancelled = Ticket.state != lifecycle.CANCELLED
    new = await _count_by_estate(
        session, company, complaint, Ticket.created_at >= start, Ticket.created_at < end
    )
    closed = await _count_by_estate(
        session,
        company,
        complaint,
        not_cancelled,
        Ticket.resolved_at >= start,
        Ticket.resolved_at < end,
    )
    still_open = await _count_by_estate(
        session,
        company,
        complaint,
        not_cancelled,
        Ticket.created_at < end,
        or_(Ticket.resolved_at.is_(None), Ticket.resolved_at >= end),
        or_(Ticket.closed_at.is_(None), Ticket.closed_at >= end),
    )
    late = (
        select(Deadline.ticket_id)
        .where(
            Deadline.due_at < end,
            Deadline.state != DeadlineState.CANCELLED.value,
            or_(Deadline.met_at.is_(None), Deadline.met_at >= end),
        )
        .distinct()
    )
    overdue = await _count_by_estate(
        session, company, complaint, not_cancelled, Ticket.created_at < end, Ticket.id.in_(late)
    )
    repairs = await _count_by_estate(
        session,
        company,
        Ticket.kind == Kind.REPAIR.value,
        Ticket.created_at >= start,
        Ticket.created_at < end,
    )
    urgent = await _count_by_estate(
        session, company, Ticket.urgent, Ticket.created_at >= start, Ticket.created_at < end
    )
    topics: dict[int, dict[str, int]] = {}
    for estate_id, topic, n in await session.execute(
        select(Ticket.estate_id, Ticket.topic, func.count())
        .where(
            Ticket.company_id == company.id,
            complaint,
            Ticket.created_at >= start,
            Ticket.created_at < end,
        )
        .group_by(Ticket.estate_id, Ticket.topic)
    ):
        topics.setdefault(estate_id, {})[topic or "other"] = int(n)
    alerts: dict[int, list[dict[str, Any]]] = {}
    for alert, building in await session.execute(
        select(GroupAlert, Building.code)
        .outerjoin(Building, Building.id == GroupAlert.building_id)
        .where(
            GroupAlert.company_id == company.id,
            GroupAlert.created_at >= start,
            GroupAlert.created_at < end,
        )
        .order_by(GroupAlert.id)
    ):
        alerts.setdefault(alert.estate_id, []).append(
            {
                "id": alert.id,
                "kind": alert.kind,
                "subject": alert.subject,
                "scope": alert.scope,
                "building": building,
                "households": alert.households,
                "tickets": alert.ticket_count,
                "state": alert.state,
            }
        )
    open_alerts = {
        estate_id: int(n)
        for estate_id, n in await session.execute(
            select(GroupAlert.estate_id, func.count())
            .where(GroupAlert.company_id == company.id, GroupAlert.state == OPEN)
            .group_by(GroupAlert.estate_id)
        )
    }
    estates = []
    for estate in await _estates(session, company):
        e = estate.id
        estates.append(
            {
                **_estate_head(estate),
                "complaints_new": new.get(e, 0),
                "complaints_closed": closed.get(e, 0),
                "complaints_overdue": overdue.get(e, 0),
                "complaints_open": still_open.get(e, 0),
                "repairs_new": repairs.get(e, 0),
                "urgent_new": urgent.get(e, 0),
                "alerts_new": len(alerts.get(e, [])),
                "alerts_open": open_alerts.get(e, 0),
                "by_topic": dict(sorted(topics.get(e, {}).items(), key=lambda kv: -kv[1])),
                "alerts": alerts.get(e, []),
            }
        )
    return {
        "kind": DAILY,
        "date": day.isoformat(),
        "company": company.code,
        "timezone": company.timezone,
        "generated_at": now.isoformat(),
        "estates": estates,
    }


def daily_view(data: Mapping[str, Any], estate_ids: Iterable[int] | None = None) -> dict[str, Any]:
    """The report as one person may see it: their estates, and totals over those."""
    allowed = None if estate_ids is None else set(estate_ids)
    estates = [e for e in data.get("estates", []) if allowed is None or e["id"] in allowed]
    totals: dict[str, Any] = _sum(estates, DAILY_COUNTS)
    totals["by_topic"] = _merge_counters(e.get("by_topic", {}) for e in estates)
    return {
        **{k: v for k, v in data.items() if k != "estates"},
        "estates": estates,
        "totals": totals,
        "alerts": [a | {"estate": e["code"]} for e in estates for a in e.get("alerts", [])],
    }


def daily_text(data: Mapping[str, Any], lang: str) -> str:
    """The staff-chat message: a few lines a manager reads on a phone."""
    view = daily_view(data)
    totals = view["totals"]
    topic_part = "、" if lang == "zh" else ", "
    top = topic_part.join(
        f"{t(lang, f'topic.{k}')} {n}" for k, n in list(totals["by_topic"].items())[:5]
    )
    lines = [
        t(lang, "periodic.daily.title", date=view["date"]),
        t(lang, "periodic.daily.line_new", n=totals["complaints_new"], topics=top or "—"),
        t(
            lang,
            "periodic.daily.line_status",
            closed=totals["complaints_closed"],
            overdue=totals["complaints_overdue"],
            open=totals["complaints_open"],
        ),
        t(
            lang,
            "periodic.daily.line_repairs",
            n=totals["repairs_new"],
            urgent=totals["urgent_new"],
        ),
        t(lang, "periodic.daily.line_alerts", new=totals["alerts_new"], open=totals["alerts_open"]),
    ]
    for alert in view["alerts"][:10]:
        place = alert["estate"] + (f" {alert['building']}" if alert.get("building") else "")
        label = subject_label(lang, alert["kind"], alert["subject"])
        lines.append(f"· {place} {label} ×{alert['households']}")
    for estate in view["estates"]:
        lines.append(
            t(
                lang,
                "periodic.daily.line_estate",
                estate=estate["code"],
                new=estate["complaints_new"],
                closed=estate["complaints_closed"],
                overdue=estate["complaints_overdue"],
            )
        )
    return "\n".join(lines)


# --- monthly -------------------------------------------------------------------------------


async def _month_counts(
    session: AsyncSession, company: Company, start: datetime, end: datetime, now: datetime
) -> dict[int, dict[str, int]]:
    """Raw counts per estate for [start, end); rates are derived from them when shown."""
    created = and_(Ticket.created_at >= start, Ticket.created_at < end)
    counts: dict[str, dict[int, int]] = {}
    counts["tickets"] = await _count_by_estate(session, company, created)
    for key, kind in (("repairs", Kind.REPAIR), ("complaints", Kind.COMPLAINT)):
        counts[key] = await _count_by_estate(session, company, created, Ticket.kind == kind.value)
    counts["enquiries"] = await _count_by_estate(
        session, company, created, Ticket.kind == Kind.ENQUIRY.value
    )
    counts["urgent"] = await _count_by_estate(session, company, created, Ticket.urgent)
    complaint = and_(created, Ticket.kind == Kind.COMPLAINT.value)
    not_cancelled = Ticket.state != lifecycle.CANCELLED
    counts["complaints_eligible"] = await _count_by_estate(
        session, company, complaint, not_cancelled
    )
    counts["complaints_resolved"] = await _count_by_estate(
        session,
        company,
        complaint,
        not_cancelled,
        Ticket.resolved_at.is_not(None),
        Ticket.resolved_at < end,
    )
    counts["repeat_repairs"] = await _count_by_estate(
        session, company, created, Ticket.kind == Kind.REPAIR.value, Ticket.is_repeat
    )
    ratings: dict[str, dict[int, int]] = {
        "ratings": {},
        "ratings_satisfied": {},
        "rating_points": {},
    }
    for estate_id, n, satisfied, points in await session.execute(
        select(
            Ticket.estate_id,
            func.count(),
            func.sum(case((Rating.score >= SATISFIED, 1), else_=0)),
            func.sum(Rating.score),
        )
        .join(Ticket, Ticket.id == Rating.ticket_id)
        .where(Ticket.company_id == company.id, Rating.created_at >= start, Rating.created_at < end)
        .group_by(Ticket.estate_id)
    ):
        ratings["ratings"][estate_id] = int(n)
        ratings["ratings_satisfied"][estate_id] = int(satisfied or 0)
        ratings["rating_points"][estate_id] = int(points or 0)
    counts |= ratings
    due_by = min(end, now)
    sla: dict[str, dict[int, int]] = {"deadlines_due": {}, "deadlines_on_time": {}}
    for estate_id, n, on_time in await session.execute(
        select(
            Ticket.estate_id,
            func.count(),
            func.sum(
                case(
                    (and_(Deadline.met_at.is_not(None), Deadline.met_at <= Deadline.due_at), 1),
                    else_=0,
                )
            ),
        )
        .join(Ticket, Ticket.id == Deadline.ticket_id)
        .where(
            Ticket.company_id == company.id,
            Deadline.due_at >= start,
            Deadline.due_at < due_by,
            Deadline.state != DeadlineState.CANCELLED.value,
        )
        .group_by(Ticket.estate_id)
    ):
        sla["deadlines_due"][estate_id] = int(n)
        sla["deadlines_on_time"][estate_id] = int(on_time or 0)
    counts |= sla
    counts["alerts"] = {
        estate_id: int(n)
        for estate_id, n in await session.execute(
            select(GroupAlert.estate_id, func.count())
            .where(
                GroupAlert.company_id == company.id,
                GroupAlert.created_at >= start,
                GroupAlert.created_at < end,
            )
            .group_by(GroupAlert.estate_id)
        )
    }
    estate_ids = {e for per in counts.values() for e in per}
    return {e: {key: counts[key].get(e, 0) for key in MONTHLY_COUNTS} for e in estate_ids}


async def build_monthly(
    session: AsyncSession, company: Company, first: date, now: datetime
) -> dict[str, Any]:
    """One month's counts per estate next to the previous month's, for the trends."""
    tz = zone_of(company)
    before = previous_month(first)
    current = await _month_counts(session, company, *month_bounds(first, tz), now)
    previous = await _month_counts(session, company, *month_bounds(before, tz), now)
    empty = dict.fromkeys(MONTHLY_COUNTS, 0)
    return {
        "kind": MONTHLY,
        "month": f"{first:%Y-%m}",
        "previous_month": f"{before:%Y-%m}",
        "company": company.code,
        "timezone": company.timezone,
        "generated_at": now.isoformat(),
        "estates": [
            {
                **_estate_head(estate),
                "current": current.get(estate.id, empty),
                "previous": previous.get(estate.id, empty),
            }
            for estate in await _estates(session, company)
        ],
    }


@dataclass(frozen=True)
class Metric:
    """One line of the monthly report: this month, last month and which way it went."""

    key: str
    current: float | None
    previous: float | None
    percent: bool  # a rate shown as %, its delta in percentage points
    higher_is_better: bool | None

    @property
    def delta(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 1 if self.percent else 2)

    @property
    def arrow(self) -> str:
        delta = self.delta
        if not delta:
            return "→"
        return "↑" if delta > 0 else "↓"

    @property
    def trend(self) -> str:
        """good / bad / flat: the colour of the arrow."""
        delta = self.delta
        if not delta or self.higher_is_better is None:
            return "flat"
        return "good" if (delta > 0) == self.higher_is_better else "bad"

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "current": self.current,
            "previous": self.previous,
            "delta": self.delta,
            "arrow": self.arrow,
            "trend": self.trend,
            "percent": self.percent,
        }


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _metrics(cur: Mapping[str, int], prev: Mapping[str, int]) -> list[Metric]:
    def pair(part: str, whole: str) -> tuple[float | None, float | None]:
        return _rate(cur[part], cur[whole]), _rate(prev[part], prev[whole])

    def avg(c: Mapping[str, int]) -> float | None:
        return round(c["rating_points"] / c["ratings"], 2) if c["ratings"] else None

    metrics = [
        Metric(key, cur[key], prev[key], False, None)
        for key in ("tickets", "repairs", "complaints", "enquiries")
    ]
    metrics.append(Metric("urgent", cur["urgent"], prev["urgent"], False, False))
    metrics.append(
        Metric("closure_rate", *pair("complaints_resolved", "complaints_eligible"), True, True)
    )
    metrics.append(Metric("satisfaction", *pair("ratings_satisfied", "ratings"), True, True))
    metrics.append(Metric("average_score", avg(cur), avg(prev), False, True))
    metrics.append(Metric("sla_rate", *pair("deadlines_on_time", "deadlines_due"), True, True))
    metrics.append(Metric("repeat_rate", *pair("repeat_repairs", "repairs"), True, False))
    metrics.append(Metric("alerts", cur["alerts"], prev["alerts"], False, False))
    return metrics


def monthly_view(
    data: Mapping[str, Any], estate_ids: Iterable[int] | None = None
) -> dict[str, Any]:
    """Totals, rates and trends over the estates one person may see, and per estate."""
    allowed = None if estate_ids is None else set(estate_ids)
    estates = [e for e in data.get("estates", []) if allowed is None or e["id"] in allowed]
    current = _sum((e["current"] for e in estates), MONTHLY_COUNTS)
    previous = _sum((e["previous"] for e in estates), MONTHLY_COUNTS)
    return {
        **{k: v for k, v in data.items() if k != "estates"},
        "totals": {"current": current, "previous": previous},
        "metrics": [m.as_json() for m in _metrics(current, previous)],
        "estates": [
            {
                **{k: v for k, v in e.items() if k not in ("current", "previous")},
                "metrics": [m.as_json() for m in _metrics(e["current"], e["previous"])],
            }
            for e in estates
        ],
    }


def format_value(value: float | None, percent: bool) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value:.1f}%"
    return f"{value:g}"


def format_delta(metric: Mapping[str, Any]) -> str:
    delta = metric["delta"]
    if delta is None:
        return ""
    unit = " pp" if metric["percent"] else ""
    return f"{metric['arrow']} {delta:+g}{unit}"


def monthly_text(data: Mapping[str, Any], lang: str) -> str:
    view = monthly_view(data)
    lines = [
        t(lang, "periodic.monthly.title", month=view["month"], previous=view["previous_month"])
    ]
    for metric in view["metrics"]:
        lines.append(
            f"{t(lang, 'periodic.metric.' + metric['key'])}: "
            f"{format_value(metric['current'], metric['percent'])} {format_delta(metric)}".rstrip()
        )
    return "\n".join(lines)


# --- storing and sending -------------------------------------------------------------------


async def _store(
    session: AsyncSession,
    company: Company,
    kind: str,
    period: str,
    bounds: tuple[datetime, datetime],
    data: dict[str, Any],
    now: datetime,
) -> ReportSnapshot:
    """Insert or refresh the one snapshot of this company, kind and period."""
    where = (
        ReportSnapshot.company_id == company.id,
        ReportSnapshot.kind == kind,
        ReportSnapshot.period == period,
    )
    snapshot = await session.scalar(select(ReportSnapshot).where(*where))
    if snapshot is None:
        snapshot = ReportSnapshot(company_id=company.id, kind=kind, period=period)
        try:
            async with session.begin_nested():
                snapshot.period_start, snapshot.period_end = bounds
                snapshot.data, snapshot.created_at = data, now
                session.add(snapshot)
                await session.flush()
            return snapshot
        except IntegrityError:  # made at the same moment by the job or the CLI
            found = await session.scalar(select(ReportSnapshot).where(*where))
            assert found is not None
            snapshot = found
    snapshot.period_start, snapshot.period_end = bounds
    snapshot.data, snapshot.created_at = data, now
    return snapshot


async def _send(session: AsyncSession, company: Company, key: str, text: str, chat_id: str) -> bool:
    """Queue a report for the staff Telegram chat; the key makes it once per period."""
    identity = await identity_for(session, "telegram", chat_id, display_name="staff chat")
    companies = await session.scalar(select(func.count()).select_from(Company))
    if (companies or 0) > 1:  # one staff chat, several companies: one message each
        key = f"{key}:{company.code}"
    queued = await enqueue(
        session,
        key=key,
        identity=identity,
        message=OutboundMessage(text[:4000]),
        language=report_language(company),
    )
    return queued is not None


async def daily_report(
    session: AsyncSession,
    company: Company,
    day: date,
    now: datetime | None = None,
    *,
    staff_chat: str | None = None,
) -> ReportSnapshot:
    """Compute, store (or refresh) and, with ``staff_chat``, post one day's report."""
    now = now or utcnow()
    data = await build_daily(session, company, day, now)
    snapshot = await _store(
        session, company, DAILY, day.isoformat(), day_bounds(day, zone_of(company)), data, now
    )
    if staff_chat:
        text = daily_text(data, report_language(company))
        await _send(session, company, f"report:daily:{day.isoformat()}", text, staff_chat)
    return snapshot


async def monthly_report(
    session: AsyncSession,
    company: Company,
    first: date,
    now: datetime | None = None,
    *,
    staff_chat: str | None = None,
) -> ReportSnapshot:
    now = now or utcnow()
    first = first.replace(day=1)
    data = await build_monthly(session, company, first, now)
    bounds = month_bounds(first, zone_of(company))
    snapshot = await _store(session, company, MONTHLY, f"{first:%Y-%m}", bounds, data, now)
    if staff_chat:
        text = monthly_text(data, report_language(company))
        await _send(session, company, f"report:monthly:{first:%Y-%m}", text, staff_chat)
    return snapshot


async def _stored(session: AsyncSession, company: Company, kind: str, period: str) -> bool:
    found = await session.scalar(
        select(ReportSnapshot.id).where(
            ReportSnapshot.company_id == company.id,
            ReportSnapshot.kind == kind,
            ReportSnapshot.period == period,
        )
    )
    return found is not None


async def run_due_daily(
    session: AsyncSession, now: datetime, *, staff_chat: str | None = None
) -> list[str]:
    """For the hourly job: yesterday's report of each company once its hour has come."""
    made = []
    for company in await session.scalars(select(Company).order_by(Company.id)):
        local = now.astimezone(zone_of(company))
        if local.hour < _report_hour(company):
            continue
        day = local.date() - timedelta(days=1)
        if await _stored(session, company, DAILY, day.isoformat()):
            continue
        await daily_report(session, company, day, now, staff_chat=staff_chat)
        made.append(f"{company.code}:{day.isoformat()}")
    return made


async def run_due_monthly(
    session: AsyncSession, now: datetime, *, staff_chat: str | None = None
) -> list[str]:
    """For the hourly job: last month's report of each company, from the 1st at its hour."""
    made = []
    for company in await session.scalars(select(Company).order_by(Company.id)):
        local = now.astimezone(zone_of(company))
        if local.day == 1 and local.hour < _report_hour(company):
            continue
        month = previous_month(local.date().replace(day=1))
        if await _stored(session, company, MONTHLY, f"{month:%Y-%m}"):
            continue
        await monthly_report(session, company, month, now, staff_chat=staff_chat)
        made.append(f"{company.code}:{month:%Y-%m}")
    return made


# --- reading them back ---------------------------------------------------------------------


async def list_snapshots(
    session: AsyncSession, ctx: StaffContext, kind: str, limit: int = 60
) -> list[ReportSnapshot]:
    ctx.require(Permission.VIEW_REPORTS)
    return list(
        await session.scalars(
            select(ReportSnapshot)
            .where(ReportSnapshot.company_id == ctx.staff.company_id, ReportSnapshot.kind == kind)
            .order_by(ReportSnapshot.period.desc())
            .limit(limit)
        )
    )


async def get_snapshot(
    session: AsyncSession, ctx: StaffContext, kind: str, period: str
) -> ReportSnapshot:
    ctx.require(Permission.VIEW_REPORTS)
    snapshot = await session.scalar(
        select(ReportSnapshot).where(
            ReportSnapshot.company_id == ctx.staff.company_id,
            ReportSnapshot.kind == kind,
            ReportSnapshot.period == period,
        )
    )
    if snapshot is None:
        raise NotFound(f"no {kind} report for {period}")
    return snapshot


async def company_by_code(session: AsyncSession, code: str | None) -> Company:
    """The named company, or the first one (most installations have exactly one)."""
    query = select(Company).order_by(Company.id).limit(1)
    if code:
        query = select(Company).where(Company.code == code)
    company = await session.scalar(query)
    if company is None:
        raise NotFound(f"no company {code!r}" if code else "no company yet: load or import one")
    return company
