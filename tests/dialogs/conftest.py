"""Fixtures for dialog transcripts: the demo front desk with a hand-moved clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.composition import Runtime
from tests.fakes.chat import Chat, Clock

# A Thursday morning in Shanghai (02:00 UTC = 10:00 local).
START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock(runtime: Runtime) -> Clock:
    clock = Clock(START)
    runtime.desk.clock = clock
    return clock


@pytest.fixture
def zhang(runtime: Runtime, clock: Clock) -> Chat:
    """张伟, verified owner of DEMO-A A-1-101, on the web chat (Chinese)."""
    return Chat(runtime.desk, "demo-session")


@pytest.fixture
def emily(runtime: Runtime, clock: Clock) -> Chat:
    """Emily Chen, verified owner of DEMO-B B-1-101, on the web chat (English)."""
    return Chat(runtime.desk, "demo-session-b")


@pytest.fixture
def stranger(runtime: Runtime, clock: Clock) -> Chat:
    return Chat(runtime.desk, "stranger-1")
