"""Console: the audit log, read-only — who did what and when, logins and failed logins,
from which address; filtered by staff member, action, target type and local days."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from backend import audit
from backend.access import Permission
from backend.models import Company
from backend.reports import parse_day
from backend.web.console.common import optional_id, page_context
from backend.web.console.render import render
from backend.web.console.security import Console, console_user

# The targets that have a page of their own.
TARGET_PAGES = {
    "ticket": "/console/tickets/{}",
    "owner": "/console/owners/{}",
    "campaign": "/console/campaigns/{}",
}
Text = Annotated[str, Query(max_length=64)]
Day = Annotated[str, Query(max_length=10)]


def detail_text(detail: Any) -> str:
    """``key=value, …`` (values that are not text as JSON); escaping is the template's."""
    if not isinstance(detail, dict):
        return json.dumps(detail, ensure_ascii=False)
    return ", ".join(
        f"{key}={value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in sorted(detail.items())
    )


def target_link(target_type: str, target_id: int | None) -> str:
    page = TARGET_PAGES.get(target_type)
    return page.format(target_id) if page and target_id is not None else ""


def audit_pages() -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/audit", response_class=HTMLResponse)
    async def audit_log(
        console: Annotated[Console, Depends(console_user)],
        staff: Text = "",
        action: Text = "",
        target: Text = "",
        first: Annotated[str, Query(alias="from", max_length=10)] = "",
        to: Day = "",
        before: Annotated[str, Query(max_length=20)] = "",
    ) -> HTMLResponse:
        console.ctx.require(Permission.VIEW_AUDIT)  # before the input is looked at
        filters = {
            "staff": staff.strip(),
            "action": action.strip(),
            "target": target.strip(),
            "from": first.strip(),
            "to": to.strip(),
        }
        query = audit.AuditQuery(
            username=filters["staff"],
            action=filters["action"],
            target_type=filters["target"],
            first=parse_day(filters["from"], "from") if filters["from"] else None,
            last=parse_day(filters["to"], "to") if filters["to"] else None,
            before=optional_id(before),
        )
        company = await console.session.get(Company, console.staff.company_id)
        tz = company.timezone if company else "Asia/Shanghai"
        page = await audit.read_log(console.session, console.ctx, query, ZoneInfo(tz))
        chosen = {k: v for k, v in filters.items() if v}
        return render(
            console,
            "audit.html",
            rows=[
                (entry, person, target_link(entry.target_type, entry.target_id))
                for entry, person in page.rows
            ],
            detail_text=detail_text,
            filters=filters,
            tz=tz,
            paged=query.before is not None,
            newest=f"/console/audit?{urlencode(chosen)}" if chosen else "/console/audit",
            older=f"/console/audit?{urlencode({**chosen, 'before': page.older})}"
            if page.older
            else "",
            **await page_context(console),
        )

    return router
