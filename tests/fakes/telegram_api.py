"""A fake Telegram Bot API server for end-to-end tests and the delivery benchmark.

A real HTTP server (FastAPI under uvicorn, on 127.0.0.1 and a free port, in the test's
event loop) that python-telegram-bot talks to exactly as it talks to Telegram: point
``OWNERDESK_TELEGRAM_BASE_URL`` at ``fake.base_url``. It serves what PTB calls
(getMe, getUpdates with long polling and offsets, setWebhook/deleteWebhook/
getWebhookInfo, sendMessage, sendPhoto, answerCallbackQuery, editMessageReplyMarkup,
getFile), records every message sent, and can misbehave on purpose:

- ``fail(n, status=429, retry_after=1)`` / ``fail(n, status=502)``: the next n sends fail;
- ``block(chat)``: 403 "bot was blocked by the user"; ``forget(chat)``: 400 chat not found;
- ``enforce_limits()``: at most 30 sends in any 1-second window and one per second to a
  chat, like Telegram; a send over the limit gets 429 and is counted in ``violations``.

Owners are played with ``fake.user(900001).text("…")``, ``.tap(message, "repair:submit")``,
``.photo()``, ``.voice()``… In polling mode updates queue for ``getUpdates``; once a
webhook is set they are POSTed to it with the secret header, like Telegram does.

Standalone (``python -m tests.fakes.telegram_api [--enforce-limits]``) it prints its base
URL and token as JSON and serves ``POST /_fake/say`` and ``GET /_fake/state?full=true``,
for the delivery benchmark and for trying the bot by hand (docs/telegram.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

TOKEN = "123456:TEST-fake-token"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "OwnerDesk",
    "username": "ownerdesk_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
SEND_METHODS = frozenset({"sendMessage", "sendPhoto"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
T = TypeVar("T")


class AppServer:
    """Serves an ASGI app with uvicorn on 127.0.0.1, as a task of the running event loop.

    The socket is bound at construction, so ``url`` is known before the app exists (a
    webhook URL goes into the settings the app is built from) and no port can be taken
    by someone else in between.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self, app: Any) -> None:
        config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1, ws="none")
        self.server = uvicorn.Server(config)
        self._task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, timeout=5)
        self.sock.close()


@dataclass
class Sent:
    """One message the bot sent, as the fake stored (and answered) it."""

    chat_id: int
    message_id: int
    method: str
    text: str
    reply_markup: dict[str, Any] | None
    photo: str | None
    at: float  # time.monotonic() when accepted
    raw: dict[str, Any] = field(repr=False, default_factory=dict)  # the Message JSON returned

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]

    @property
    def rows(self) -> list[list[str]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[b["text"] for b in row] for row in rows]


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int
    at: float


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: int = 1
    chat_id: int | None = None  # None: any chat


class FakeTelegram:
    def __init__(self, token: str = TOKEN, *, max_poll_wait: float = 0.5) -> None:
        self.token = token
        self.max_poll_wait = max_poll_wait  # a getUpdates never waits longer than this
        self.sent: list[Sent] = []
        self.calls: list[Call] = []
        self.answered: list[str] = []  # callback query ids
        self.updates: list[dict[str, Any]] = []  # not yet confirmed by an offset
        self.confirmed_offset = 0  # highest offset a getUpdates call confirmed
        self.webhook: dict[str, Any] | None = None  # url, secret_token, allowed_updates
        self.webhook_statuses: list[int] = []
        self.blocked: set[int] = set()
        self.unknown: set[int] = set()
        self.faults: deque[Fault] = deque()
        self.limits: tuple[float, float] | None = None  # (per_second, per_chat_interval)
        self.violations = 0  # sends refused for breaking the limits (both kinds)
        self.violations_global = 0
        self.violations_chat = 0
        self.refused: list[tuple[int, float]] = []  # (chat, time) of each send over the limits
        self._ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._window: deque[float] = deque()  # accepted sends in the last second
        self._last_to_chat: dict[int, float] = {}
        self._changed = asyncio.Condition()
        self._poll_generation = 0
        self._closing = asyncio.Event()
        self._server = AppServer()
        self._webhook_client = httpx.AsyncClient(timeout=30)
        self.base_url = f"{self._server.url}/bot"

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        await self._server.start(self._app())
        return self

    async def stop(self) -> None:
        self._closing.set()
        async with self._changed:
            self._changed.notify_all()
        await self._server.stop()
        await self._webhook_client.aclose()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # --- misbehaving on purpose ----------------------------------------------------------

    def fail(
        self, n: int, status: int = 429, *, retry_after: int = 1, chat: int | None = None
    ) -> None:
        """The next ``n`` sends (to ``chat``, or to anyone) fail with ``status``."""
        self.faults.append(Fault(status, n, retry_after, chat))

    def block(self, chat: int) -> None:
        self.blocked.add(int(chat))

    def forget(self, chat: int) -> None:
        self.unknown.add(int(chat))

    def enforce_limits(self, per_second: float = 30, per_chat_interval: float = 1.0) -> None:
        self.limits = (per_second, per_chat_interval)

    # --- what happened -------------------------------------------------------------------

    def to(self, chat: int | str) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == int(chat)]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_sent(self, chat: int | str, n: int, timeout: float = 10.0) -> list[Sent]:
        """The first ``n`` messages to ``chat``, once they are there."""

        def enough() -> bool:
            return len(self.to(chat)) >= n

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(enough), timeout)
            except TimeoutError:
                texts = [s.text[:60] for s in self.to(chat)]
                raise AssertionError(
                    f"{len(texts)} of {n} messages reached {chat}: {texts}"
                ) from None
        return self.to(chat)[:n]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Until ``predicate()`` holds (checked on every change, and every 20 ms)."""
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._changed:
            while not predicate():
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise AssertionError("the fake Telegram never got there")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(left, 0.02))

    # --- playing an owner ----------------------------------------------------------------

    def user(
        self, user_id: int, first_name: str = "Owner", language_code: str | None = "zh-hans"
    ) -> FakeUser:
        return FakeUser(self, user_id, first_name, language_code)

    async def push(self, update: dict[str, Any]) -> int | None:
        """Hand an update to the bot: queued for getUpdates, or POSTed to the webhook (then
        the HTTP status of the bot's answer is returned)."""
        if self.webhook is not None:
            return await self.deliver(update)
        async with self._changed:
            self.updates.append(update)
            self._changed.notify_all()
        return None

    async def deliver(self, update: dict[str, Any]) -> int:
        """POST ``update`` to the webhook once, as Telegram would."""
        assert self.webhook is not None, "no webhook set"
        headers = {}
        if self.webhook.get("secret_token"):
            headers[SECRET_HEADER] = self.webhook["secret_token"]
        response = await self._webhook_client.post(
            self.webhook["url"], json=update, headers=headers
        )
        self.webhook_statuses.append(response.status_code)
        return response.status_code

    def new_update_id(self) -> int:
        return next(self._ids)

    def next_message_id(self, chat: int) -> int:
        return next(self._message_ids[chat])

    # --- the Bot API ---------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/_fake/state")
        async def state(full: bool = False) -> JSONResponse:
            """For a fake in another process (the benchmark): what it saw."""
            body: dict[str, Any] = {
                "sent": len(self.sent),
                "violations": self.violations,
                "violations_global": self.violations_global,
                "violations_chat": self.violations_chat,
            }
            if full:
                body["messages"] = [[m.chat_id, m.text, m.at] for m in self.sent]
                body["refused"] = [list(r) for r in self.refused]
            return JSONResponse(body)

        @app.post("/_fake/say")
        async def say(request: Request) -> JSONResponse:
            """Play an owner from outside (trying the bot by hand): {"user_id", "text",
            "language_code"?} becomes a message update."""
            data = await request.json()
            user = self.user(int(data["user_id"]), language_code=data.get("language_code"))
            update = user.message_update(text=str(data["text"]))
            return JSONResponse(
                {"update_id": update["update_id"], "webhook": await self.push(update)}
            )

        @app.post("/bot{token}/{method}")
        async def api(token: str, method: str, request: Request) -> JSONResponse:
            params = await _params(request)
            if token != self.token:
                return self._answer(method, params, 401, error="Unauthorized")
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                return self._answer(method, params, 404, error="Not Found: method not found")
            return await handler(method, params)

        return app

    def _answer(
        self,
        method: str,
        params: dict[str, Any],
        status: int = 200,
        result: Any = True,
        *,
        error: str = "",
        retry_after: int | None = None,
    ) -> JSONResponse:
        self.calls.append(Call(method, params, status, time.monotonic()))
        if status == 200:
            return JSONResponse({"ok": True, "result": result})
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": error}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return JSONResponse(body, status_code=status)

    async def _m_getMe(self, method: str, params: dict[str, Any]) -> JSONResponse:
        return self._answer(method, params, result=BOT_USER)

    async def _m_getUpdates(self, method: str, params: dict[str, Any]) -> JSONResponse:
        if self.webhook is not None:
            return self._answer(
                method,
                params,
                409,
                error="Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        async with self._changed:
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            self._poll_generation += 1
            generation = self._poll_generation
            self._changed.notify_all()  # an older poll still waiting is terminated

            def ready() -> bool:
                return (
                    bool(self.updates)
                    or generation != self._poll_generation
                    or self._closing.is_set()
                )

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(ready), wait)
            if generation != self._poll_generation:
                return self._answer(
                    method,
                    params,
                    409,
                    error="Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            return self._answer(method, params, result=self.updates[:limit])

    async def _m_setWebhook(self, method: str, params: dict[str, Any]) -> JSONResponse:
        self.webhook = {
            "url": params["url"],
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
        }
        return self._answer(method, params)

    async def _m_deleteWebhook(self, method: str, params: dict[str, Any]) -> JSONResponse:
        self.webhook = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self.updates.clear()
        return self._answer(method, params)

    async def _m_getWebhookInfo(self, method: str, params: dict[str, Any]) -> JSONResponse:
        info = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        return self._answer(method, params, result=info)

    async def _m_answerCallbackQuery(self, method: str, params: dict[str, Any]) -> JSONResponse:
        self.answered.append(str(params["callback_query_id"]))
        async with self._changed:
            self._changed.notify_all()
        return self._answer(method, params)

    async def _m_editMessageReplyMarkup(self, method: str, params: dict[str, Any]) -> JSONResponse:
        return self._answer(method, params)

    async def _m_getFile(self, method: str, params: dict[str, Any]) -> JSONResponse:
        file_id = str(params["file_id"])
        result = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_path": f"files/{file_id}",
        }
        return self._answer(method, params, result=result)

    async def _m_sendMessage(self, method: str, params: dict[str, Any]) -> JSONResponse:
        return await self._send(method, params)

    async def _m_sendPhoto(self, method: str, params: dict[str, Any]) -> JSONResponse:
        return await self._send(method, params)

    async def _send(self, method: str, params: dict[str, Any]) -> JSONResponse:
        now = time.monotonic()
        chat = int(params["chat_id"])
        if chat in self.blocked:
            return self._answer(method, params, 403, error="Forbidden: bot was blocked by the user")
        if chat in self.unknown:
            return self._answer(method, params, 400, error="Bad Request: chat not found")
        fault = next((f for f in self.faults if f.chat_id in (None, chat)), None)
        if fault is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.faults.remove(fault)
            if fault.status == 429:
                return self._answer(
                    method,
                    params,
                    429,
                    error=f"Too Many Requests: retry after {fault.retry_after}",
                    retry_after=fault.retry_after,
                )
            return self._answer(method, params, fault.status, error="Bad Gateway")
        if self._over_limit(chat, now):
            self.violations += 1
            self.refused.append((chat, now))
            return self._answer(
                method, params, 429, error="Too Many Requests: retry after 1", retry_after=1
            )
        self._window.append(now)
        self._last_to_chat[chat] = now
        message_id = self.next_message_id(chat)
        markup = params.get("reply_markup")
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat, "type": "private", "first_name": "Owner"},
            "date": int(time.time()),
        }
        text = str(params.get("text") or params.get("caption") or "")
        photo = None
        if method == "sendPhoto":
            photo = str(params.get("photo"))
            message["photo"] = [
                {"file_id": photo, "file_unique_id": f"u{message_id}", "width": 800, "height": 600}
            ]
            if params.get("caption"):
                message["caption"] = text
        else:
            message["text"] = text
        if markup:
            message["reply_markup"] = markup
        async with self._changed:
            self.sent.append(Sent(chat, message_id, method, text, markup, photo, now, message))
            self._changed.notify_all()
        return self._answer(method, params, result=message)

    def _over_limit(self, chat: int, now: float) -> bool:
        """Would this send break the limits (counted by kind)?"""
        if self.limits is None:
            return False
        per_second, per_chat = self.limits
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        last = self._last_to_chat.get(chat)
        if last is not None and now - last < per_chat:
            self.violations_chat += 1
            return True
        if len(self._window) >= per_second:
            self.violations_global += 1
            return True
        return False


class FakeTelegramThread:
    """The fake on its own thread and event loop, like a server on another machine: its
    work does not stall the loop it is measuring (the delivery benchmark). Read its state
    (``fake.sent``, ``fake.violations``) freely; call its coroutines through ``call``."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-telegram", daemon=True
        )
        self.fake: FakeTelegram

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def __enter__(self) -> FakeTelegram:
        self._thread.start()

        async def make() -> FakeTelegram:
            return await FakeTelegram(**self._options).start()

        self.fake = self.call(make())
        return self.fake

    def __exit__(self, *_: object) -> None:
        self.call(self.fake.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


class FakeUser:
    """An owner in a private chat with the bot (chat id = user id, as on Telegram)."""

    def __init__(
        self, fake: FakeTelegram, user_id: int, first_name: str, language_code: str | None
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self._callbacks = itertools.count(1)

    @property
    def sent_to_me(self) -> list[Sent]:
        return self.fake.to(self.id)

    def _from(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def message_update(self, **content: Any) -> dict[str, Any]:
        """An update with a message from this owner (``content``: text, photo, voice…)."""
        return {
            "update_id": self.fake.new_update_id(),
            "message": {
                "message_id": self.fake.next_message_id(self.id),
                "from": self._from(),
                "chat": {"id": self.id, "type": "private", "first_name": self.first_name},
                "date": int(time.time()),
                **content,
            },
        }

    async def text(self, text: str) -> dict[str, Any]:
        update = self.message_update(text=text)
        await self.fake.push(update)
        return update

    async def photo(self, file_id: str = "photo-big", caption: str = "") -> dict[str, Any]:
        sizes = [
            {"file_id": f"{file_id}-thumb", "file_unique_id": "t", "width": 90, "height": 67},
            {"file_id": file_id, "file_unique_id": "b", "width": 1280, "height": 960},
        ]
        update = self.message_update(photo=sizes, **({"caption": caption} if caption else {}))
        await self.fake.push(update)
        return update

    async def voice(self) -> dict[str, Any]:
        voice = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 3}
        update = self.message_update(voice=voice)
        await self.fake.push(update)
        return update

    async def sticker(self) -> dict[str, Any]:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        update = self.message_update(sticker=sticker)
        await self.fake.push(update)
        return update

    async def location(self, latitude: float = 31.23, longitude: float = 121.47) -> dict[str, Any]:
        update = self.message_update(location={"latitude": latitude, "longitude": longitude})
        await self.fake.push(update)
        return update

    def tap_update(self, message: Sent, button: str) -> dict[str, Any]:
        """A tap on the button of ``message`` whose callback_data (or label) is ``button``
        (a value prefix like ``rate:`` picks the first match)."""
        for label, data in message.buttons:
            if button in (data, label) or data.startswith(button):
                return {
                    "update_id": self.fake.new_update_id(),
                    "callback_query": {
                        "id": f"{self.id}-{next(self._callbacks)}",
                        "from": self._from(),
                        "message": message.raw,
                        "chat_instance": f"ci-{self.id}",
                        "data": data,
                    },
                }
        raise AssertionError(f"no button {button!r} on {message.text[:40]!r}: {message.buttons}")

    async def tap(self, message: Sent, button: str) -> dict[str, Any]:
        update = self.tap_update(message, button)
        await self.fake.push(update)
        return update


async def _params(request: Request) -> dict[str, Any]:
    """PTB posts form fields (JSON-encoded where not plain strings) or multipart."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        data = json.loads(body) if body else {}
        return dict(data)
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if not isinstance(value, str):
            params[key] = getattr(value, "filename", "upload")
            continue
        if key in ("reply_markup", "allowed_updates"):
            params[key] = json.loads(value)
        else:
            params[key] = value
    return params


async def _serve(enforce: bool) -> None:
    """Run until stdin closes; print where to find it as one JSON line."""
    async with FakeTelegram() as fake:
        if enforce:
            fake.enforce_limits()
        print(json.dumps({"base_url": fake.base_url, "token": fake.token}), flush=True)
        await asyncio.to_thread(sys.stdin.read)


if __name__ == "__main__":  # python -m tests.fakes.telegram_api [--enforce-limits]
    asyncio.run(_serve("--enforce-limits" in sys.argv))
