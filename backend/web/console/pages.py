"""Console pages: login, the queue, a ticket and what staff do to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from backend import audit, desk, lifecycle, tickets
from backend.access import Permission, visible_ticket
from backend.actors import Actor
from backend.errors import DomainError, Forbidden, InvalidInput
from backend.i18n import normalize_lang, t
from backend.models import Estate, Staff, staff_estates, utcnow
from backend.passwords import verify_password
from backend.staff import authenticate
from backend.ticket_queue import QueueFilter, queue, waiting_conversations
from backend.ticket_view import ticket_view
from backend.vocabulary import Role
from backend.web.console.render import render
from backend.web.console.security import (
    LOGIN_WINDOW,
    MAX_FAILED_LOGINS,
    SESSION_STAFF,
    SESSION_VERSION,
    Console,
    client_ip,
    console_action,
    console_user,
    csrf_token,
    database,
    password_version,
)

CANNED = ("greeting", "on_the_way", "need_details", "sorry_delay", "resolved")
Wake = Callable[[], None]


def _flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = [text, kind]


def _take_flash(request: Request) -> dict[str, Any]:
    value = request.session.pop("flash", None)
    return {"flash": value[0], "flash_kind": value[1]} if value else {}


def _back(ticket_id: int) -> RedirectResponse:
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


def _filters(
    q: str = "",
    kind: str = "",
    state: str = "",
    estate: str = "",
    building: str = "",
    assignee: str = "",
    overdue: str = "",
    urgent: str = "",
    key_owner: str = "",
) -> QueueFilter:
    def number(value: str) -> int | None:
        return int(value) if value.isdigit() else None

    return QueueFilter(
        kind=kind or None,
        state=state or None,
        estate_id=number(estate),
        building=building.strip().upper() or None,
        assignee_id=number(assignee),
        overdue=bool(overdue),
        urgent=bool(urgent),
        key_owner=bool(key_owner),
        search=q[:64],
    )


def console_pages(wake: Wake) -> APIRouter:
    router = APIRouter(prefix="/console")

    # --- login -------------------------------------------------------------------------

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, next: str = "/console", lang: str = "") -> HTMLResponse:
        if lang:
            request.session["lang"] = normalize_lang(lang)
        return render(
            None,
            "login.html",
            lang=request.session.get("lang", "zh"),
            next=_safe_next(next),
            csrf=csrf_token(request),
        )

    @router.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form(max_length=64)] = "",
        password: Annotated[str, Form(max_length=256)] = "",
        next: Annotated[str, Form()] = "/console",
        csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    ) -> Response:
        lang = request.session.get("lang", "zh")
        expected = request.session.get("csrf")
        if not expected or csrf_token_field != expected:
            return render(
                None,
                "login.html",
                status=403,
                lang=lang,
                next=_safe_next(next),
                csrf=csrf_token(request),
                error=t(lang, "console.login.expired"),
            )
        ip = client_ip(request)
        async with database(request).session() as session:
            failures = await audit.recent_failed_logins(
                session, username=username, ip=ip, window=LOGIN_WINDOW
            )
            if failures >= MAX_FAILED_LOGINS:
                await audit.record(session, "login_blocked", username=username, ip=ip)
                return render(
                    None,
                    "login.html",
                    status=429,
                    lang=lang,
                    next=_safe_next(next),
                    csrf=csrf_token(request),
                    error=t(lang, "console.login.too_many"),
                    username=username,
                )
            staff = await authenticate(session, username, password)
            if staff is None:
                await audit.record(session, "login_failed", username=username, ip=ip)
                return render(
                    None,
                    "login.html",
                    status=401,
                    lang=lang,
                    next=_safe_next(next),
                    csrf=csrf_token(request),
                    error=t(lang, "console.login.wrong"),
                    username=username,
                )
            staff.last_login_at = utcnow()
            await audit.record(session, "login", staff=staff, ip=ip)
            request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
            request.session[SESSION_STAFF] = staff.id
            request.session[SESSION_VERSION] = password_version(staff)
        return RedirectResponse(_safe_next(next), status_code=303)

    @router.post("/logout")
    async def logout(console: Annotated[Console, Depends(console_action)]) -> Response:
        await audit.record(
            console.session, "logout", staff=console.staff, ip=client_ip(console.request)
        )
        console.request.session.clear()
        return RedirectResponse("/console/login", status_code=303)

    @router.post("/lang")
    async def switch_language(
        console: Annotated[Console, Depends(console_action)], lang: Annotated[str, Form()] = "zh"
    ) -> Response:
        console.staff.language = normalize_lang(lang)
        return RedirectResponse(
            console.request.headers.get("referer") or "/console", status_code=303
        )

    # --- queue -------------------------------------------------------------------------

    async def _queue_context(console: Console, flt: QueueFilter) -> dict[str, Any]:
        rows = await queue(console.session, console.ctx, flt, utcnow())
        return {"rows": rows, "flt": flt}

    @router.get("", response_class=HTMLResponse)
    async def queue_page(
        console: Annotated[Console, Depends(console_user)],
        flt: Annotated[QueueFilter, Depends(_filters)],
    ) -> HTMLResponse:
        context = await _queue_context(console, flt)
        estates = list(
            await console.session.scalars(
                select(Estate).where(Estate.id.in_(console.ctx.estate_ids)).order_by(Estate.id)
            )
        )
        assignees = list(
            await console.session.scalars(
                select(Staff)
                .join(staff_estates, staff_estates.c.staff_id == Staff.id)
                .where(
                    staff_estates.c.estate_id.in_(console.ctx.estate_ids),
                    Staff.role.in_([Role.TECHNICIAN.value, Role.SUPERVISOR.value]),
                )
                .distinct()
                .order_by(Staff.display_name)
            )
        )
        states = [(k.value, s) for k in lifecycle.Kind for s in lifecycle.states(k)]
        query = urlencode({k: v for k, v in console.request.query_params.items()})
        return render(
            console,
            "queue.html",
            **context,
            estates=estates,
            assignees=assignees,
            states=states,
            kinds=[k.value for k in lifecycle.Kind],
            query=query,
            waiting=await waiting_conversations(console.session, console.ctx),
            **_take_flash(console.request),
        )

    @router.get("/queue/rows", response_class=HTMLResponse)
    async def queue_rows(
        console: Annotated[Console, Depends(console_user)],
        flt: Annotated[QueueFilter, Depends(_filters)],
    ) -> HTMLResponse:
        return render(console, "_queue_rows.html", **await _queue_context(console, flt))

    # --- one ticket ----------------------------------------------------------------------

    @router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
    async def ticket_page(
        console: Annotated[Console, Depends(console_user)], ticket_id: int
    ) -> HTMLResponse:
        view = await ticket_view(console.session, console.ctx, ticket_id, utcnow())
        owner_lang = view.ticket.language
        name = view.owner.name if view.owner else ""
        canned = [
            (
                t(console.lang, f"console.canned.{key}"),
                t(owner_lang, f"canned.{key}", owner=name, number=view.ticket.number),
            )
            for key in CANNED
        ]
        return render(console, "ticket.html", v=view, canned=canned, **_take_flash(console.request))

    @router.get("/api/tickets/{ticket_id}")
    async def ticket_json(
        console: Annotated[Console, Depends(console_user)], ticket_id: int
    ) -> JSONResponse:
        ticket = await visible_ticket(console.session, console.ctx, ticket_id)
        rows = await tickets.list_tickets(
            console.session, tickets.TicketFilter(estate_ids=frozenset({ticket.estate_id}))
        )
        row = next(r for r in rows if r.ticket.id == ticket.id)
        return JSONResponse(row.as_json(utcnow()))

    async def _act(
        console: Console, ticket_id: int, action: str, work: Callable[[Any], Any], **detail: Any
    ) -> Response:
        ticket = await visible_ticket(console.session, console.ctx, ticket_id)
        try:
            await work(ticket)
        except DomainError as exc:
            await console.session.rollback()
            _flash(console.request, exc.message, "error")
            return _back(ticket_id)
        await audit.record(
            console.session,
            action,
            staff=console.staff,
            target_type="ticket",
            target_id=ticket.id,
            detail=detail,
            ip=client_ip(console.request),
        )
        _flash(console.request, t(console.lang, "console.done"))
        wake()
        return _back(ticket_id)

    @router.post("/tickets/{ticket_id}/reply")
    async def reply(
        console: Annotated[Console, Depends(console_action)],
        ticket_id: int,
        text: Annotated[str, Form(max_length=4000)],
    ) -> Response:
        console.ctx.require(Permission.REPLY)
        return await _act(
            console,
            ticket_id,
            "reply",
            lambda tk: desk.reply(console.session, console.staff, text, ticket=tk),
            length=len(text),
        )

    @router.post("/tickets/{ticket_id}/move")
    async def move(
        console: Annotated[Console, Depends(console_action)],
        ticket_id: int,
        to_state: Annotated[str, Form(max_length=16)],
        note: Annotated[str, Form(max_length=2000)] = "",
        reason: Annotated[str, Form(max_length=300)] = "",
    ) -> Response:
        if not console.ctx.may_move_to(to_state):
            raise Forbidden(f"a {console.ctx.role.value} may not move a ticket to {to_state}")
        actor = Actor.of_staff(console.staff)
        return await _act(
            console,
            ticket_id,
            "move",
            lambda tk: desk.move(console.session, tk, to_state, actor, note=note, reason=reason),
            to_state=to_state,
        )

    @router.post("/tickets/{ticket_id}/dispatch")
    async def dispatch(
        console: Annotated[Console, Depends(console_action)],
        ticket_id: int,
        assignee_id: Annotated[int, Form()],
    ) -> Response:
        actor = Actor.of_staff(console.staff)

        async def work(ticket: Any) -> None:
            if ticket.state == "received":
                console.ctx.require(Permission.DISPATCH)
                await desk.move(
                    console.session, ticket, "dispatched", actor, assignee_id=assignee_id
                )
            else:
                console.ctx.require(Permission.REASSIGN)
                await tickets.assign(console.session, ticket, assignee_id, actor)
                await desk.push_repair_card(console.session, ticket)

        return await _act(console, ticket_id, "dispatch", work, assignee_id=assignee_id)

    @router.post("/tickets/{ticket_id}/flag")
    async def flag(
        console: Annotated[Console, Depends(console_action)],
        ticket_id: int,
        flag: Annotated[str, Form(max_length=16)],
        value: Annotated[str, Form(max_length=1)],
    ) -> Response:
        console.ctx.require(Permission.FLAG)
        actor = Actor.of_staff(console.staff)
        return await _act(
            console,
            ticket_id,
            "flag",
            lambda tk: tickets.set_flag(console.session, tk, flag, value == "1", actor),
            flag=flag,
            value=value,
        )

    @router.post("/tickets/{ticket_id}/escalate")
    async def escalate(
        console: Annotated[Console, Depends(console_action)], ticket_id: int
    ) -> Response:
        console.ctx.require(Permission.FLAG)
        actor = Actor.of_staff(console.staff)
        return await _act(
            console, ticket_id, "escalate", lambda tk: tickets.escalate(console.session, tk, actor)
        )

    @router.post("/tickets/{ticket_id}/note")
    async def note(
        console: Annotated[Console, Depends(console_action)],
        ticket_id: int,
        note: Annotated[str, Form(max_length=4000)],
    ) -> Response:
        console.ctx.require(Permission.NOTE)
        actor = Actor.of_staff(console.staff)
        return await _act(
            console,
            ticket_id,
            "note",
            lambda tk: tickets.add_note(console.session, tk, actor, note),
        )

    @router.post("/tickets/{ticket_id}/take-over")
    async def take_over(
        console: Annotated[Console, Depends(console_action)], ticket_id: int
    ) -> Response:
        console.ctx.require(Permission.TAKE_OVER)

        async def work(ticket: Any) -> None:
            if ticket.identity_id is None:
                raise InvalidInput("this ticket has no chat to take over")
            await desk.take_over(console.session, ticket.identity_id, console.staff)
            await tickets.add_note(
                console.session, ticket, Actor.of_staff(console.staff), "took over the conversation"
            )

        return await _act(console, ticket_id, "take_over", work)

    @router.post("/tickets/{ticket_id}/hand-back")
    async def hand_back(
        console: Annotated[Console, Depends(console_action)], ticket_id: int
    ) -> Response:
        console.ctx.require(Permission.TAKE_OVER)

        async def work(ticket: Any) -> None:
            if ticket.identity_id is not None:
                await desk.hand_back(console.session, ticket.identity_id)
                await tickets.add_note(
                    console.session,
                    ticket,
                    Actor.of_staff(console.staff),
                    "handed the conversation back to the bot",
                )

        return await _act(console, ticket_id, "hand_back", work)

    return router


def _safe_next(target: str) -> str:
    """Only console paths: never send a logged-in user to another site."""
    return target if target.startswith("/console") and not target.startswith("//") else "/console"


__all__ = ["asyncio", "console_pages", "verify_password"]
