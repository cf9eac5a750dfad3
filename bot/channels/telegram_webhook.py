"""``POST /telegram/webhook``: Telegram's calls in webhook mode (DESIGN.md, "HTTP").

Checks the secret header before reading anything (constant-time: the secret is the only
thing between the internet and an owner's identity), refuses bodies that are not
updates with 400, and answers 200 only once the update is stored (503 otherwise, so
Telegram delivers it again).
"""

from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from telegram import Update

from backend.web.errors import error_response
from bot.channels.telegram_receiver import SECRET_HEADER, Receipt, TelegramReceiver

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
MAX_BODY = 1_000_000  # bytes; a Telegram update is a few KB


def webhook_router(receiver: TelegramReceiver) -> APIRouter:
    router = APIRouter()
    secret = receiver.secret.encode()

    @router.post(WEBHOOK_PATH)
    async def webhook(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER)
        caller = request.client.host if request.client else "?"
        if not given:
            log.warning("Telegram webhook call without the secret from %s", caller)
            return error_response(401, "unauthorized", f"missing {SECRET_HEADER}")
        if not hmac.compare_digest(given.encode(), secret):
            log.warning("Telegram webhook call with a wrong secret from %s", caller)
            return error_response(403, "forbidden", f"wrong {SECRET_HEADER}")
        body = await request.body()
        if len(body) > MAX_BODY:
            return error_response(413, "too_large", "a Telegram update is never this big")
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, receiver.bot)
        except Exception as exc:
            log.warning("malformed Telegram webhook body from %s: %s", caller, exc)
            return error_response(400, "bad_request", "the body is not a Telegram update")
        if await receiver.receive(update) is Receipt.FAILED:
            return error_response(503, "unavailable", "not stored; deliver it again later")
        return JSONResponse({"ok": True})

    return router
