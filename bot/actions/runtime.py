"""What the actions share in one process: the database, the knowledge base and the
message reader. ``actions serve`` sets it once; tests inject their own with ``configure``.

Unset, it is built from ``OWNERDESK_*`` settings on first use, so the actions also work
when a site loads them with ``python -m rasa_sdk --actions bot.actions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from backend.db import Database
from backend.kb import KnowledgeBase
from backend.models import utcnow
from backend.settings import get_settings
from bot.intents import Understanding, understand


@dataclass
class ActionsRuntime:
    db: Database
    kb: KnowledgeBase = field(default_factory=KnowledgeBase)
    understand: Callable[[str], Understanding] = understand
    clock: Callable[[], datetime] = utcnow
    owns_db: bool = False  # built here from settings, so ``close`` disposes of it


_current: ActionsRuntime | None = None


def configure(runtime: ActionsRuntime) -> ActionsRuntime:
    global _current
    _current = runtime
    return runtime


def current() -> ActionsRuntime:
    """The configured runtime, else one on the settings' database (built once)."""
    if _current is None:
        return configure(ActionsRuntime(Database(get_settings().database_url), owns_db=True))
    return _current


async def close() -> None:
    """Forget the runtime; dispose of the engine if this module created it."""
    global _current
    runtime, _current = _current, None
    if runtime is not None and runtime.owns_db:
        await runtime.db.dispose()
