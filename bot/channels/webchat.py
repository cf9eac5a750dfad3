"""Web chat: ``POST /api/webchat/messages`` and the ``/chat`` page, so OwnerDesk can be
tried with no platform account. A session id is the chat account (the page makes a
random one; the demo has ``demo-session`` pre-bound)."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from backend.db import Database
from backend.i18n import LANGUAGES, t
from backend.messaging import MAX_TEXT as STORED_TEXT
from backend.messaging import InboundMessage
from backend.models import ChannelIdentity, Message
from backend.outbox import Delivery
from backend.vocabulary import Channel, Direction
from backend.web.errors import error_response
from bot.channels.admission import Admission
from bot.channels.base import RateLimits, SendOutcome
from bot.frontdesk import FrontDesk

SESSION = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_TEXT = 20_000  # characters; longer is refused with 413, not silently cut
CHANNEL = Channel.WEBCHAT.value


class WebChatIn(BaseModel):
    session: str = Field(min_length=1, max_length=128)
    text: str = ""
    value: str | None = Field(default=None, max_length=200)
    lang: str | None = Field(default=None, max_length=16)
    id: str | None = Field(default=None, max_length=100, description="client message id (dedupe)")


class WebChatSender:
    """The page polls the messages table, so a web-chat row is delivered once written."""

    channel = CHANNEL
    limits = RateLimits(per_second=1000.0)
    delivered_on_write = True  # replies are stored as sent; ``send`` is a fallback

    async def send(self, delivery: Delivery) -> SendOutcome:
        return SendOutcome.sent()


PAGE_TEXTS = {
    "title": "webchat.title",
    "placeholder": "webchat.placeholder",
    "send": "webchat.send",
    "session": "webchat.session",
    "offline": "webchat.offline",
    "retrying": "webchat.retrying",
}
ERROR_TEXTS = {  # API error code → what the page tells the owner
    "busy": "webchat.error.busy",
    "too_large": "webchat.error.too_large",
    "invalid_input": "webchat.error.invalid_input",
    "other": "webchat.error.other",
}


def chat_page() -> str:
    """The page with its texts from ``locales/``: both languages, the switch is client-side."""
    texts = {lang: {name: t(lang, key) for name, key in PAGE_TEXTS.items()} for lang in LANGUAGES}
    errors = {lang: {code: t(lang, key) for code, key in ERROR_TEXTS.items()} for lang in LANGUAGES}
    ui = {lang: {**texts[lang], "errors": errors[lang]} for lang in LANGUAGES}
    # In a <script>, "</" would end it early; JSON's \u003c is the same character.
    ui_json = json.dumps(ui, ensure_ascii=False).replace("<", "\\u003c")
    page = resources.files("bot.channels").joinpath("webchat.html").read_text("utf-8")
    for name in ("title", "placeholder", "send"):  # before the script runs: Chinese
        page = page.replace(f"__{name.upper()}__", html.escape(texts["zh"][name]))
    page = page.replace("__MAX_TEXT__", str(STORED_TEXT))  # what the desk reads of a message
    return page.replace("__UI_JSON__", ui_json)


def _reply_json(text: str, buttons: Any, message_id: int | None) -> dict[str, Any]:
    return {
        "id": message_id,
        "text": text,
        "buttons": [
            {
                "label": b["label"] if isinstance(b, dict) else b.label,
                "value": b["value"] if isinstance(b, dict) else b.value,
            }
            for b in buttons
        ],
    }


def webchat_router(
    db: Database,
    desk: FrontDesk,
    wake: Callable[[], None],
    admission: Admission | None = None,
) -> APIRouter:
    router = APIRouter()
    gate = admission or Admission(max_wait=0)

    @router.post("/api/webchat/messages")
    async def post_message(body: WebChatIn) -> JSONResponse:
        if not SESSION.match(body.session):
            return error_response(422, "invalid_input", "session: letters, digits, _ and - only")
        if len(body.text) > MAX_TEXT:
            return error_response(413, "too_large", f"text: at most {MAX_TEXT} characters")
        inbound = InboundMessage(
            channel=CHANNEL,
            user_id=body.session,
            chat_id=body.session,
            platform_message_id=f"{body.session}:{body.id or uuid.uuid4().hex}",
            text=body.text,
            value=body.value,
            language_hint=body.lang,
        )
        admitted = gate.enter()
        if admitted is None:  # not stored: the page sends it again with the same id
            busy = error_response(503, "busy", "too many messages right now; send it again")
            busy.headers["Retry-After"] = str(gate.retry_after())
            return busy
        try:
            handled = await desk.handle(inbound)
        finally:
            gate.leave(admitted)
        wake()
        result: dict[str, Any] = {
            "replies": [
                _reply_json(r.message.text, r.message.buttons, r.message_id)
                for r in handled.replies
            ],
        }
        if handled.message_id is None:
            result["duplicate"] = True
        if handled.ticket_number:
            result["ticket"] = {"number": handled.ticket_number}
        return JSONResponse(result)

    @router.get("/api/webchat/messages")
    async def poll(
        session: str = Query(max_length=128), after: int = Query(default=0, ge=0)
    ) -> JSONResponse:
        """Messages to this session newer than ``after`` (staff replies, status updates)."""
        if not SESSION.match(session):
            return error_response(422, "invalid_input", "session: letters, digits, _ and - only")
        async with db.session() as s:
            rows = (
                await s.scalars(
                    select(Message)
                    .join(ChannelIdentity, ChannelIdentity.id == Message.identity_id)
                    .where(
                        ChannelIdentity.channel == CHANNEL,
                        ChannelIdentity.external_id == session,
                        Message.direction == Direction.OUT.value,
                        Message.id > after,
                    )
                    .order_by(Message.id)
                    .limit(100)
                )
            ).all()
        return JSONResponse(
            {"messages": [_reply_json(m.text, m.media.get("buttons", []), m.id) for m in rows]}
        )

    page_html = chat_page()

    @router.get("/chat", response_class=HTMLResponse)
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(page_html)

    return router
