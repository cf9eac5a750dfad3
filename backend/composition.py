"""The composition root: the one module that wires backend, bot and scheduler together.

Everything else in ``backend`` stays free of ``bot`` and ``scheduler`` imports
(tests/test_layering.py checks it); channels and jobs are handed to the app here.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from backend.db import Database
from backend.kb import KnowledgeBase
from backend.settings import Settings
from backend.verification import CodeSender, LogCodeSender
from backend.web.app import Extension, create_app

log = logging.getLogger(__name__)

RECOVERY_INTERVAL = 30.0  # seconds between sweeps for stored-but-unanswered messages


@dataclass
class Runtime:
    """The long-lived parts of one process, built once and shared by every channel."""

    settings: Settings
    db: Database
    desk: Any  # bot.frontdesk.FrontDesk
    worker: Any  # bot.channels.delivery.DeliveryWorker
    senders: dict[str, Any] = field(default_factory=dict)


def code_sender(settings: Settings) -> CodeSender:
    """The SMS gateway when one is configured, else the demo's log (a warning says so)."""
    if settings.sms_webhook_url:
        from backend.sms import WebhookCodeSender

        secret = settings.sms_webhook_secret or settings.secret_key
        return WebhookCodeSender(settings.sms_webhook_url, secret)
    return LogCodeSender()


def build_runtime(settings: Settings, db: Database, codes: CodeSender | None = None) -> Runtime:
    from bot.channels.delivery import DeliveryWorker
    from bot.channels.webchat import WebChatSender
    from bot.dialogs.context import Services
    from bot.frontdesk import FrontDesk
    from bot.intents import understand

    services = Services(settings, KnowledgeBase(), codes or code_sender(settings), understand)
    senders: dict[str, Any] = {"webchat": WebChatSender()}
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramSender

        senders["telegram"] = TelegramSender(settings)
    if settings.wechat_enabled:
        from bot.channels.wechat import WeChatSender

        senders["wechat"] = WeChatSender(settings, db)
    worker = DeliveryWorker(db, senders)
    desk = FrontDesk(db, services, delivered_on_write=worker.delivered_on_write)
    return Runtime(settings, db, desk, worker, senders)


def _background(runtime: Runtime) -> Extension:
    """Delivery worker and the recovery sweep, started and stopped with the app."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def recovery_loop() -> None:
        while not stop.is_set():
            try:
                await runtime.desk.recover()
            except Exception:
                log.exception("recovery sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=RECOVERY_INTERVAL)

    async def start() -> None:
        stop.clear()
        await asyncio.to_thread(_warm_up)
        try:
            async with runtime.db.session() as session:
                await runtime.desk.services.kb.warm(session)
        except Exception:  # a missing table or a bad entry must not keep the service down
            log.exception("knowledge base warm-up failed; indexes are built on first use")
        _freeze_startup_objects()
        await runtime.desk.recover(older_than=timedelta(0))
        if runtime.settings.run_delivery:
            tasks.append(asyncio.create_task(runtime.worker.run(stop), name="delivery"))
        tasks.append(asyncio.create_task(recovery_loop(), name="recovery"))

    async def stop_all() -> None:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
        tasks.clear()

    def health() -> dict[str, Any]:
        return {
            "sent": runtime.worker.sent,
            "failed": runtime.worker.failed,
            "channels": sorted(runtime.senders),
        }

    return Extension("delivery", on_start=start, on_stop=stop_all, health=health)


def _warm_up() -> None:
    """Load the intent model before the first owner waits for it."""
    from bot.intents import understand

    understand("你好")


def _freeze_startup_objects() -> None:
    """Keep the long-lived startup objects (models, dictionaries, mappers: some 250,000)
    out of the garbage collector's full passes, which otherwise stall every request for up
    to 0.2 s now and then (measured with benchmarks/webchat_bench.py)."""
    gc.collect()
    gc.freeze()


def build_extensions(runtime: Runtime) -> list[Extension]:
    from backend.web.console import console_router
    from bot.channels.admission import Admission
    from bot.channels.webchat import webchat_router

    wake = runtime.worker.wake
    admission = Admission(runtime.settings.webchat_max_wait)
    extensions = [
        Extension(
            "webchat",
            routers=[webchat_router(runtime.db, runtime.desk, wake, admission)],
            health=admission.health,
        ),
        Extension("console", routers=[console_router(wake)]),
    ]
    if runtime.settings.telegram_enabled:
        from bot.channels.telegram import telegram_extension

        extensions.append(telegram_extension(runtime))
    if runtime.settings.wechat_enabled:
        from bot.channels.wechat import wechat_extension

        extensions.append(wechat_extension(runtime))
    extensions.append(_background(runtime))
    if runtime.settings.run_scheduler:
        extensions.append(_scheduler(runtime))
    return extensions


def _scheduler(runtime: Runtime) -> Extension:
    from scheduler.service import SchedulerService

    service = SchedulerService(runtime.settings, runtime.db, wake=runtime.worker.wake)
    return Extension(
        "scheduler", on_start=service.start, on_stop=service.stop, health=service.health
    )


def build_app(
    settings: Settings, db: Database | None = None, codes: CodeSender | None = None
) -> FastAPI:
    db = db or Database(settings.database_url)
    runtime = build_runtime(settings, db, codes)
    app = create_app(settings, db, build_extensions(runtime))
    app.state.runtime = runtime
    return app
