"""Verification codes to the site's SMS gateway: a real HTTP server on 127.0.0.1 stands in
for it; a gateway that fails or is down is a clear error, never a silent loss."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from backend.composition import code_sender
from backend.settings import Settings
from backend.sms import WebhookCodeSender
from backend.verification import CodeNotSent, LogCodeSender
from tests.fakes.telegram_api import AppServer

SECRET = "relay-secret"


class Gateway:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str, bytes]] = []
        self.status = 200
        self.server = AppServer()

    async def app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.received.append(
            (json.loads(body), request.headers.get("x-ownerdesk-signature", ""), body)
        )
        await JSONResponse({"ok": self.status == 200}, status_code=self.status)(
            scope, receive, send
        )


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    fake = Gateway()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await fake.app(scope, receive, send)  # a function: uvicorn takes it for ASGI 3

    await fake.server.start(app)
    try:
        yield fake
    finally:
        await fake.server.stop()


async def test_the_code_reaches_the_gateway_signed(gateway: Gateway) -> None:
    sender = WebhookCodeSender(f"{gateway.server.url}/sms", SECRET)
    await sender.send("+8613800138000", "482913", "zh")
    [(data, signature, body)] = gateway.received
    assert data["phone"] == "+8613800138000" and data["code"] == "482913"
    assert "482913" in data["text"] and "10 分钟" in data["text"] and data["language"] == "zh"
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    await sender.send("+6591234567", "100200", "en")
    assert "valid for 10 minutes" in gateway.received[-1][0]["text"]


async def test_a_failing_or_missing_gateway_is_a_clear_error(gateway: Gateway) -> None:
    gateway.status = 502
    with pytest.raises(CodeNotSent, match="502"):
        await WebhookCodeSender(f"{gateway.server.url}/sms", SECRET).send("+86138", "1", "zh")
    closed = AppServer()  # bound but never served: nobody answers
    closed.sock.close()
    with pytest.raises(CodeNotSent, match="could not be reached"):
        await WebhookCodeSender(f"{closed.url}/sms", SECRET).send("+86138", "1", "zh")


def test_the_gateway_is_used_when_configured(test_settings: Settings) -> None:
    assert isinstance(code_sender(test_settings), LogCodeSender)
    configured = test_settings.model_copy(update={"sms_webhook_url": "http://127.0.0.1:9/sms"})
    assert isinstance(code_sender(configured), WebhookCodeSender)
