"""The KPI report as an XLSX workbook: one sheet per table (KPIs, SLA, Volumes, Defects)
and an About sheet with the period and scope. Numbers are numbers (shares formatted as
percentages, times in minutes), so the sheet can be summed and charted further."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from backend.i18n import t
from backend.reports.labels import kpi_name, label, verdict
from backend.reports.model import VOLUME_TABLES, KpiReport, minutes

PERCENT = "0.0%"
SHEETS = ("KPIs", "SLA", "Volumes", "Defects", "About")


def _sheet(
    book: Workbook, title: str, header: list[str], rows: list[list[Any]], formats: dict[int, str]
) -> Worksheet:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, fmt in formats.items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = fmt
    for index, name in enumerate(header, start=1):
        longest = max([len(str(name)), *(len(str(r[index - 1] or "")) for r in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 48)
    sheet.freeze_panes = "A2"
    return sheet


def workbook(report: KpiReport, lang: str) -> bytes:
    """The workbook's bytes, with headers and names in ``lang``."""
    book = Workbook()
    book.remove(book.worksheets[0])
    tr = lambda key: t(lang, key)  # noqa: E731
    _sheet(
        book,
        "KPIs",
        [
            tr("report.col.kpi"),
            tr("report.col.value"),
            tr("report.col.numerator"),
            tr("report.col.denominator"),
            tr("report.col.comparison"),
            tr("report.col.target"),
            tr("report.col.result"),
            "key",
        ],
        [
            [
                kpi_name(lang, k.key),
                k.value,
                k.numerator,
                k.denominator,
                k.target.sign,
                k.target.as_float(),
                verdict(lang, k),
                k.key,
            ]
            for k in report.kpis
        ],
        {2: PERCENT, 6: "0%"},
    )
    _sheet(
        book,
        "SLA",
        [
            tr("report.col.promise"),
            tr("report.col.due"),
            tr("report.col.met"),
            tr("report.col.breached"),
            tr("report.col.late"),
            tr("report.col.open"),
            tr("report.col.pending"),
            tr("report.col.rate"),
            tr("report.col.median_min"),
            tr("report.col.p90_min"),
            "key",
        ],
        [
            [
                label(lang, "promise", r.promise),
                r.due,
                r.met,
                r.breached,
                r.late,
                r.open,
                r.pending,
                r.rate,
                minutes(r.median_s),
                minutes(r.p90_s),
                r.promise,
            ]
            for r in report.sla
        ],
        {8: PERCENT, 9: "0.0", 10: "0.0"},
    )
    volumes = [
        [tr(f"report.by.{table}"), label(lang, table, key), count, table, key]
        for table in VOLUME_TABLES
        for key, count in report.volumes.sorted(table)
    ]
    volumes.append([tr("report.total"), None, report.volumes.total, "total", None])
    volumes.append([tr("report.cancelled"), None, report.volumes.cancelled, "cancelled", None])
    _sheet(
        book,
        "Volumes",
        [tr("report.col.table"), tr("report.col.name"), tr("report.col.count"), "table", "key"],
        volumes,
        {},
    )
    _sheet(
        book,
        "Defects",
        [
            tr("report.col.estate"),
            tr("report.col.building"),
            tr("report.col.location"),
            tr("report.col.category"),
            tr("report.col.count"),
            "location",
            "category",
        ],
        [
            [
                d.estate,
                d.building or "—",
                label(lang, "location", d.location),
                label(lang, "category", d.category),
                d.count,
                d.location,
                d.category,
            ]
            for d in report.defects
        ],
        {},
    )
    p, scope = report.period, report.scope
    _sheet(
        book,
        "About",
        [tr("report.col.name"), tr("report.col.value")],
        [
            [tr("report.from"), p.first.isoformat()],
            [tr("report.to"), p.last.isoformat()],
            [tr("report.timezone"), p.timezone],
            [tr("report.company"), scope.company],
            [tr("report.estate"), ", ".join(scope.estates) or tr("report.all")],
            [tr("report.building"), scope.building or tr("report.all")],
            [tr("report.as_of"), p.as_of.isoformat()],
        ],
        {},
    )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
