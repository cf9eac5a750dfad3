"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
``OWNERDESK_TEST_DATABASE_URL`` says so), wiped after every test that used it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from backend.composition import Runtime, build_runtime
from backend.db import Database, create_engine, is_sqlite
from backend.migrate import upgrade
from backend.models import Base
from backend.settings import Settings, get_settings
from tests.factories import World, build_world
from tests.fakes.codes import RecordingCodeSender

TEST_DB_ENV = "OWNERDESK_TEST_DATABASE_URL"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get(TEST_DB_ENV, "")
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    return f"OwnerDesk test database: {backend}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


async def _reset_schema(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _wipe(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if is_sqlite(url):
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            joined = ", ".join(f'"{n}"' for n in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get(TEST_DB_ENV)
    if url:
        if not is_sqlite(url):
            asyncio.run(_reset_schema(url))
    else:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


@pytest.fixture
def db_url(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The migrated test database, also set as the app's database; emptied afterwards."""
    monkeypatch.setenv("OWNERDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("OWNERDESK_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()
    asyncio.run(_wipe(database_url))


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessions() as s:
        yield s


@pytest.fixture
async def world(session: AsyncSession) -> World:
    """A company with two estates, units, owners and staff of every role."""
    w = await build_world(session)
    await session.commit()
    return w


Snapshot = list[tuple[str, list[dict[str, Any]]]]


async def _take_demo_snapshot(url: str) -> Snapshot:
    from backend.demo import load_demo

    database = Database(url)
    try:
        async with database.session() as s:
            await load_demo(s)
        snapshot: Snapshot = []
        async with database.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = (await conn.execute(table.select())).mappings().all()
                if rows:
                    snapshot.append((table.name, [dict(r) for r in rows]))
    finally:
        await database.dispose()
    await _wipe(url)
    return snapshot


@pytest.fixture(scope="session")
def demo_snapshot(database_url: str) -> Snapshot:
    """The demo data, loaded once per test run; each test gets a copy (``demo``)."""
    return asyncio.run(_take_demo_snapshot(database_url))


@pytest.fixture
async def demo(db: Database, demo_snapshot: Snapshot) -> Database:
    """The test database with ``ownerdesk demo load`` applied (restored from a snapshot:
    loading it for real costs a second per test)."""
    tables = Base.metadata.tables
    async with db.engine.begin() as conn:
        for name, rows in demo_snapshot:
            await conn.execute(tables[name].insert(), rows)
        if not db.is_sqlite:  # ids were given explicitly: move the sequences past them
            for name, _ in demo_snapshot:
                if "id" in tables[name].c:
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM \"{name}\"))"
                        )
                    )
    return db


@pytest.fixture
def codes() -> RecordingCodeSender:
    return RecordingCodeSender()


@pytest.fixture
def test_settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url, var_dir=tmp_path / "var", secret_key="test-secret-" + "x" * 20
    )


@pytest.fixture
def runtime(demo: Database, test_settings: Settings, codes: RecordingCodeSender) -> Runtime:
    """Front desk, delivery worker and senders over the demo data (no background tasks)."""
    return build_runtime(test_settings, demo, codes)
