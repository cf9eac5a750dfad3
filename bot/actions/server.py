"""The action server: rasa-sdk's Sanic app (``POST /webhook``, ``GET /actions``,
``GET /health``) with OwnerDesk's actions and runtime.

One process, one event loop (like ``ownerdesk serve``): rasa-sdk's own ``run`` starts
Sanic workers in fresh processes, which would each need their own database engine and
intent model, and it binds 0.0.0.0 whatever we ask.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from bot.actions import ACTIONS, runtime

log = logging.getLogger(__name__)


def build_executor() -> ActionExecutor:
    executor = ActionExecutor()
    for action in ACTIONS:
        executor.register_action(action)
    return executor


def create_action_app(executor: ActionExecutor | None = None) -> Sanic:
    """rasa-sdk's app; the runtime is ready before the first call and closed at stop."""
    # Rasa calls this server to server: no browser origin needs CORS.
    app: Sanic = create_app(executor or build_executor(), cors_origins="")

    async def start(_app: Any) -> None:
        rt = runtime.current()
        rt.understand("你好")  # load the intent model now, not on an owner's first message

    async def stop(_app: Any) -> None:
        await runtime.close()

    app.register_listener(start, "before_server_start")
    app.register_listener(stop, "after_server_stop")
    return app


def serve(host: str, port: int) -> None:
    """Blocks until interrupted. A bad database URL or a missing intent model fails
    here, before Sanic starts, so the CLI can say so in one line."""
    runtime.current().understand("你好")
    app = create_action_app()
    log.info("OwnerDesk actions at http://%s:%s/webhook", host, port)
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
