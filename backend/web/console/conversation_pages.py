"""Console: chats waiting for a person — read the last messages, reply, take the chat over
from the bot and hand it back. Unverified chats are here too: nobody else would see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from backend import desk, handoffs
from backend.access import Permission
from backend.web.console.common import attempt, done, page_context, record, redirect
from backend.web.console.render import render
from backend.web.console.security import Console, console_action, console_user

PAGE = "/console/conversations"


def conversation_pages(wake: Callable[[], None]) -> APIRouter:
    router = APIRouter(prefix="/console")

    @router.get("/conversations", response_class=HTMLResponse)
    async def conversations(console: Annotated[Console, Depends(console_user)]) -> HTMLResponse:
        waiting, held = await handoffs.handoffs(console.session, console.ctx)
        return render(
            console,
            "conversations.html",
            waiting_chats=waiting,
            held_chats=held,
            **await page_context(console),
        )

    @router.get("/conversations/{conversation_id}/messages", response_class=HTMLResponse)
    async def messages(
        console: Annotated[Console, Depends(console_user)], conversation_id: int
    ) -> HTMLResponse:
        """The last messages of one chat, for htmx to refresh while staff read."""
        chat = await handoffs.visible_chat(console.session, console.ctx, conversation_id)
        return render(console, "_conversation_lines.html", chat=chat)

    @router.post("/conversations/{conversation_id}/reply")
    async def reply(
        console: Annotated[Console, Depends(console_action)],
        conversation_id: int,
        text: Annotated[str, Form(max_length=desk.MAX_REPLY)],
    ) -> Response:
        console.ctx.require(Permission.REPLY)
        chat = await handoffs.visible_chat(console.session, console.ctx, conversation_id)
        sent, ok = await attempt(
            console, desk.reply(console.session, console.staff, text, identity=chat.identity)
        )
        if ok:
            await record(
                console,
                "conversation_reply",
                "conversation",
                conversation_id,
                identity_id=chat.identity.id,
                message_id=sent.id,
                length=len(text),
            )
            await console.session.commit()  # the delivery worker must find the row it is woken for
            wake()
            done(console)
        return redirect(f"{PAGE}#chat-{conversation_id}")

    @router.post("/conversations/{conversation_id}/take-over")
    async def take_over(
        console: Annotated[Console, Depends(console_action)], conversation_id: int
    ) -> Response:
        console.ctx.require(Permission.TAKE_OVER)
        chat = await handoffs.visible_chat(console.session, console.ctx, conversation_id)
        await desk.take_over(console.session, chat.identity.id, console.staff)
        await record(
            console, "take_over", "conversation", conversation_id, identity_id=chat.identity.id
        )
        done(console)
        return redirect(f"{PAGE}#chat-{conversation_id}")

    @router.post("/conversations/{conversation_id}/hand-back")
    async def hand_back(
        console: Annotated[Console, Depends(console_action)], conversation_id: int
    ) -> Response:
        console.ctx.require(Permission.TAKE_OVER)
        chat = await handoffs.visible_chat(console.session, console.ctx, conversation_id)
        await desk.hand_back(console.session, chat.identity.id)
        await record(
            console, "hand_back", "conversation", conversation_id, identity_id=chat.identity.id
        )
        done(console)
        return redirect(PAGE)

    return router
