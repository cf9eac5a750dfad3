"""Fixtures of the report tests: the hand-countable March, and the console client."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Ticket
from tests.factories import World
from tests.reports.march import March
from tests.web.conftest import console, other_console

__all__ = ["console", "march", "other_console"]


@pytest.fixture
async def march(session: AsyncSession, world: World) -> dict[str, Ticket]:
    """The tickets of tests/reports/march.py, committed; keyed R1 … E2."""
    return await March(session, world).build()
