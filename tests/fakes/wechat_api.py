"""A fake WeChat: the API server our sender and CLI talk to, and the push side that
delivers owners' messages to our callback the way WeChat's servers do.

``FakeWeChat`` is a real HTTP server (FastAPI under uvicorn in a thread, 127.0.0.1, free
port) implementing ``token``, ``message/custom/send``, ``message/template/send``,
``menu/create`` and ``media/get``. It records what arrives and answers injected faults:
``fail("message/custom/send", 45015)`` makes the next call to that endpoint answer 45015,
``expire_token()`` makes the current token answer 42001 once, ``unsubscribed`` openids
get 43004.

``WeChatPush`` signs each push with the account's token (and in safe mode encrypts it
and signs ``msg_signature``) using wechatpy's own crypto, and reads passive replies back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from defusedxml.ElementTree import fromstring
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from backend.composition import Runtime, build_runtime
from backend.db import Database
from backend.settings import Settings
from backend.verification import CodeSender
from backend.web.app import create_app

APPID = "wx0ff1ce0000000001"
SECRET = "fake-app-secret"
TOKEN = "fake-callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as in the MP console
ACCOUNT = "gh_0wnerdesk0001"  # the Official Account's original id (ToUserName)

_msg_ids = itertools.count(int(time.time()) * 1000)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class FakeWeChat:
    """What the fake API server has seen, and the faults it will answer with."""

    def __init__(self, appid: str = APPID, secret: str = SECRET) -> None:
        self.appid = appid
        self.secret = secret
        self._lock = threading.Lock()
        self.base_url = ""
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.token_requests = 0
            self.valid_tokens: set[str] = set()
            self.expired_tokens: set[str] = set()
            self.custom: list[dict[str, Any]] = []
            self.templates: list[dict[str, Any]] = []
            self.menus: list[dict[str, Any]] = []
            self.faults: dict[str, list[int]] = {}
            self.http_faults: dict[str, list[int]] = {}
            self.unsubscribed: set[str] = set()
            self.calls: list[str] = []

    # --- fault injection ---------------------------------------------------------------

    def fail(self, endpoint: str, *codes: int) -> None:
        """The next ``len(codes)`` calls to ``endpoint`` answer these error codes."""
        with self._lock:
            self.faults.setdefault(endpoint, []).extend(codes)

    def fail_http(self, endpoint: str, *statuses: int) -> None:
        """The next calls to ``endpoint`` answer these HTTP statuses (e.g. 502)."""
        with self._lock:
            self.http_faults.setdefault(endpoint, []).extend(statuses)

    def expire_token(self) -> None:
        """Every token issued so far answers 42001 (access_token expired)."""
        with self._lock:
            self.expired_tokens |= self.valid_tokens
            self.valid_tokens.clear()

    # --- what arrived ------------------------------------------------------------------

    def texts_to(self, openid: str) -> list[str]:
        with self._lock:
            return [
                m["text"]["content"]
                for m in self.custom
                if m.get("touser") == openid and m.get("msgtype") == "text"
            ]

    def templates_to(self, openid: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.templates if m.get("touser") == openid]

    # --- the API -----------------------------------------------------------------------

    def _issue(self) -> dict[str, Any]:
        with self._lock:
            self.token_requests += 1
            token = f"token-{uuid.uuid4().hex}"
            self.valid_tokens.add(token)
            return {"access_token": token, "expires_in": 7200}

    def _check(self, endpoint: str, token: str | None) -> dict[str, Any] | None:
        """The error this call gets, if any (token first, then injected faults)."""
        with self._lock:
            self.calls.append(endpoint)
            if token in self.expired_tokens:
                self.expired_tokens.discard(token)
                return {"errcode": 42001, "errmsg": "access_token expired"}
            if token not in self.valid_tokens:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            queue = self.faults.get(endpoint)
            if queue:
                code = queue.pop(0)
                return {"errcode": code, "errmsg": f"injected fault {code}"}
        return None

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.get("/cgi-bin/token")
        async def token(grant_type: str = "", appid: str = "", secret: str = "") -> JSONResponse:
            if grant_type != "client_credential":
                return JSONResponse({"errcode": 40002, "errmsg": "invalid grant_type"})
            if appid != self.appid:
                return JSONResponse({"errcode": 40013, "errmsg": "invalid appid"})
            if secret != self.secret:
                return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
            return JSONResponse(self._issue())

        async def record(
            request: Request, endpoint: str, into: list[dict[str, Any]]
        ) -> JSONResponse:
            with self._lock:
                statuses = self.http_faults.get(endpoint)
                status = statuses.pop(0) if statuses else None
            if status is not None:
                return JSONResponse({"message": "bad gateway"}, status_code=status)
            error = self._check(endpoint, request.query_params.get("access_token"))
            if error:
                return JSONResponse(error)
            body = json.loads(await request.body())
            if body.get("touser") in self.unsubscribed:
                return JSONResponse({"errcode": 43004, "errmsg": "require subscribe"})
            with self._lock:
                into.append(body)
                msgid = len(into)
            return JSONResponse({"errcode": 0, "errmsg": "ok", "msgid": msgid})

        @api.post("/cgi-bin/message/custom/send")
        async def custom(request: Request) -> JSONResponse:
            return await record(request, "message/custom/send", self.custom)

        @api.post("/cgi-bin/message/template/send")
        async def template(request: Request) -> JSONResponse:
            return await record(request, "message/template/send", self.templates)

        @api.post("/cgi-bin/menu/create")
        async def menu(request: Request) -> JSONResponse:
            return await record(request, "menu/create", self.menus)

        @api.get("/cgi-bin/media/get")
        async def media(request: Request, media_id: str = "") -> Response:
            error = self._check("media/get", request.query_params.get("access_token"))
            if error:
                return JSONResponse(error)
            return Response(f"image:{media_id}".encode(), media_type="image/jpeg")

        return api


@contextmanager
def fake_wechat_server(fake: FakeWeChat | None = None) -> Iterator[FakeWeChat]:
    """Serve a ``FakeWeChat`` over HTTP in a thread; ``fake.base_url`` is the API base."""
    fake = fake or FakeWeChat()
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(fake.app(), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake WeChat server did not start")
        time.sleep(0.01)
    fake.base_url = f"http://127.0.0.1:{port}/cgi-bin/"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# --- the push side ---------------------------------------------------------------------


@dataclass
class Pushed:
    """Our callback's answer to one push."""

    response: httpx.Response
    reply: str | None  # the passive reply's text, decrypted in safe mode

    @property
    def status(self) -> int:
        return self.response.status_code


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_of(fields: dict[str, Any]) -> str:
    inner = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}>{cdata(str(v))}</{k}>"
        for k, v in fields.items()
    )
    return f"<xml>{inner}</xml>"


class WeChatPush:
    """Plays WeChat's servers: signs (and in safe mode encrypts) pushes to our callback."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        token: str = TOKEN,
        appid: str = APPID,
        aes_key: str | None = None,
    ) -> None:
        self.http = http
        self.url = url
        self.token = token
        self.appid = appid
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def signature(self, timestamp: str, nonce: str) -> str:
        signer = WeChatSigner()
        signer.add_data(self.token, timestamp, nonce)
        return str(signer.signature)

    def query(self, *, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or uuid.uuid4().hex[:10]
        return {"signature": self.signature(ts, nonce), "timestamp": ts, "nonce": nonce}

    async def post(
        self,
        body: str | bytes,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        encrypt: bool | None = None,
        msg_signature: str | None = None,
    ) -> Pushed:
        """Push a raw XML body, encrypted when the account is in safe mode."""
        params = self.query(timestamp=timestamp)
        if signature is not None:
            params["signature"] = signature
        encrypt = self.crypto is not None if encrypt is None else encrypt
        data = body.encode() if isinstance(body, str) else body
        if encrypt:
            assert self.crypto is not None
            envelope = self.crypto.encrypt_message(
                data.decode(), params["nonce"], params["timestamp"]
            )
            fields = {e.tag: e.text or "" for e in fromstring(envelope)}
            params["encrypt_type"] = "aes"
            params["msg_signature"] = msg_signature or fields["MsgSignature"]
            data = xml_of({"ToUserName": ACCOUNT, "Encrypt": fields["Encrypt"]}).encode()
        response = await self.http.post(
            self.url, params=params, content=data, headers={"Content-Type": "text/xml"}
        )
        return Pushed(response, self._reply_text(response, params))

    def _reply_text(self, response: httpx.Response, params: dict[str, str]) -> str | None:
        if response.status_code != 200 or not response.text.lstrip().startswith("<xml"):
            return None
        text = response.text
        if self.crypto is not None:
            fields = {e.tag: e.text or "" for e in fromstring(text)}
            text = self.crypto.decrypt_message(
                text, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
            )
        reply = {e.tag: e.text or "" for e in fromstring(text)}
        assert reply["MsgType"] == "text", reply
        assert reply["FromUserName"] == ACCOUNT, reply
        return reply["Content"]

    # --- message kinds -----------------------------------------------------------------

    @staticmethod
    def fields(openid: str, kind: str, **extra: Any) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "ToUserName": ACCOUNT,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": kind,
        }
        fields.update(extra)
        if kind != "event":
            fields.setdefault("MsgId", next(_msg_ids))
        return fields

    async def send(self, fields: dict[str, Any], **options: Any) -> Pushed:
        return await self.post(xml_of(fields), **options)

    async def text(self, openid: str, content: str, **options: Any) -> Pushed:
        return await self.send(self.fields(openid, "text", Content=content), **options)

    async def image(self, openid: str, media_id: str = "media-1") -> Pushed:
        url = f"http://mmbiz.qpic.cn/{media_id}"
        return await self.send(self.fields(openid, "image", PicUrl=url, MediaId=media_id))

    async def voice(self, openid: str) -> Pushed:
        return await self.send(self.fields(openid, "voice", MediaId="voice-1", Format="amr"))

    async def location(self, openid: str) -> Pushed:
        return await self.send(
            self.fields(
                openid,
                "location",
                Location_X="31.2304",
                Location_Y="121.4737",
                Scale=15,
                Label="上海市黄浦区",
            )
        )

    async def event(self, openid: str, event: str, key: str = "") -> Pushed:
        extra = {"Event": event, **({"EventKey": key} if key else {})}
        return await self.send(self.fields(openid, "event", **extra))


# --- our side: the app under test, served over real HTTP ----------------------------------


@asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn in this event loop (lifespan included); yields its URL."""
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the app did not start")
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def wechat_settings(base: Settings, fake: FakeWeChat, *, safe: bool = False) -> Settings:
    """``base`` with WeChat switched on against ``fake`` (safe mode: an AES key too)."""
    return base.model_copy(
        update={
            "wechat_appid": fake.appid,
            "wechat_secret": fake.secret,
            "wechat_token": TOKEN,
            "wechat_aes_key": AES_KEY if safe else None,
            "wechat_api_base_url": fake.base_url,
            "run_delivery": False,
            "run_scheduler": False,
        }
    )


@dataclass
class WeChatHarness:
    """Our app behind real HTTP, WeChat's push side, and the fake API, for one test."""

    runtime: Runtime
    push: WeChatPush
    fake: FakeWeChat
    url: str
    callback: Any  # bot.channels.wechat_callback.WeChatCallback
    _seen: dict[str, int] = field(default_factory=dict)

    @property
    def db(self) -> Database:
        return self.runtime.db

    async def deliver(self) -> int:
        """Run the outbox worker until nothing is due (one row per chat per round)."""
        total = 0
        while done := await self.runtime.worker.run_once():
            total += done
        return total

    def unseen(self, openid: str) -> list[str]:
        """Customer-service texts to ``openid`` that arrived since the last look."""
        texts = self.fake.texts_to(openid)
        start = self._seen.get(openid, 0)
        self._seen[openid] = len(texts)
        return texts[start:]

    async def exchange(self, pushed: Pushed, openid: str) -> list[str]:
        assert pushed.status == 200, pushed.response.text
        await self.callback.drain()  # answers later than the passive-reply deadline
        await self.deliver()
        return ([pushed.reply] if pushed.reply else []) + self.unseen(openid)

    async def say(self, openid: str, text: str) -> str:
        """Everything the owner sees after sending ``text``: passive reply and the outbox."""
        return "\n".join(await self.exchange(await self.push.text(openid, text), openid))


@asynccontextmanager
async def wechat_harness(
    settings: Settings,
    db: Database,
    fake: FakeWeChat,
    codes: CodeSender | None = None,
    **options: Any,
) -> AsyncIterator[WeChatHarness]:
    """Build the runtime and app with the WeChat channel, serve it, and drive it."""
    from bot.channels.wechat import wechat_extension
    from bot.intents import understand

    await asyncio.to_thread(understand, "你好")  # load the model before the first push
    runtime = build_runtime(settings, db, codes)
    options.setdefault("head_start", 0.0)  # tests deliver at once, in order anyway
    options.setdefault("passive_timeout", 10.0)  # a slow test machine still answers passively
    extension = wechat_extension(runtime, **options)
    app = create_app(settings, db, [extension])
    async with serve_app(app) as url, httpx.AsyncClient(timeout=30) as http:
        push = WeChatPush(http, url + "/wechat/callback", aes_key=settings.wechat_aes_key)
        yield WeChatHarness(runtime, push, fake, url, extension.extra["callback"])
