"""Console: one household's whole file (一户一档) — tickets with their event logs, messages,
ratings, care messages received, warranty items — on one page and as XLSX or JSON.

The owner page shows the recent part; this is the complete record a manager hands over
or archives. Exports contain personal data, so each one is audited. Owners write the
messages, so text that looks like a formula is stored as text, never as a formula.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from openpyxl import Workbook
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.access import StaffContext, visible_owner
from backend.models import (
    Building,
    ChannelIdentity,
    Estate,
    GroupAlertTicket,
    HouseholdMember,
    Message,
    OutboxItem,
    Rating,
    Staff,
    Ticket,
    TicketEvent,
    Unit,
    WarrantyItem,
)
from backend.web.console.common import page_context, record
from backend.web.console.render import render
from backend.web.console.security import Console, console_user


def _plain(value: Any) -> Any:
    """Dates and times as ISO text: JSON has no date type, and Excel none with a zone."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot export {type(value).__name__}")


async def household_data(session: AsyncSession, ctx: StaffContext, owner_id: int) -> dict[str, Any]:
    """Everything on file for one household the staff member may see, as plain data."""
    owner = await visible_owner(session, ctx, owner_id)
    estate = await session.get(Estate, owner.estate_id)
    unit = await session.get(Unit, owner.unit_id)
    assert estate is not None and unit is not None
    building = await session.get(Building, unit.building_id)
    members = await session.scalars(
        select(HouseholdMember)
        .where(HouseholdMember.owner_id == owner.id)
        .order_by(HouseholdMember.id)
    )
    identities = list(
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.owner_id == owner.id)
            .order_by(ChannelIdentity.id)
        )
    )
    ids = [i.id for i in identities]
    tickets = list(
        await session.scalars(
            select(Ticket)
            .where(Ticket.owner_id == owner.id, ctx.ticket_scope())
            .order_by(Ticket.created_at, Ticket.id)
        )
    )
    ticket_ids = [tk.id for tk in tickets]
    events: dict[int, list[dict[str, Any]]] = {tid: [] for tid in ticket_ids}
    alert_of: dict[int, int] = {}
    if ticket_ids:
        for e in await session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id.in_(ticket_ids))
            .order_by(TicketEvent.id)
        ):
            events[e.ticket_id].append(
                {
                    "at": e.at,
                    "actor": e.actor_name or e.actor_kind,
                    "action": e.action,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "note": e.note,
                }
            )
        alert_of = {
            ticket_id: alert_id
            for ticket_id, alert_id in await session.execute(
                select(GroupAlertTicket.ticket_id, GroupAlertTicket.alert_id).where(
                    GroupAlertTicket.ticket_id.in_(ticket_ids)
                )
            )
        }
    ours = or_(
        Message.owner_id == owner.id,
        and_(Message.identity_id.in_(ids), Message.owner_id.is_(None)),
    )
    messages = [
        {
            "at": m.created_at,
            "direction": m.direction,
            "channel": m.channel,
            "staff": staff_name,
            "ticket_id": m.ticket_id,
            "text": m.text,
        }
        for m, staff_name in await session.execute(
            select(Message, Staff.display_name)
            .outerjoin(Staff, Staff.id == Message.staff_id)
            .where(ours)
            .order_by(Message.created_at, Message.id)
        )
    ]
    ratings = [
        {
            "at": r.created_at,
            "ticket": number,
            "score": r.score,
            "comment": r.comment,
            "channel": r.channel,
        }
        for r, number in await session.execute(
            select(Rating, Ticket.number)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .where(
                or_(Rating.owner_id == owner.id, Ticket.owner_id == owner.id), ctx.ticket_scope()
            )
            .order_by(Rating.created_at)
        )
    ]
    care = [
        {
            "queued_at": o.created_at,
            "sent_at": o.sent_at,
            "kind": o.idempotency_key.split(":")[1] if o.idempotency_key.count(":") else "",
            "channel": o.channel,
            "state": o.state,
            "text": str((o.payload or {}).get("text", "")),
        }
        for o in await session.scalars(
            select(OutboxItem)
            .where(OutboxItem.owner_id == owner.id, OutboxItem.idempotency_key.like("care:%"))
            .order_by(OutboxItem.created_at, OutboxItem.id)
        )
    ]
    warranty = [
        {"item": w.item, "expires_on": w.expires_on}
        for w in await session.scalars(
            select(WarrantyItem)
            .where(WarrantyItem.unit_id == unit.id)
            .order_by(WarrantyItem.expires_on)
        )
    ]
    return {
        "owner": {
            "id": owner.id,
            "name": owner.name,
            "phone": owner.phone,
            "email": owner.email,
            "estate": estate.code,
            "timezone": estate.timezone,
            "building": building.code if building else None,
            "unit": unit.number,
            "handover_date": unit.handover_date,
            "stage": owner.stage,
            "language": owner.language,
            "key_owner": owner.key_owner,
            "birthday": owner.birthday,
            "moved_in_on": owner.moved_in_on,
            "care_opt_outs": list(owner.care_opt_outs or []),
            "notes": owner.notes,
        },
        "members": [
            {
                "name": m.name,
                "relation": m.relation,
                "birthday": m.birthday,
                "phone": m.phone,
            }
            for m in members
        ],
        "identities": [
            {
                "channel": i.channel,
                "external_id": i.external_id,
                "verified_at": i.verified_at,
            }
            for i in identities
        ],
        "tickets": [
            {
                "id": tk.id,
                "number": tk.number,
                "kind": tk.kind,
                "state": tk.state,
                "category": tk.category,
                "topic": tk.topic,
                "urgent": tk.urgent,
                "is_repeat": tk.is_repeat,
                "location": tk.location,
                "summary": tk.summary,
                "description": tk.description,
                "created_at": tk.created_at,
                "resolved_at": tk.resolved_at,
                "closed_at": tk.closed_at,
                "group_alert_id": alert_of.get(tk.id),
                "events": events[tk.id],
            }
            for tk in tickets
        ],
        "messages": messages,
        "ratings": ratings,
        "care_messages": care,
        "warranty": warranty,
    }


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=_plain)
    if isinstance(value, datetime | date):
        return _plain(value)
    return value


def _append(sheet: Any, values: list[Any]) -> None:
    """One row; text that openpyxl would store as a formula (an owner typing ``=…``) is
    stored as the text it is."""
    sheet.append([_cell(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _sheet(book: Workbook, title: str, rows: list[dict[str, Any]], columns: list[str]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(columns)
    for row in rows:
        _append(sheet, [row.get(c) for c in columns])


def to_xlsx(data: dict[str, Any]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "Household"
    for key, value in data["owner"].items():
        _append(first, [key, value])
    _sheet(book, "Members", data["members"], ["name", "relation", "birthday", "phone"])
    ticket_columns = [k for k in (data["tickets"][0] if data["tickets"] else {}) if k != "events"]
    _sheet(book, "Tickets", data["tickets"], ticket_columns or ["number"])
    events = [{"ticket": tk["number"], **e} for tk in data["tickets"] for e in tk["events"]]
    _sheet(
        book,
        "Events",
        events,
        ["ticket", "at", "actor", "action", "from_state", "to_state", "note"],
    )
    _sheet(
        book,
        "Messages",
        data["messages"],
        ["at", "direction", "channel", "staff", "ticket_id", "text"],
    )
    _sheet(book, "Ratings", data["ratings"], ["at", "ticket", "score", "comment", "channel"])
    _sheet(
        book,
        "Care",
        data["care_messages"],
        ["queued_at", "sent_at", "kind", "channel", "state", "text"],
    )
    _sheet(book, "Warranty", data["warranty"], ["item", "expires_on"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def household_export() -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/owners/{owner_id}/history", response_class=HTMLResponse)
    async def history(
        console: Annotated[Console, Depends(console_user)], owner_id: int
    ) -> HTMLResponse:
        data = await household_data(console.session, console.ctx, owner_id)
        return render(console, "household_history.html", h=data, **await page_context(console))

    @router.get("/owners/{owner_id}/export.json")
    async def export_json(
        console: Annotated[Console, Depends(console_user)], owner_id: int
    ) -> Response:
        data = await household_data(console.session, console.ctx, owner_id)
        await record(console, "owner_export", "owner", owner_id, format="json")
        return Response(
            json.dumps(data, ensure_ascii=False, indent=1, default=_plain),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="household-{owner_id}.json"'},
        )

    @router.get("/owners/{owner_id}/export.xlsx")
    async def export_xlsx(
        console: Annotated[Console, Depends(console_user)], owner_id: int
    ) -> Response:
        data = await household_data(console.session, console.ctx, owner_id)
        await record(console, "owner_export", "owner", owner_id, format="xlsx")
        return Response(
            to_xlsx(data),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="household-{owner_id}.xlsx"'},
        )

    return router
