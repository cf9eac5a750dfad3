"""What the console's sections share: flash messages, the audit call, the header count."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from backend import audit
from backend.errors import DomainError, Forbidden, NotFound
from backend.i18n import t
from backend.models import Estate
from backend.ticket_queue import waiting_conversations
from backend.web.console.security import Console, client_ip


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = [text, kind]


def take_flash(request: Request) -> dict[str, Any]:
    value = request.session.pop("flash", None)
    return {"flash": value[0], "flash_kind": value[1]} if value else {}


def optional_id(value: str) -> int | None:
    """A select's value: an id, or nothing chosen."""
    return int(value) if value.isdigit() else None


async def visible_estates(console: Console) -> list[Estate]:
    """The estates the staff member may see, for the pages' estate selects."""
    return list(
        await console.session.scalars(
            select(Estate).where(Estate.id.in_(console.ctx.estate_ids)).order_by(Estate.id)
        )
    )


def redirect(path: str) -> RedirectResponse:
    """Post/redirect/get: a reload never repeats the action."""
    return RedirectResponse(path, status_code=303)


async def page_context(console: Console) -> dict[str, Any]:
    """The header's waiting count and the flash of the last action, for every page."""
    return {
        "waiting": await waiting_conversations(console.session, console.ctx),
        **take_flash(console.request),
    }


async def record(
    console: Console, action: str, target_type: str, target_id: int | None, **detail: Any
) -> None:
    await audit.record(
        console.session,
        action,
        staff=console.staff,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        ip=client_ip(console.request),
    )


async def attempt(console: Console, work: Awaitable[Any]) -> tuple[Any, bool]:
    """Run a service call; a rule saying no becomes an error flash, nothing half-written.

    Scoping (404) and permissions (403) keep their status: they are no input mistake.
    """
    try:
        return await work, True
    except (NotFound, Forbidden):
        raise
    except DomainError as exc:
        await undo(console)
        flash(console.request, exc.message, "error")
        return None, False


async def undo(console: Console) -> None:
    """Roll back what the request wrote; the logged-in staff member stays usable."""
    await console.session.rollback()
    await console.session.refresh(console.staff)


def done(console: Console) -> None:
    flash(console.request, t(console.lang, "console.done"))
