"""The composition root: the one module that wires backend, bot and scheduler together.

Everything else in ``backend`` stays free of ``bot`` and ``scheduler`` imports
(tests/test_layering.py checks it); channels and jobs are handed to the app here.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from backend.db import Database
from backend.settings import Settings
from backend.web.app import Extension, create_app

log = logging.getLogger(__name__)


def build_extensions(settings: Settings, db: Database) -> list[Extension]:
    """Channels, delivery and scheduler as the settings switch them on."""
    extensions: list[Extension] = []
    return extensions


def build_app(settings: Settings, db: Database | None = None) -> FastAPI:
    db = db or Database(settings.database_url)
    return create_app(settings, db, build_extensions(settings, db))
