"""The callback task list: calls the front desk makes by phone (unanswered callbacks,
new owners' visits), each done with its outcome written down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from backend.access import Permission
from backend.callbacks import complete_task
from backend.errors import DomainError, NotFound
from backend.i18n import t
from backend.models import CallbackTask, Owner, Ticket, Unit, utcnow
from backend.web.console.common import flash, page_context, record, redirect
from backend.web.console.render import render
from backend.web.console.security import Console, console_action, console_user


def callback_pages() -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/callbacks", response_class=HTMLResponse)
    async def callback_list(
        console: Annotated[Console, Depends(console_user)], done: str = ""
    ) -> HTMLResponse:
        # Phone callbacks show owners' names and phones: front-desk work, not a
        # technician's (who sees only the tickets dispatched to them).
        console.ctx.require(Permission.VIEW_OWNERS)
        query = (
            select(CallbackTask, Ticket, Owner, Unit.number)
            .outerjoin(Ticket, Ticket.id == CallbackTask.ticket_id)
            .outerjoin(Owner, Owner.id == CallbackTask.owner_id)
            .outerjoin(Unit, Unit.id == Owner.unit_id)
            .where(CallbackTask.estate_id.in_(console.ctx.estate_ids))
            .order_by(CallbackTask.done_at.is_not(None), CallbackTask.due_at)
            .limit(300)
        )
        query = query.where(
            CallbackTask.done_at.is_not(None) if done else CallbackTask.done_at.is_(None)
        )
        rows = (await console.session.execute(query)).all()
        return render(
            console,
            "callbacks.html",
            rows=rows,
            done=bool(done),
            now=utcnow(),
            **await page_context(console),
        )

    @router.post("/callbacks/{task_id}")
    async def complete(
        console: Annotated[Console, Depends(console_action)],
        task_id: int,
        outcome: Annotated[str, Form(max_length=16)],
        score: Annotated[str, Form(max_length=1)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        console.ctx.require(Permission.REPLY)
        task = await console.session.scalar(
            select(CallbackTask).where(
                CallbackTask.id == task_id, CallbackTask.estate_id.in_(console.ctx.estate_ids)
            )
        )
        if task is None:
            raise NotFound(f"no callback task {task_id}")
        try:
            await complete_task(
                console.session,
                task,
                console.staff,
                outcome=outcome,
                score=int(score) if score.isdigit() else None,
                note=note,
                now=utcnow(),
            )
        except DomainError as exc:
            await console.session.rollback()
            flash(console.request, exc.message, "error")
            return redirect("/console/callbacks")
        await record(
            console, "callback_done", "callback_task", task.id, outcome=outcome, score=score
        )
        flash(console.request, t(console.lang, "console.done"))
        return redirect("/console/callbacks")

    return router
