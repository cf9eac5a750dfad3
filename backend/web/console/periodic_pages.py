"""Console: the stored daily complaint reports and monthly reports, each shown over the
estates the reader may see (a supervisor their estates, a manager the company)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from backend import periodic_reports as reports
from backend.alerts import subject_label
from backend.web.console.common import page_context
from backend.web.console.render import render
from backend.web.console.security import Console, console_user


def periodic_pages() -> APIRouter:
    router = APIRouter(prefix="/console/reports")

    @router.get("/daily", response_class=HTMLResponse)
    async def daily_list(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        snapshots = await reports.list_snapshots(console.session, console.ctx, reports.DAILY)
        rows = [
            (s, reports.daily_view(s.data, console.ctx.estate_ids)["totals"]) for s in snapshots
        ]
        return render(
            console,
            "periodic_list.html",
            kind=reports.DAILY,
            rows=rows,
            **await page_context(console),
        )

    @router.get("/daily/{day}", response_class=HTMLResponse)
    async def daily_page(
        console: Annotated[Console, Depends(console_user)], day: str
    ) -> HTMLResponse:
        snapshot = await reports.get_snapshot(console.session, console.ctx, reports.DAILY, day)
        return render(
            console,
            "periodic_daily.html",
            s=snapshot,
            v=reports.daily_view(snapshot.data, console.ctx.estate_ids),
            label=subject_label,
            **await page_context(console),
        )

    @router.get("/monthly", response_class=HTMLResponse)
    async def monthly_list(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        snapshots = await reports.list_snapshots(console.session, console.ctx, reports.MONTHLY)
        rows = [
            (s, reports.monthly_view(s.data, console.ctx.estate_ids)["totals"]["current"])
            for s in snapshots
        ]
        return render(
            console,
            "periodic_list.html",
            kind=reports.MONTHLY,
            rows=rows,
            **await page_context(console),
        )

    @router.get("/monthly/{month}", response_class=HTMLResponse)
    async def monthly_page(
        console: Annotated[Console, Depends(console_user)], month: str
    ) -> HTMLResponse:
        snapshot = await reports.get_snapshot(console.session, console.ctx, reports.MONTHLY, month)
        return render(
            console,
            "periodic_monthly.html",
            s=snapshot,
            v=reports.monthly_view(snapshot.data, console.ctx.estate_ids),
            value=reports.format_value,
            delta=reports.format_delta,
            **await page_context(console),
        )

    return router
