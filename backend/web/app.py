"""The FastAPI application: health, and the routers the composition root plugs in.

``backend`` knows no channel or scheduler; ``backend.composition`` hands them in as
``Extension`` objects (routers plus background services started with the app).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from backend.db import Database
from backend.settings import Settings
from backend.web.console import install_console_errors
from backend.web.errors import install_error_handlers

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")

Hook = Callable[[], Awaitable[None]]


@dataclass
class Extension:
    """Something the composition root adds to the app: routes, and work to start/stop."""

    name: str
    routers: Sequence[APIRouter] = ()
    on_start: Hook | None = None
    on_stop: Hook | None = None
    health: Callable[[], dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _version() -> str:
    try:
        return version("ownerdesk")
    except PackageNotFoundError:
        return "dev"


PLACEHOLDER = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>OwnerDesk</title></head>
<body><h1>OwnerDesk</h1><p>{what} is being built.</p></body></html>"""


def create_app(settings: Settings, db: Database, extensions: Sequence[Extension] = ()) -> FastAPI:
    started = time.monotonic()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        running: list[Extension] = []
        try:
            for ext in extensions:
                if ext.on_start:
                    await ext.on_start()
                running.append(ext)
            yield
        finally:
            for ext in reversed(running):
                if ext.on_stop:
                    try:
                        await ext.on_stop()
                    except Exception:
                        log.exception("stopping %s failed", ext.name)
            await db.dispose()

    app = FastAPI(
        title="OwnerDesk", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.db = db
    install_error_handlers(app)
    install_console_errors(app)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="ownerdesk_session",
        max_age=12 * 3600,  # one working day
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        db_ok = await db.ping()
        body: dict[str, Any] = {
            "status": "ok" if db_ok else "error",
            "db": "ok" if db_ok else "down",
            "version": _version(),
            "uptime_s": round(time.monotonic() - started, 1),
        }
        for ext in extensions:
            if ext.health:
                body[ext.name] = ext.health()
        return JSONResponse(body, status_code=200 if db_ok else 503)

    for ext in extensions:
        for router in ext.routers:
            app.include_router(router)
    routed = {getattr(route, "path", None) for route in app.routes}
    for path, what in (("/chat", "The web chat"), ("/console", "The staff console")):
        if path not in routed:
            app.add_api_route(
                path, _placeholder(what), methods=["GET"], response_class=HTMLResponse
            )
    return app


def _placeholder(what: str) -> Callable[[], Awaitable[HTMLResponse]]:
    async def page() -> HTMLResponse:
        return HTMLResponse(PLACEHOLDER.format(what=what))

    return page
