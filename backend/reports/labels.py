"""Names people read for the report's keys (KPIs, promises, kinds, channels, categories,
topics, locations), in zh or en; a key without a text is shown as it is stored."""

from __future__ import annotations

from backend.i18n import catalog, t
from backend.reports.model import Kpi

# Where each kind of key finds its text.
PREFIX = {
    "kind": "kind",
    "channel": "report.channel",
    "category": "category",
    "topic": "topic",
    "location": "location",
    "promise": "promise",
}


def label(lang: str, table: str, key: str) -> str:
    """``label("zh", "category", "water_leak")`` → 漏水渗水; estates and buildings are codes."""
    if not key:
        return t(lang, "report.unknown")
    prefix = PREFIX.get(table)
    if prefix and f"{prefix}.{key}" in catalog(lang):
        return t(lang, f"{prefix}.{key}")
    return key


def kpi_name(lang: str, key: str) -> str:
    return t(lang, f"report.kpi.{key}")


def verdict(lang: str, kpi: Kpi) -> str:
    """met / missed / — (no denominator: nothing to judge)."""
    if kpi.met is None:
        return t(lang, "report.na")
    return t(lang, "report.met" if kpi.met else "report.missed")


def target_text(kpi: Kpi) -> str:
    return f"{kpi.target.sign} {kpi.target.as_float():.0%}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def minutes_text(lang: str, seconds: float | None) -> str:
    """``8 分钟`` / ``8 min`` under two hours, else hours; — when nothing was kept."""
    if seconds is None:
        return "—"
    minutes = seconds / 60
    if minutes < 120:
        return t(lang, "report.minutes", n=f"{minutes:.0f}" if minutes >= 10 else f"{minutes:.1f}")
    return t(lang, "report.hours", n=f"{minutes / 60:.1f}")
