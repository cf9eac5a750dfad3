"""The KPI report for a period and a company, estate or building (docs/kpi.md).

``kpi_report`` resolves the scope, runs the aggregates of ``backend.reports.queries`` and
puts estate and building codes on the volumes and defects.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput, NotFound
from backend.models import Building, Company, Estate
from backend.reports import opened, queries
from backend.reports.model import DefectRow, KpiReport, Period, Scope, Volumes
from backend.vocabulary import Kind

MAX_DAYS = 3 * 366  # a longer period is almost surely a typing mistake


def parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a date YYYY-MM-DD, not {text!r}") from None


def period_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local days ``first``..``last`` inclusive → UTC ``[start, end)``."""
    if last < first:
        raise InvalidInput("the period ends before it starts")
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days")
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def month_to_date(now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The default period: the first of this month to today, local time."""
    today = now.astimezone(zone).date()
    return today.replace(day=1), today


async def company_zone(session: AsyncSession, company_id: int) -> ZoneInfo:
    company = await session.get(Company, company_id)
    if company is None:
        raise NotFound(f"no company with id {company_id}")
    return ZoneInfo(company.timezone)


async def _scope(
    session: AsyncSession,
    company: Company,
    estate_id: int | None,
    building_id: int | None,
    estate_ids: Collection[int] | None,
) -> Scope:
    """Check that the estate and building belong to the company and to ``estate_ids``."""
    allowed = None if estate_ids is None else frozenset(estate_ids)
    building = await session.get(Building, building_id) if building_id is not None else None
    if building_id is not None:
        if building is None or (estate_id is not None and building.estate_id != estate_id):
            raise NotFound(f"no building with id {building_id}")
        estate_id = building.estate_id
    if estate_id is not None:
        estate = await session.get(Estate, estate_id)
        if (
            estate is None
            or estate.company_id != company.id
            or (allowed is not None and estate_id not in allowed)
        ):
            raise NotFound(f"no estate with id {estate_id}")
        allowed = frozenset({estate_id})
    codes: tuple[str, ...] = ()
    if allowed is not None:
        codes = tuple(
            (
                await session.scalars(
                    select(Estate.code)
                    .where(Estate.id.in_(sorted(allowed)), Estate.company_id == company.id)
                    .order_by(Estate.code)
                )
            ).all()
        )
    alone = (
        allowed is None
        and building_id is None
        and (await session.scalar(select(func.count()).select_from(Company)) == 1)
    )
    return Scope(
        company.id,
        allowed,
        building_id,
        company=company.code,
        estates=codes,
        building=building.code if building else "",
        whole_database=alone,
    )


async def kpi_report(
    session: AsyncSession,
    *,
    company_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    estate_id: int | None = None,
    building_id: int | None = None,
    estate_ids: Collection[int] | None = None,
) -> KpiReport:
    """Every KPI of DOMAIN.md for UTC ``[start, end)``, as seen at ``now``.

    ``estate_ids`` limits the report to the estates a staff member may see; an
    ``estate_id`` or ``building_id`` outside the company or those estates is "not found".
    """
    if start.tzinfo is None or end.tzinfo is None or now.tzinfo is None:
        raise ValueError("start, end and now must be timezone-aware")
    if end <= start:
        raise InvalidInput("the period ends before it starts")
    company = await session.get(Company, company_id)
    if company is None:
        raise NotFound(f"no company with id {company_id}")
    if session.get_bind().dialect.name == "postgresql":
        # The correlated subqueries look expensive to the planner, which then spends
        # longer compiling them (JIT) than running them: measured 1.7 s of 2.7 s.
        await session.execute(text("SET LOCAL jit = off"))
    zone = ZoneInfo(company.timezone)
    scope = await _scope(session, company, estate_id, building_id, estate_ids)
    period = Period(
        start.astimezone(zone).date(),
        (end - timedelta(microseconds=1)).astimezone(zone).date(),
        company.timezone,
        start,
        end,
        now,
    )
    volumes, repeat, closure = await opened.tickets_opened(session, scope, period)
    places = await opened.places(session, scope, period)
    sla_rows = await queries.sla(session, scope, period)
    tasks = await queries.callback_tasks(session, scope, period)
    kpis = [
        await queries.tickets_recorded(session, scope, period),
        closure,
        await queries.repair_satisfaction(session, scope, period),
        await queries.accepted_first_time(session, scope, period),
        repeat,
        queries.callbacks_done(sla_rows, tasks),
    ]
    estates, buildings = await _names(session, company.id)
    _name_volumes(volumes, places, estates, buildings)
    return KpiReport(period, scope, kpis, sla_rows, volumes, _defects(places, estates, buildings))


async def _names(session: AsyncSession, company_id: int) -> tuple[dict[int, str], dict[int, str]]:
    estates = {
        eid: code
        for eid, code in (
            await session.execute(
                select(Estate.id, Estate.code).where(Estate.company_id == company_id)
            )
        ).all()
    }
    buildings = {
        bid: code
        for bid, code in (
            await session.execute(
                select(Building.id, Building.code)
                .join(Estate, Estate.id == Building.estate_id)
                .where(Estate.company_id == company_id)
            )
        ).all()
    }
    return estates, buildings


def _name_volumes(
    volumes: Volumes,
    places: list[opened.Place],
    estates: dict[int, str],
    buildings: dict[int, str],
) -> None:
    by_id = volumes.tables["estate"]
    volumes.tables["estate"] = {estates.get(int(k), k): n for k, n in by_id.items()}
    for p in places:
        estate = estates.get(p.estate_id, str(p.estate_id))
        building = buildings.get(p.building_id, "") if p.building_id is not None else ""
        volumes.add("building", f"{estate} {building or '—'}", p.count)


def _defects(
    places: list[opened.Place], estates: dict[int, str], buildings: dict[int, str]
) -> list[DefectRow]:
    """Repairs opened in the period (not cancelled) by estate, building, location, category."""
    counts: dict[tuple[str, str, str, str], int] = {}
    for p in places:
        if p.kind != Kind.REPAIR or p.cancelled:
            continue
        estate = estates.get(p.estate_id, str(p.estate_id))
        building = buildings.get(p.building_id, "") if p.building_id is not None else ""
        key = (estate, building, p.location.strip().lower(), p.category or "other")
        counts[key] = counts.get(key, 0) + p.count
    rows = [DefectRow(*key, count) for key, count in counts.items()]
    return sorted(rows, key=lambda r: (r.estate, r.building, -r.count, r.location, r.category))


async def ids_by_codes(
    session: AsyncSession, company: str | None, estate: str | None, building: str | None
) -> tuple[int, int | None, int | None]:
    """Company, estate and building ids from the codes people type (the CLI's options).

    No company code: the estate's company, else the only company in the database.
    """
    estate_row = None
    if estate:
        estate_row = await session.scalar(select(Estate).where(Estate.code == estate))
        if estate_row is None:
            raise NotFound(f"unknown estate {estate!r}")
    if company:
        company_id = await session.scalar(select(Company.id).where(Company.code == company))
        if company_id is None:
            raise NotFound(f"unknown company {company!r}")
        if estate_row is not None and estate_row.company_id != company_id:
            raise NotFound(f"estate {estate!r} is not one of {company!r}'s")
    elif estate_row is not None:
        company_id = estate_row.company_id
    else:
        found = (await session.scalars(select(Company.id).order_by(Company.id).limit(2))).all()
        if not found:
            raise NotFound("no company yet: run `ownerdesk demo load` or import one")
        if len(found) > 1:
            raise InvalidInput("several companies: choose one with --company CODE")
        company_id = found[0]
    building_id = None
    if building:
        if estate_row is None:
            raise InvalidInput("--building needs --estate (building codes repeat across estates)")
        building_id = await session.scalar(
            select(Building.id).where(
                Building.estate_id == estate_row.id, Building.code == building
            )
        )
        if building_id is None:
            raise NotFound(f"unknown building {building!r} in {estate!r}")
    return company_id, estate_row.id if estate_row else None, building_id
