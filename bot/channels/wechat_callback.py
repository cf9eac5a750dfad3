"""``GET/POST /wechat/callback``: the URL WeChat's servers push owners' messages to.

WeChat waits 5 seconds for an answer and retries the same message three times within
15 s, so: check the signature (and decrypt in safe mode), refuse stale timestamps, let
the front desk store the message (its unique platform message id drops the retries),
and give the dialog about 4 s. A reply ready in time goes back in the HTTP answer (the
passive reply, which costs no API call) and its outbox row is marked sent; everything
else, and everything late, leaves through the outbox as customer-service messages.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import select, update
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature

from backend.db import Database
from backend.messaging import InboundMessage
from backend.models import OutboxItem, utcnow
from backend.outbox import take_for_passive_reply
from backend.settings import Settings
from backend.vocabulary import OutboxState
from backend.web.errors import error_response
from bot.channels.wechat_text import (
    BadMessage,
    chosen_option,
    parse_xml,
    remember_options,
    render,
    to_inbound,
)
from bot.frontdesk import FrontDesk, Handled

log = logging.getLogger(__name__)

PATH = "/wechat/callback"
MAX_BODY = 512 * 1024  # bytes; WeChat's own messages are a few KB
MAX_AGE = 300  # seconds a signed timestamp stays acceptable (replays of older pushes fail)
PASSIVE_TIMEOUT = 4.0  # seconds the dialog gets before WeChat's 5-second deadline
# The passive reply reaches the owner only after our HTTP answer; the replies after it
# wait this long in the outbox so they don't overtake it.
HEAD_START = 1.0
DRAIN_TIMEOUT = 10.0  # seconds to wait for late answers on shutdown
SUCCESS = "success"  # WeChat's "received, nothing to say"


class Refused(Exception):
    """A request we answer with an error status and a one-line reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def make_crypto(settings: Settings) -> WeChatCrypto | None:
    """Safe mode (安全模式) when an EncodingAESKey is set; a bad key fails loudly at start."""
    if not settings.wechat_aes_key:
        return None
    try:
        return WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
    except Exception as exc:
        raise ValueError(
            "OWNERDESK_WECHAT_AES_KEY must be the 43-character EncodingAESKey from the MP console"
        ) from exc


@dataclass
class CallbackStats:
    received: int = 0
    passive: int = 0
    late: int = 0  # answered after the passive-reply deadline, through the outbox
    refused: int = 0
    pending: set[asyncio.Task[Any]] = field(default_factory=set)


class WeChatCallback:
    """The callback's logic, kept out of the route functions so tests can tune the timing."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        desk: FrontDesk,
        wake: Callable[[], None],
        *,
        passive_timeout: float = PASSIVE_TIMEOUT,
        max_age: float = MAX_AGE,
        head_start: float = HEAD_START,
    ) -> None:
        self.settings = settings
        self.token = settings.wechat_token or ""
        self.db = db
        self.desk = desk
        self.wake = wake
        self.crypto = make_crypto(settings)
        self.passive_timeout = passive_timeout
        self.max_age = max_age
        self.head_start = timedelta(seconds=head_start)
        self.stats = CallbackStats()

    @property
    def mode(self) -> str:
        return "safe" if self.crypto else "plaintext"

    # --- checks ------------------------------------------------------------------------

    def check(self, request: Request) -> tuple[str, str]:
        """Signature and freshness of the query; returns (timestamp, nonce)."""
        q = request.query_params
        signature, timestamp, nonce = (
            q.get("signature", ""),
            q.get("timestamp", ""),
            q.get("nonce", ""),
        )
        if not (signature and timestamp and nonce):
            raise Refused(403, "forbidden", "missing signature, timestamp or nonce")
        try:
            check_signature(self.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise Refused(403, "forbidden", "invalid signature") from None
        try:
            age = time.time() - int(timestamp)
        except ValueError:
            raise Refused(403, "forbidden", "timestamp is not a number") from None
        if abs(age) > self.max_age:
            raise Refused(
                403, "forbidden", f"stale timestamp (off by {int(abs(age))} s): replay refused"
            )
        return timestamp, nonce

    async def body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise Refused(413, "too_large", f"body over {MAX_BODY} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                raise Refused(413, "too_large", f"body over {MAX_BODY} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def open(self, request: Request, body: bytes, timestamp: str, nonce: str) -> dict[str, str]:
        """The message's fields, decrypted in safe mode."""
        q = request.query_params
        encrypted = q.get("encrypt_type", "raw").lower() == "aes"
        if self.crypto is None:
            if encrypted:
                raise Refused(
                    403, "forbidden", "encrypted message but OWNERDESK_WECHAT_AES_KEY is not set"
                )
            return parse_xml(body)
        if not encrypted:
            raise Refused(403, "forbidden", "safe mode: the message must be encrypted (aes)")
        envelope = parse_xml(body)
        if not envelope.get("Encrypt"):
            raise BadMessage("malformed message: no Encrypt element")
        try:
            plain = self.crypto.decrypt_message(
                {"Encrypt": envelope["Encrypt"]}, q.get("msg_signature", ""), timestamp, nonce
            )
        except (InvalidSignatureException, InvalidAppIdException):
            raise Refused(403, "forbidden", "invalid msg_signature or AppID") from None
        except Exception as exc:  # bad base64, padding or UTF-8 inside the ciphertext
            raise BadMessage(f"cannot decrypt the message ({type(exc).__name__})") from None
        return parse_xml(plain.encode() if isinstance(plain, str) else plain)

    # --- handling ----------------------------------------------------------------------

    async def receive(self, request: Request) -> Response:
        try:
            timestamp, nonce = self.check(request)
            fields = self.open(request, await self.body(request), timestamp, nonce)
            inbound = to_inbound(fields)
        except Refused as refused:
            return self.refuse(request, refused)
        except BadMessage as bad:
            return self.refuse(request, Refused(400, "bad_request", str(bad)))
        if inbound is None:
            return PlainTextResponse(SUCCESS)
        self.stats.received += 1
        try:
            inbound = await self._with_option(inbound)
            handled = await self._handle_in_time(inbound)
        except Exception:
            log.exception("wechat: handling message %s failed", inbound.platform_message_id)
            return error_response(503, "unavailable", "the message could not be stored; retry")
        if handled is None:
            return PlainTextResponse(SUCCESS)
        try:
            reply = await self._passive(handled, inbound)
        except Exception:  # the replies are safe in the outbox: let the worker send them all
            log.exception("wechat: passive reply to %s failed", inbound.platform_message_id)
            reply = None
        self.wake()
        if reply is None:
            return PlainTextResponse(SUCCESS)
        xml = create_reply(reply, message=BaseMessage(fields)).render()
        if self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, nonce, timestamp)
        self.stats.passive += 1
        return Response(xml, media_type="application/xml")

    def refuse(self, request: Request, refused: Refused) -> Response:
        """The error answer, counted and logged (forged signatures are worth knowing about)."""
        self.stats.refused += 1
        host = request.client.host if request.client else "?"
        log.warning(
            "wechat callback refused (%s) from %s: %s", refused.status, host, refused.message
        )
        return error_response(refused.status, refused.code, refused.message)

    async def _with_option(self, inbound: InboundMessage) -> InboundMessage:
        """A bare number (or a label typed out) is the button offered under that number."""
        if inbound.value is not None or inbound.media or not inbound.text:
            return inbound
        async with self.db.session() as session:
            button = await chosen_option(session, inbound.user_id, inbound.text)
        if button is None:
            return inbound
        return replace(inbound, text=button.label, value=button.value)

    async def _handle_in_time(self, inbound: InboundMessage) -> Handled | None:
        """The front desk's answer if it comes within the passive-reply deadline, else None.

        The message is committed before anything is answered (a failure to store is a
        503, and WeChat sends it again); only the answer may come late, through the
        outbox. The work is never cancelled.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        stored: asyncio.Future[int | None] = loop.create_future()
        task = asyncio.create_task(self.desk.handle_stored_first(inbound, stored))
        try:
            await stored
        except BaseException:
            await asyncio.gather(task, return_exceptions=True)  # its failure is ours
            raise
        left = max(0.0, self.passive_timeout - (loop.time() - started))
        done, _ = await asyncio.wait({task}, timeout=left)
        if task in done:
            return task.result()
        self.stats.late += 1
        self.stats.pending.add(task)
        task.add_done_callback(self._finished_late)
        log.info("wechat: message %s answered late, via the outbox", inbound.platform_message_id)
        return None

    def _finished_late(self, task: asyncio.Task[Any]) -> None:
        self.stats.pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("wechat: late handling failed", exc_info=task.exception())
        self.wake()

    async def _passive(self, handled: Handled, inbound: InboundMessage) -> str | None:
        """Take the first reply's outbox row for the HTTP answer; None if it can't go so."""
        if handled.message_id is None or not handled.replies:
            return None  # a retry of a handled message, or nothing to say
        first = handled.replies[0].message
        if first.photo:
            return None
        now = utcnow()
        async with self.db.session() as session:
            outbox_id = await session.scalar(
                select(OutboxItem.id).where(
                    OutboxItem.idempotency_key == f"reply:{handled.message_id}:0"
                )
            )
            if outbox_id is None or not await take_for_passive_reply(session, outbox_id, now):
                return None  # the delivery worker got there first: it sends it
            await remember_options(session, inbound.user_id, first.buttons, now)
            if len(handled.replies) > 1 and self.head_start:
                later = [f"reply:{handled.message_id}:{i}" for i in range(1, len(handled.replies))]
                await session.execute(
                    update(OutboxItem)
                    .where(
                        OutboxItem.idempotency_key.in_(later),
                        OutboxItem.state == OutboxState.PENDING,
                    )
                    .values(next_attempt_at=now + self.head_start)
                )
        return render(first)

    async def drain(self) -> None:
        """Let late handlings finish (on shutdown), for at most ``DRAIN_TIMEOUT``; never
        cancels them (a message stored but not answered is picked up by ``recover``)."""
        if self.stats.pending:
            await asyncio.wait(set(self.stats.pending), timeout=DRAIN_TIMEOUT)


def wechat_router(callback: WeChatCallback) -> APIRouter:
    router = APIRouter()

    @router.get(PATH)
    async def verify(request: Request) -> Response:
        """The MP console's URL check: echo ``echostr`` when the signature is ours."""
        q = request.query_params
        try:
            check_signature(
                callback.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", "")
            )
        except InvalidSignatureException:
            return callback.refuse(request, Refused(403, "forbidden", "invalid signature"))
        return PlainTextResponse(q.get("echostr", ""))

    @router.post(PATH)
    async def receive(request: Request) -> Response:
        return await callback.receive(request)

    return router
