"""The action server over HTTP, as Rasa calls it: ``POST /webhook`` with an action call,
JSON ``events`` and ``responses`` back. In-process through ASGI, and the real
``python -m bot.actions.cli serve`` in a subprocess on the test database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sanic import Sanic

from backend.db import Database
from backend.i18n import t
from bot.actions import runtime
from bot.actions.runtime import ActionsRuntime
from bot.actions.server import create_action_app
from tests.actions import EMILY, ZHANG, action_call, bind, slots_set, texts, tickets_of_sender

ROOT = Path(__file__).parents[2]


@pytest.fixture
async def client(
    demo: Database, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    """rasa-sdk's Sanic app driven through ASGI, its start and stop listeners included."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # one app name, one app per test
    runtime.configure(ActionsRuntime(demo))
    app = create_action_app()
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    lifespan = asyncio.create_task(app({"type": "lifespan"}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://actions") as http:
        yield http
    await inbox.put({"type": "lifespan.shutdown"})
    assert (await outbox.get())["type"] == "lifespan.shutdown.complete"
    await lifespan
    await runtime.close()


async def test_webhook_over_asgi(client: httpx.AsyncClient, demo: Database) -> None:
    listed = await client.get("/actions")
    assert {a["name"] for a in listed.json()} >= {"action_open_repair", "action_ticket_status"}

    await bind(demo, "rasa-emily", EMILY)
    call = action_call("action_open_repair", "rasa-emily", "The kitchen tap is dripping")
    response = await client.post("/webhook", json=call)
    assert response.status_code == 200
    body = response.json()
    [ticket] = await tickets_of_sender(demo, "rasa-emily")
    assert body["events"] == [
        {"event": "slot", "timestamp": None, "name": "ticket_number", "value": ticket.number},
        {"event": "slot", "timestamp": None, "name": "urgent", "value": False},
        {"event": "slot", "timestamp": None, "name": "owner_verified", "value": True},
    ]
    [reply] = body["responses"]
    assert reply["text"].startswith("✅ Repair received") and ticket.number in reply["text"]

    response = await client.post(
        "/webhook", json=action_call("action_ticket_status", "rasa-stranger", "我的报修怎么样了")
    )
    assert texts(response.json()) == [t("zh", "binding.intro")]

    response = await client.post("/webhook", json=action_call("action_nope", "x", "hi"))
    assert response.status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_cli_serve_answers_rasa(demo: Database, db_url: str) -> None:
    await bind(demo, "rasa-zhang", ZHANG)
    port = _free_port()
    env = {**os.environ, "OWNERDESK_DATABASE_URL": db_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.actions.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(150):  # the intent model loads before the server listens
                if server.poll() is not None:
                    pytest.fail(
                        f"server exited: {server.stderr.read().decode() if server.stderr else ''}"
                    )
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            call = action_call(
                "action_open_complaint",
                "rasa-zhang",
                "保安晚上一直在岗亭睡觉，叫了好几次都没人理，太不负责了",
                intent="complain",
            )
            response = await http.post("/webhook", json=call)
        assert response.status_code == 200
        [ticket] = await tickets_of_sender(demo, "rasa-zhang")
        assert ticket.kind == "complaint"
        assert slots_set(response.json()) == {
            "ticket_number": ticket.number,
            "urgent": False,
            "owner_verified": True,
        }
        assert ticket.number in texts(response.json())[1]
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
