"""The SQLite connections that cross to the database thread once per statement behave
like plain aiosqlite ones under SQLAlchemy: rows, counts, errors, transactions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from backend.db import Database
from backend.db_sqlite import OneCrossingConnection


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield database
    await database.dispose()


async def test_file_databases_use_one_crossing_connections(db: Database) -> None:
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneCrossingConnection)


async def test_one_crossing_a_statement_and_none_for_idle_commits(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.session() as session:  # the pool holds an open connection from here
        await session.execute(text("SELECT 1"))
    crossings = 0
    original = OneCrossingConnection._execute

    async def counted(self: OneCrossingConnection, *args: Any, **kwargs: Any) -> Any:
        nonlocal crossings
        crossings += 1
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(OneCrossingConnection, "_execute", counted)
    async with db.session() as session:
        rows = (await session.execute(text("SELECT 1 UNION ALL SELECT 2"))).all()
    assert [r[0] for r in rows] == [1, 2]
    assert crossings == 1  # the commit and the pool's reset had no transaction to end
    crossings = 0
    async with db.session() as session:
        await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
    assert crossings == 2  # the insert and its commit
    async with db.session() as session:
        assert (await session.scalar(text("SELECT name FROM t"))) == "a"


async def test_rows_counts_and_ids(db: Database) -> None:
    async with db.session() as session:
        first = await session.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert first.lastrowid == 1
        await session.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        returned = await session.execute(text("INSERT INTO t (name) VALUES ('d') RETURNING id"))
        assert returned.scalar_one() == 4
        updated = await session.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
        assert updated.rowcount == 2
    async with db.session() as session:
        names = (await session.scalars(text("SELECT name FROM t ORDER BY id"))).all()
        assert names == ["a", "b", "c!", "d!"]
        assert (await session.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None


async def test_errors_surface_and_roll_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('x')"))
            await session.execute(text("INSERT INTO t (name) VALUES ('x')"))
    async with db.session() as session:
        assert (await session.scalar(text("SELECT count(*) FROM t"))) == 0
        await session.execute(text("INSERT INTO t (name) VALUES ('y')"))
    async with db.session() as session:
        assert (await session.scalar(text("SELECT count(*) FROM t"))) == 1


async def test_writers_queue_in_order_and_readers_do_not_wait(db: Database) -> None:
    order: list[str] = []
    first_wrote = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('first')"))
            first_wrote.set()
            await release_first.wait()  # holds SQLite's write lock meanwhile
        order.append("first")

    async def second() -> None:
        async with db.session() as session:
            await session.execute(text("INSERT INTO t (name) VALUES ('second')"))
        order.append("second")

    one = asyncio.create_task(first())
    await first_wrote.wait()
    two = asyncio.create_task(second())
    async with db.session() as reader:  # a read goes straight through
        assert (await reader.scalar(text("SELECT count(*) FROM t"))) == 0
    await asyncio.sleep(0.2)
    assert not two.done()  # waits its turn
    release_first.set()
    await asyncio.gather(one, two)
    assert order == ["first", "second"]
    async with db.session() as session:
        names = (await session.scalars(text("SELECT name FROM t ORDER BY id"))).all()
    assert names == ["first", "second"]
