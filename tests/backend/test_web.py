"""HTTP basics: health, placeholder pages, the JSON error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend.composition import build_app
from backend.db import Database
from backend.settings import Settings


def settings(tmp_path: Path, url: str) -> Settings:
    return Settings(database_url=url, var_dir=tmp_path / "var", secret_key="x" * 32)


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(settings(tmp_path, db_url))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        yield c


async def test_healthz_reports_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["db"] == "ok" and "version" in body
    assert body["webchat"] == {
        "in_flight": 0,
        "ms_a_message": 0.0,
        "max_wait_s": 2.0,
        "turned_away": 0,
    }


async def test_healthz_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    app = build_app(settings(tmp_path, url), Database(url))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["db"] == "down" and response.json()["status"] == "error"


async def test_chat_and_console_routes_exist(client: httpx.AsyncClient) -> None:
    for path in ("/chat", "/console"):
        response = await client.get(path, follow_redirects=True)
        assert response.status_code == 200, path
        assert "text/html" in response.headers["content-type"]


async def test_unknown_route_and_wrong_method_use_the_json_error_shape(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_domain_errors_become_clear_json(tmp_path: Path) -> None:
    from backend.errors import IllegalTransition
    from backend.web.app import create_app

    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    app = create_app(settings(tmp_path, url), Database(url))

    @app.post("/boom")
    async def boom() -> None:
        raise IllegalTransition("a repair ticket cannot go from received to done")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.post("/boom")
        assert response.status_code == 409
        assert response.json() == {
            "error": {
                "code": "illegal_transition",
                "message": "a repair ticket cannot go from received to done",
            }
        }
        crashed = await c.get("/crash")
    assert crashed.status_code == 500
    assert "secret internals" not in crashed.text
    assert crashed.json()["error"]["code"] == "internal"
