"""The KPI report as plain text for the terminal (``ownerdesk report kpi`` without --json)."""

from __future__ import annotations

import unicodedata

from backend.i18n import t
from backend.reports.labels import kpi_name, label, minutes_text, percent, target_text, verdict
from backend.reports.model import KpiReport


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(_pad(cell, w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]


def kpi_text(report: KpiReport, lang: str) -> str:
    p, scope = report.period, report.scope
    where = ", ".join(scope.estates) if scope.estate_ids is not None else t(lang, "report.all")
    if scope.building:
        where += f" {scope.building}"
    lines = [
        f"{t(lang, 'report.title')}: {p.first} – {p.last} ({p.timezone}), {scope.company} · "
        f"{where}",
        "",
    ]
    kpis = [
        [
            t(lang, "report.col.kpi"),
            t(lang, "report.col.value"),
            "n / N",
            t(lang, "report.col.target"),
            t(lang, "report.col.result"),
        ]
    ]
    for k in report.kpis:
        kpis.append(
            [
                kpi_name(lang, k.key),
                percent(k.value),
                f"{k.numerator} / {k.denominator}",
                target_text(k),
                verdict(lang, k),
            ]
        )
    lines += [*_table(kpis), ""]
    sla = [
        [
            t(lang, "report.col.promise"),
            t(lang, "report.col.due"),
            t(lang, "report.col.met"),
            t(lang, "report.col.breached"),
            t(lang, "report.col.pending"),
            t(lang, "report.col.rate"),
            t(lang, "report.col.median"),
            t(lang, "report.col.p90"),
        ]
    ]
    for r in report.sla:
        sla.append(
            [
                label(lang, "promise", r.promise),
                str(r.due),
                str(r.met),
                str(r.breached),
                str(r.pending),
                percent(r.rate),
                minutes_text(lang, r.median_s),
                minutes_text(lang, r.p90_s),
            ]
        )
    lines += [*_table(sla), ""]
    v = report.volumes
    kinds = ", ".join(f"{label(lang, 'kind', k)} {n}" for k, n in v.sorted("kind"))
    lines.append(t(lang, "report.opened_line", total=v.total, kinds=kinds, cancelled=v.cancelled))
    return "\n".join(lines)
