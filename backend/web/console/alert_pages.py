"""Console: group-complaint warnings (群诉预警) — the open ones until someone acknowledges
them, one alert with its linked tickets, and one answer to every household at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from backend import alerts
from backend.access import Permission
from backend.i18n import t
from backend.web.console.common import attempt, flash, page_context, redirect
from backend.web.console.render import render
from backend.web.console.security import Console, client_ip, console_action, console_user

STATES = ("open", "acknowledged", "all")


def alert_pages(wake: Callable[[], None]) -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/alerts", response_class=HTMLResponse)
    async def alert_list(
        console: Annotated[Console, Depends(console_user)], state: str = "open"
    ) -> HTMLResponse:
        state = state if state in STATES else "open"
        rows = await alerts.list_alerts(
            console.session, console.ctx, state=None if state == "all" else state
        )
        return render(
            console,
            "alerts.html",
            rows=rows,
            state=state,
            states=STATES,
            label=alerts.subject_label,
            **await page_context(console),
        )

    @router.get("/alerts/badge", response_class=HTMLResponse)
    async def alert_badge(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        """The header's alert link with the open count; htmx polls it from every page."""
        count = await alerts.open_count(console.session, console.ctx)
        return render(console, "alert_badge.html", count=count)

    @router.get("/alerts/{alert_id}", response_class=HTMLResponse)
    async def alert_page(
        console: Annotated[Console, Depends(console_user)], alert_id: int
    ) -> HTMLResponse:
        detail = await alerts.alert_detail(console.session, console.ctx, alert_id)
        return render(
            console,
            "alert.html",
            d=detail,
            label=alerts.subject_label,
            can_reply=console.ctx.can(Permission.REPLY),
            **await page_context(console),
        )

    @router.post("/alerts/{alert_id}/acknowledge")
    async def acknowledge(
        console: Annotated[Console, Depends(console_action)], alert_id: int
    ) -> Response:
        alert = await alerts.visible_alert(console.session, console.ctx, alert_id)
        await alerts.acknowledge(
            console.session, alert, console.staff, ip=client_ip(console.request)
        )
        flash(console.request, t(console.lang, "console.alert.acknowledged"))
        return redirect(f"/console/alerts/{alert_id}")

    @router.post("/alerts/{alert_id}/reply")
    async def reply_all(
        console: Annotated[Console, Depends(console_action)],
        alert_id: int,
        text: Annotated[str, Form(max_length=4000)],
    ) -> Response:
        alert = await alerts.visible_alert(console.session, console.ctx, alert_id)
        outcome, ok = await attempt(
            console,
            alerts.reply_to_all(
                console.session, alert, console.staff, text, ip=client_ip(console.request)
            ),
        )
        if ok:
            message = t(console.lang, "console.alert.replied", owners=outcome.owners)
            if outcome.unreachable_ticket_ids:
                message += " " + t(
                    console.lang,
                    "console.alert.unreachable",
                    n=len(outcome.unreachable_ticket_ids),
                )
            flash(console.request, message, "ok" if not outcome.unreachable_ticket_ids else "")
            wake()
        return redirect(f"/console/alerts/{alert_id}")

    return router
