"""A console client over the demo data, with a login helper."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from backend.composition import Runtime, build_extensions
from backend.demo import DEMO_PASSWORD
from backend.web.app import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client
        self.csrf = ""

    async def login(self, username: str, password: str = DEMO_PASSWORD) -> httpx.Response:
        page = await self.http.get("/console/login")
        token = CSRF.search(page.text)
        assert token, page.text
        response = await self.http.post(
            "/console/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": token.group(1),
                "next": "/console",
            },
        )
        if response.status_code == 303:
            queue = await self.http.get("/console")
            found = CSRF.search(queue.text)
            self.csrf = found.group(1) if found else ""
        return response

    async def post(self, path: str, **form: str | int) -> httpx.Response:
        return await self.http.post(
            path, data={"csrf_token": self.csrf, **{k: str(v) for k, v in form.items()}}
        )


@pytest.fixture
async def console(runtime: Runtime) -> AsyncIterator[ConsoleClient]:
    app = create_app(runtime.settings, runtime.db, build_extensions(runtime)[:2])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield ConsoleClient(client)


@pytest.fixture
async def other_console(runtime: Runtime) -> AsyncIterator[ConsoleClient]:
    """A second browser, for a second staff member at the same time."""
    app = create_app(runtime.settings, runtime.db, build_extensions(runtime)[:2])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield ConsoleClient(client)
