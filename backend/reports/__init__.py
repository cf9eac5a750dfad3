"""Reports for management (DOMAIN.md, "What management wants to see"): the KPI report."""

from backend.reports.kpi import kpi_report, month_to_date, parse_day, period_bounds
from backend.reports.model import KPI_KEYS, TARGETS, Kpi, KpiReport, SlaRow

__all__ = [
    "KPI_KEYS",
    "TARGETS",
    "Kpi",
    "KpiReport",
    "SlaRow",
    "kpi_report",
    "month_to_date",
    "parse_day",
    "period_bounds",
]
