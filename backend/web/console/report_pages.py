"""Console: the KPI dashboard (docs/kpi.md) and its XLSX export, over the estates the
reader may see: a supervisor their estates, a manager or admin the whole company. An
estate or building outside that, asked for by parameter, is "not found"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from backend.access import Permission
from backend.errors import NotFound
from backend.i18n import t
from backend.models import Building, Company, utcnow
from backend.reports import KpiReport, kpi_report, month_to_date, parse_day, period_bounds
from backend.reports.charts import AMBER, bar_chart, sla_chart
from backend.reports.labels import kpi_name, label, minutes_text, percent, target_text, verdict
from backend.reports.xlsx import workbook
from backend.staff import COMPANY_WIDE_ROLES
from backend.web.console.common import optional_id, page_context, visible_estates
from backend.web.console.render import render
from backend.web.console.security import Console, console_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TOP = 12  # bars per chart, rows of the defect table; the XLSX has every row
HOTSPOTS = 15
Day = Annotated[str, Query(max_length=10)]


@dataclass(frozen=True)
class Asked:
    """The report a request asks for, checked against what the reader may see."""

    first: date
    last: date
    estate_id: int | None
    building_id: int | None

    def query(self) -> dict[str, str]:
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "estate": str(self.estate_id or ""),
            "building": str(self.building_id or ""),
        }


async def _asked(console: Console, first: str, last: str, estate: str, building: str) -> Asked:
    console.ctx.require(Permission.VIEW_REPORTS)
    company = await console.session.get(Company, console.staff.company_id)
    assert company is not None
    default_first, default_last = month_to_date(utcnow(), ZoneInfo(company.timezone))
    estate_id, building_id = optional_id(estate), optional_id(building)
    if estate_id is not None and estate_id not in console.ctx.estate_ids:
        raise NotFound(f"no estate with id {estate_id}")
    if building_id is not None:
        row = await console.session.get(Building, building_id)
        if row is None or row.estate_id not in console.ctx.estate_ids:
            raise NotFound(f"no building with id {building_id}")
        if estate_id is not None and row.estate_id != estate_id:
            building_id = None  # the estate was changed in the picker: drop the old building
    return Asked(
        parse_day(first, "from") if first else default_first,
        parse_day(last, "to") if last else default_last,
        estate_id,
        building_id,
    )


async def _report(console: Console, asked: Asked) -> KpiReport:
    company = await console.session.get(Company, console.staff.company_id)
    assert company is not None
    start, end = period_bounds(asked.first, asked.last, ZoneInfo(company.timezone))
    company_wide = console.staff.role in COMPANY_WIDE_ROLES
    return await kpi_report(
        console.session,
        company_id=company.id,
        start=start,
        end=end,
        now=utcnow(),
        estate_id=asked.estate_id,
        building_id=asked.building_id,
        estate_ids=None if company_wide else console.ctx.estate_ids,
    )


def _view(report: KpiReport, lang: str) -> dict[str, Any]:
    """Texts and charts for the template, so it only lays them out."""
    kpis = [
        {
            "key": k.key,
            "name": kpi_name(lang, k.key),
            "help": f"report.kpi.{k.key}.help",
            "value": percent(k.value),
            "counts": f"{k.numerator} / {k.denominator}",
            "target": target_text(k),
            "mark": "na" if k.met is None else ("met" if k.met else "missed"),
            "verdict": verdict(lang, k),
        }
        for k in report.kpis
    ]
    sla = [
        {
            "key": r.promise,
            "name": label(lang, "promise", r.promise),
            "row": r,
            "rate": percent(r.rate),
            "median": minutes_text(lang, r.median_s),
            "p90": minutes_text(lang, r.p90_s),
        }
        for r in report.sla
    ]
    v = report.volumes

    def bars(table: str) -> tuple[str, Any]:
        rows = [(label(lang, table, key), n) for key, n in v.sorted(table)[:TOP]]
        title = t(lang, f"report.by.{table}")
        return title, bar_chart(title, rows)

    def defect_bars(attribute: str) -> tuple[str, Any]:
        rows = [(label(lang, attribute, k), n) for k, n in report.defects_by(attribute)]
        title = t(lang, f"report.defects_by_{attribute}")
        return title, bar_chart(title, rows[:TOP], AMBER)

    return {
        "kpis": kpis,
        "sla": sla,
        "sla_chart": sla_chart(
            t(lang, "report.sla"),
            [
                (label(lang, "promise", r.promise), r.met, r.late, r.open)
                for r in report.sla
                if r.due
            ],
            (t(lang, "report.col.met"), t(lang, "report.col.late"), t(lang, "report.col.open")),
        ),
        "charts": [bars(table) for table in ("kind", "channel", "category", "topic", "building")],
        "defect_charts": [defect_bars("location"), defect_bars("category")],
        "matrix": _matrix(report, lang),
        "hotspots": [
            {
                "row": d,
                "location": label(lang, "location", d.location),
                "category": label(lang, "category", d.category),
            }
            for d in sorted(report.defects, key=lambda d: -d.count)[:HOTSPOTS]
        ],
        "defect_rows": len(report.defects),
    }


def _matrix(report: KpiReport, lang: str) -> dict[str, Any]:
    """Locations × categories of the defects, for a shaded table (most frequent first)."""
    locations = [k for k, _ in report.defects_by("location")][:TOP]
    categories = [k for k, _ in report.defects_by("category")]
    cells: dict[tuple[str, str], int] = {}
    for d in report.defects:
        cells[(d.location, d.category)] = cells.get((d.location, d.category), 0) + d.count
    peak = max(cells.values(), default=0) or 1
    return {
        "categories": [label(lang, "category", c) for c in categories],
        "rows": [
            (
                label(lang, "location", loc),
                [
                    (cells.get((loc, c), 0), round(cells.get((loc, c), 0) / peak * 0.8, 2))
                    for c in categories
                ],
            )
            for loc in locations
        ],
    }


def report_pages() -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/reports", response_class=HTMLResponse)
    async def dashboard(
        console: Annotated[Console, Depends(console_user)],
        first: Annotated[str, Query(alias="from", max_length=10)] = "",
        to: Day = "",
        estate: Annotated[str, Query(max_length=12)] = "",
        building: Annotated[str, Query(max_length=12)] = "",
    ) -> HTMLResponse:
        asked = await _asked(console, first, to, estate, building)
        report = await _report(console, asked)
        buildings: list[Building] = []
        if asked.estate_id is not None:
            buildings = list(
                await console.session.scalars(
                    select(Building)
                    .where(Building.estate_id == asked.estate_id)
                    .order_by(Building.code)
                )
            )
        return render(
            console,
            "report.html",
            report=report,
            asked=asked,
            export=asked.query(),
            estates=await visible_estates(console),
            buildings=buildings,
            **_view(report, console.lang),
            **await page_context(console),
        )

    @router.get("/reports/kpi.xlsx")
    async def export(
        console: Annotated[Console, Depends(console_user)],
        first: Annotated[str, Query(alias="from", max_length=10)] = "",
        to: Day = "",
        estate: Annotated[str, Query(max_length=12)] = "",
        building: Annotated[str, Query(max_length=12)] = "",
    ) -> Response:
        asked = await _asked(console, first, to, estate, building)
        report = await _report(console, asked)
        name = f"kpi-{asked.first}-{asked.last}.xlsx"
        return Response(
            workbook(report, console.lang),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return router
