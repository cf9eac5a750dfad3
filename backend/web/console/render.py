"""Jinja2 pages of the console, in the staff member's language, always auto-escaped."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from backend.i18n import t, when
from backend.web.console.security import Console

TEMPLATES = Path(__file__).with_name("templates")


def countdown(seconds: int, lang: str) -> str:
    """``还剩 8 分钟`` / ``8 min left``, ``超时 2 小时`` / ``2 h overdue``."""
    minutes = abs(seconds) // 60
    amount = (
        t(lang, "console.minutes", n=minutes)
        if minutes < 120
        else t(lang, "console.hours", n=minutes // 60)
    )
    return t(lang, "console.overdue" if seconds < 0 else "console.left", amount=amount)


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render(
    console: Console | None, template: str, *, status: int = 200, lang: str = "zh", **context: Any
) -> HTMLResponse:
    language = console.lang if console else lang
    zone = ZoneInfo("Asia/Shanghai")

    def tr(key: str, **params: object) -> str:
        return t(language, key, **params)

    def at(moment: datetime | None, tz: str | None = None) -> str:
        if moment is None:
            return ""
        return when(moment, language, ZoneInfo(tz) if tz else zone)

    html = (
        environment()
        .get_template(template)
        .render(
            t=tr,
            at=at,
            countdown=lambda seconds: countdown(seconds, language),
            lang=language,
            me=console.staff if console else None,
            ctx=console.ctx if console else None,
            csrf=console.csrf if console else context.pop("csrf", ""),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)
