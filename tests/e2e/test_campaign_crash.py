"""Crash test: ``kill -9`` the service while a 10,000-owner campaign is being delivered to
a fake Telegram; after a restart every owner has received it exactly once.

A real ``ownerdesk serve`` (``tests.fakes.server.serve``, SQLite, the demo) with Telegram
pointed at a fake Bot API on 127.0.0.1 (below), ``OWNERDESK_TELEGRAM_RATE`` raised so that
10,000 messages take seconds instead of Telegram's six minutes. 10,000 owners bound to
Telegram are bulk-inserted into the served database; an admin creates and sends the
campaign in the console; the service is killed with SIGKILL part-way through delivery,
started again, and the test waits until nothing of the campaign is left to send.

What "exactly once" can mean, and what this test assumes. Telegram takes no idempotency
key, so a message Telegram accepted whose "sent" mark was not yet committed when the
process died is sent again after the restart: that window (between Telegram's answer and
the commit, a few milliseconds per message) is inherent to any sender, and OwnerDesk
keeps it as short as it can by committing right after the answer. The test therefore
counts a message as delivered when the platform has answered it to a client that is
still there to read the answer, and places the kill where delivery is in flight but no
answer is awaiting its commit:

- the fake answers after 20–50 ms, so about a hundred sends are in flight at any moment,
  and records a message only when it answers a client still connected (a request that
  dies with the process is not a delivery);
- to kill, it stops answering (new sends hang at a gate), waits until every answer
  already given is committed as sent by the service, and the service is then killed
  with its in-flight sends hanging. Those rows stay ``sending`` under a 60-second lease
  (``backend.outbox.LEASE``) before anyone may retry them; rather than wait the minute
  out, the test moves the leases into the past, as if it had passed.

After the restart the in-flight rows are reclaimed and sent once, the rows never tried
are sent once, and the rows already sent are not sent again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse

from backend.db import Database
from tests.campaigns.population import populate
from tests.fakes.server import serve
from tests.fakes.telegram_api import BOT_USER, TOKEN, AppServer

OWNERS = 10_000
FIRST_CHAT = 6_000_000
MARK = "crash-test"
TEXT_ZH = "{name}您好，{estate}本周六开放日。" + MARK
TEXT_EN = "Dear {name}, open day at {estate} on Saturday. " + MARK
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class GatedTelegram:
    """Just enough Bot API for OwnerDesk (getMe, deleteWebhook, getUpdates, sendMessage),
    on its own thread and loop, with a gate that stops all answers at once."""

    def __init__(self) -> None:
        self.delivered: Counter[int] = Counter()  # chat → campaign messages delivered
        self.other: list[str] = []  # anything else sent (not expected, but not counted)
        self.answering = 0  # past the gate, answer not yet given or dropped
        self.held = 0  # waiting at the gate
        self.dropped = 0  # the client was gone when the answer was ready
        self._ids = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = AppServer()
        self.base_url = f"{self._server.url}/bot"
        self._open: asyncio.Event

    # --- running ---------------------------------------------------------------------------

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def __enter__(self) -> GatedTelegram:
        self._thread.start()

        async def start() -> None:
            self._open = asyncio.Event()
            self._open.set()
            await self._server.start(self._app())

        self._call(start())
        return self

    def __exit__(self, *_: object) -> None:
        self.open()
        self._call(self._server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._open.clear)

    def open(self) -> None:
        self._loop.call_soon_threadsafe(self._open.set)

    # --- the Bot API (a bare ASGI app: the fake must cost the machine little) ------------

    def _app(self) -> Callable[..., Awaitable[None]]:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            request = Request(scope, receive)
            _, token, method = [*scope["path"].split("/", 2), "", ""][:3]
            params = _parse(await request.body(), request.headers.get("content-type", ""))
            if token != f"bot{TOKEN}":
                response = JSONResponse({"ok": False, "error_code": 401}, status_code=401)
            elif method == "getMe":
                response = JSONResponse({"ok": True, "result": BOT_USER})
            elif method == "deleteWebhook":
                response = JSONResponse({"ok": True, "result": True})
            elif method == "getUpdates":
                await asyncio.sleep(min(float(params.get("timeout") or 0), 0.5))
                response = JSONResponse({"ok": True, "result": []})
            elif method == "sendMessage":
                response = await self._send(request, params)
            else:
                response = JSONResponse({"ok": False, "error_code": 404}, status_code=404)
            await response(scope, receive, send)

        return app

    async def _send(self, request: Request, params: dict[str, Any]) -> JSONResponse:
        self.held += 1
        await self._open.wait()
        self.held -= 1
        self.answering += 1
        await asyncio.sleep(random.uniform(0.02, 0.05))
        if await request.is_disconnected():  # the sender died meanwhile: not delivered
            self.answering -= 1
            self.dropped += 1
            return JSONResponse({"ok": False, "error_code": 499}, status_code=499)
        chat, text = int(params["chat_id"]), str(params.get("text") or "")
        message = {
            "message_id": next(self._ids),
            "from": BOT_USER,
            "chat": {"id": chat, "type": "private", "first_name": "Owner"},
            "date": int(time.time()),
            "text": text,
        }
        # Recorded once the answer is written (Starlette runs this after the body went out).
        return JSONResponse(
            {"ok": True, "result": message}, background=BackgroundTask(self._record, chat, text)
        )

    def _record(self, chat: int, text: str) -> None:
        if MARK in text:
            self.delivered[chat] += 1
        else:
            self.other.append(text)
        self.answering -= 1

    @property
    def total(self) -> int:
        return sum(self.delivered.values())


# --- helpers ---------------------------------------------------------------------------------


def _parse(body: bytes, content_type: str) -> dict[str, Any]:
    """python-telegram-bot posts form fields (JSON bodies are accepted too)."""
    if content_type.startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    return dict(parse_qsl(body.decode()))


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db, timeout=30) as conn:
        return list(conn.execute(sql))


def states(db: Path, campaign_id: int) -> dict[str, int]:
    rows = query(
        db,
        "SELECT state, count(*) FROM outbox "
        f"WHERE campaign_id = {int(campaign_id)} AND channel = 'telegram' GROUP BY state",
    )
    return {str(state): int(count) for state, count in rows}


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@contextmanager
def console(base: str) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/console/login")
        token = CSRF.search(page.text)
        assert token
        client.post(
            "/console/login",
            data={"username": "admin", "password": "ownerdesk-demo", "csrf_token": token[1]},
        )
        found = CSRF.search(client.get("/console/campaigns").text)
        assert found
        yield client, found[1]


def start_campaign(base: str, estate_id: int) -> int:
    with console(base) as (client, csrf):
        created = client.post(
            "/console/campaigns",
            data={
                "csrf_token": csrf,
                "name": "开放日 · crash test",
                "text_zh": TEXT_ZH,
                "text_en": TEXT_EN,
                "estate_ids": str(estate_id),
            },
        )
        assert created.status_code == 303, created.text[-500:]
        campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
        sent = client.post(f"/console/campaigns/{campaign_id}/send", data={"csrf_token": csrf})
        assert sent.status_code == 303
    return campaign_id


# --- the test --------------------------------------------------------------------------------


def test_kill_9_during_a_10000_owner_campaign_then_everyone_gets_it_once(
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    db_file = tmp_path / "ownerdesk.db"
    with GatedTelegram() as fake:
        env = {
            "OWNERDESK_TELEGRAM_TOKEN": TOKEN,
            "OWNERDESK_TELEGRAM_BASE_URL": fake.base_url,
            "OWNERDESK_TELEGRAM_RATE": "5000",
        }
        with serve(tmp_path, extra_env=env) as first:
            people = asyncio.run(_populate(first.database_url))
            campaign_id = start_campaign(first.base_url, people)
            # Every owner planned; the worker, woken by the send, may already be at work.
            planned = states(db_file, campaign_id)
            assert sum(planned.values()) == OWNERS, planned
            assert set(planned) <= {"pending", "sending", "sent"}, planned
            # Part-way: somewhere between a fifth and a half of the owners served.
            wait_until(
                lambda: fake.total >= random.randint(OWNERS // 5, OWNERS // 2),
                180,  # generous: a slow shared runner must fail on a bug, not on time
                "delivery to get going",
            )
            fake.close()
            wait_until(
                lambda: fake.answering == 0 and fake.held > 0, 30, "sends in flight", every=0.005
            )
            wait_until(
                lambda: states(db_file, campaign_id).get("sent", 0) == fake.total,
                30,
                "every answer given to be committed",
                every=0.02,
            )
            in_flight = fake.held
            first.kill()
        before = states(db_file, campaign_id)
        delivered_before = fake.total
        assert before["sent"] == delivered_before and 0 < delivered_before < OWNERS
        assert before.get("sending", 0) > 0 and before.get("pending", 0) > 0, before
        # The dead process's leases run out (as if its minute had passed).
        with sqlite3.connect(db_file, timeout=30) as conn:
            conn.execute(
                "UPDATE outbox SET claimed_until = '2000-01-01 00:00:00.000000' "
                "WHERE state = 'sending'"
            )
        fake.open()  # the hanging sends of the dead process now find nobody to answer
        with serve(tmp_path, extra_env=env):
            wait_until(
                lambda: not ({"pending", "sending"} & set(states(db_file, campaign_id))),
                300,
                "the rest of the campaign to be delivered",
            )
            time.sleep(0.5)  # long enough for a late duplicate to show up, if there were one
        after = states(db_file, campaign_id)
    chats = set(range(FIRST_CHAT, FIRST_CHAT + OWNERS))
    twice = sorted(chat for chat, n in fake.delivered.items() if n > 1)
    assert twice == [], f"{len(twice)} owners got it twice, e.g. {twice[:5]}"
    assert set(fake.delivered) == chats, f"{len(chats - set(fake.delivered))} never got it"
    assert fake.total == OWNERS and after == {"sent": OWNERS}
    assert fake.dropped >= 1 and in_flight >= 1  # sends really were cut off by the kill
    print(
        f"\nkilled with {delivered_before} of {OWNERS} delivered, {before.get('sending', 0)} in "
        f"flight ({in_flight} hanging at the fake); after the restart {OWNERS} delivered "
        f"once each; {time.monotonic() - started:.1f} s in all"
    )


async def _populate(database_url: str) -> int:
    db = Database(database_url)
    try:
        people = await populate(db, OWNERS, code="CRASH", first_chat=FIRST_CHAT)
    finally:
        await db.dispose()
    return people.estate_id
