"""Server-rendered SVG bar charts for the console's report page: no JavaScript library to
vendor, and the chart is in the HTML the tests and the screenshot see. Every label is
escaped here; the result is ``Markup`` for the template."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from markupsafe import Markup, escape

ROW = 22
LABEL_W = 150
BAR_W = 230
VALUE_W = 60
WIDTH = LABEL_W + BAR_W + VALUE_W
BRAND, GREEN, AMBER, RED = "#1f6f5c", "#1e8e4f", "#c77800", "#c62828"


def _short(text: str, limit: int = 22) -> str:
    """Cut to ``limit`` columns at 12 px (a Chinese character takes two), with an ellipsis."""
    used, kept = 0, list[str]()
    for char in text:
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > limit:
            return "".join(kept[:-1]) + "…"
        kept.append(char)
    return text


def _frame(title: str, rows: int, body: list[str], legend: str = "") -> Markup:
    height = rows * ROW + 8 + (ROW if legend else 0)
    return Markup(  # noqa: S704 (every text in it went through escape())
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}{legend}</svg>"
    )


def _label(y: float, text: str) -> str:
    return (
        f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end" font-size="12" '
        f'fill="#1d2421"><title>{escape(text)}</title>{escape(_short(text))}</text>'
    )


def bar_chart(title: str, rows: Sequence[tuple[str, int]], color: str = BRAND) -> Markup:
    """Horizontal bars, longest first as given; the count written after each bar."""
    peak = max((n for _, n in rows), default=0) or 1
    body = []
    for i, (label, count) in enumerate(rows):
        y = 4 + i * ROW
        w = round(BAR_W * count / peak, 1)
        body.append(_label(y, label))
        body.append(
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{w}" height="{ROW - 6}" rx="2" '
            f'fill="{color}"><title>{escape(label)}: {count}</title></rect>'
        )
        body.append(
            f'<text x="{LABEL_W + w + 4}" y="{y + 15}" font-size="12" fill="#66736e">{count}</text>'
        )
    return _frame(title, max(len(rows), 1), body)


def sla_chart(
    title: str, rows: Sequence[tuple[str, int, int, int]], legend: tuple[str, str, str]
) -> Markup:
    """One stacked bar per promise: kept on time (green), late (amber), never (red)."""
    peak = max((sum(r[1:]) for r in rows), default=0) or 1
    body = []
    for i, (label, *parts) in enumerate(rows):
        y = 4 + i * ROW
        x = float(LABEL_W)
        body.append(_label(y, label))
        for count, color, name in zip(parts, (GREEN, AMBER, RED), legend, strict=True):
            w = round(BAR_W * count / peak, 1)
            if w:
                body.append(
                    f'<rect x="{x}" y="{y + 3}" width="{w}" height="{ROW - 6}" fill="{color}">'
                    f"<title>{escape(label)} · {escape(name)}: {count}</title></rect>"
                )
            x += w
        body.append(
            f'<text x="{x + 4}" y="{y + 15}" font-size="12" fill="#66736e">{sum(parts)}</text>'
        )
    y = 4 + len(rows) * ROW
    keys = []
    for n, (color, name) in enumerate(zip((GREEN, AMBER, RED), legend, strict=True)):
        x = LABEL_W + n * 80
        keys.append(
            f'<rect x="{x}" y="{y + 6}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{y + 15}" font-size="11" fill="#66736e">'
            f"{escape(_short(name, 12))}</text>"
        )
    return _frame(title, max(len(rows), 1), body, "".join(keys))
