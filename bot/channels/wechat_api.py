"""The WeChat API client: wechatpy's ``WeChatClient`` pointed at the configured base URL,
with the access token shared by every process through the ``platform_state`` table.

WeChat keeps one valid token per account and every refresh invalidates the previous one,
so processes must not refresh on their own: the token lives in the database, is fetched
by whoever finds it missing or about to expire (row-locked on PostgreSQL), and is
re-read, then refreshed, when WeChat answers "invalid/expired token". wechatpy's own token
URL is fixed to api.weixin.qq.com, so the token request is made here instead.
wechatpy is synchronous: its calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from backend.db import Database
from backend.models import PlatformState, utcnow
from backend.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

TOKEN_KEY = "wechat:access_token"  # noqa: S105  (a row key, not a secret)
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before WeChat's expiry
# invalid credential / invalid access_token / expired access_token
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TIMEOUT = 10.0  # seconds per HTTP request to WeChat


class TokenError(WeChatClientException):
    """The access token could not be obtained (wrong secret, IP not whitelisted, network)."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(errcode, errmsg)


class _Client(WeChatClient):
    """wechatpy's client with token fetching disabled: ``TokenStore`` owns the token."""

    def fetch_access_token(self) -> Any:
        raise TokenError(None, "the access token is managed by OwnerDesk's TokenStore")


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


class TokenStore:
    """One access token for all processes: memory first, then the database, then WeChat."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.refreshes = 0  # tokens fetched from WeChat by this process
        self._cached: tuple[str, datetime] | None = None
        self._lock = asyncio.Lock()

    def _usable(self, token: str, expires_at: datetime | None, invalid: str | None) -> bool:
        return bool(
            token
            and token != invalid
            and expires_at is not None
            and expires_at - REFRESH_MARGIN > utcnow()
        )

    async def get(self, invalid: str | None = None) -> str:
        """A valid token; ``invalid`` is one WeChat just refused, never handed out again."""
        cached = self._cached
        if cached and self._usable(cached[0], cached[1], invalid):
            return cached[0]
        async with self._lock:
            cached = self._cached
            if cached and self._usable(cached[0], cached[1], invalid):
                return cached[0]
            async with self.db.session() as session:
                await session.execute(
                    _insert(session)(PlatformState)
                    .values(key=TOKEN_KEY, value="", expires_at=None, updated_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["key"])
                )
                row = await session.get(
                    PlatformState,
                    TOKEN_KEY,
                    with_for_update=not self.db.is_sqlite,  # other processes wait for our fetch
                    populate_existing=True,
                )
                assert row is not None
                if not self._usable(row.value, row.expires_at, invalid):
                    token, expires_in = await self._fetch()
                    now = utcnow()
                    row.value, row.expires_at, row.updated_at = (
                        token,
                        now + timedelta(seconds=expires_in),
                        now,
                    )
                    self.refreshes += 1
                    log.info("fetched a new WeChat access token (valid %d s)", expires_in)
                assert row.expires_at is not None
                self._cached = (row.value, row.expires_at)
                return row.value

    async def _fetch(self) -> tuple[str, int]:
        """GET ``{base}token``: wechatpy's token URL ignores the configured base."""
        params = {
            "grant_type": "client_credential",
            "appid": self.settings.wechat_appid or "",
            "secret": self.settings.wechat_secret or "",
        }
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                response = await http.get(
                    self.settings.wechat_api_base_url + "token", params=params
                )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TokenError(None, f"token request failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            code = body.get("errcode") if isinstance(body, dict) else None
            message = body.get("errmsg", "no access_token") if isinstance(body, dict) else "?"
            raise TokenError(code, f"token request refused: {message}")
        return str(body["access_token"]), int(body.get("expires_in") or 7200)


class WeChatApi:
    """Runs wechatpy calls in a thread with the shared token; retries once on a stale token."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.tokens = TokenStore(settings, db)
        self._local = threading.local()  # one requests.Session per worker thread

    def _client(self, token: str) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            client = _Client(
                self.settings.wechat_appid,
                self.settings.wechat_secret,
                access_token=token,
                timeout=TIMEOUT,
                auto_retry=False,  # its retry would fetch a token from the fixed URL
            )
            client.API_BASE_URL = self.settings.wechat_api_base_url
            self._local.client = client
        client.session.set(client.access_token_key, token)
        return client

    def _run(self, token: str, call: Callable[[Any], T]) -> T:
        return call(self._client(token))

    async def call(self, call: Callable[[Any], T]) -> T:
        """``call(client)`` in a thread; raises ``WeChatClientException`` or requests' errors."""
        token = await self.tokens.get()
        try:
            return await asyncio.to_thread(self._run, token, call)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeChat refused the access token (%s): refreshing", exc.errcode)
            token = await self.tokens.get(invalid=token)
            return await asyncio.to_thread(self._run, token, call)
