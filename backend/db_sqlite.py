"""aiosqlite connections that cross to the database thread once per statement.

aiosqlite runs each call on the connection's own thread, and SQLAlchemy's adapter makes
four calls a statement (open a cursor, execute, fetch, close). On a small VM each
crossing costs about 0.1 ms of CPU, more than the statement itself: the owner-message
path runs a dozen statements, so half of its time went on crossings
(benchmarks/webchat_bench.py). These cursors execute, fetch every row and close in one
crossing; the rows were fetched at once before as well (SQLAlchemy buffers them), so
nothing is held longer; a commit or rollback with no transaction open does not cross at
all. Handed to the engine as its ``async_creator``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

Description = tuple[tuple[Any, ...], ...] | None


class PrefetchingCursor:
    """The aiosqlite cursor interface SQLAlchemy's adapter uses, over prefetched rows."""

    def __init__(self, connection: OneCrossingConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> PrefetchingCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._rows = []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> PrefetchingCursor:
        params = () if parameters is None else parameters
        self._take(await self._connection.on_thread(_run, sql, params, False))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PrefetchingCursor:
        self._take(await self._connection.on_thread(_run, sql, parameters, True))
        return self

    def _take(self, outcome: tuple[Description, int, int | None, list[Any]]) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


def _run(
    raw: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[Description, int, int | None, list[Any]]:
    """On the connection's thread: the whole statement, start to finish."""
    cursor = raw.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneCrossingConnection(aiosqlite.Connection):
    def __init__(self, database: str) -> None:
        super().__init__(lambda: sqlite3.connect(database), iter_chunk_size=64)
        # As SQLAlchemy does for its own aiosqlite connections: a connection the pool
        # never closed must not keep the interpreter from exiting.
        self._thread.daemon = True

    def cursor(self) -> PrefetchingCursor:  # type: ignore[override]
        return PrefetchingCursor(self)

    # Outside a transaction both are no-ops for sqlite3: skip the crossing. The pool
    # rolls back every connection it takes back, and most sessions have committed.
    async def commit(self) -> None:
        if self.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        if self.in_transaction:
            await super().rollback()

    async def on_thread(self, fn: Any, *args: Any) -> Any:
        return await self._execute(fn, self._conn, *args)


def connector(database: str) -> Any:
    """The ``async_creator`` for an engine on the SQLite file ``database``."""

    async def connect() -> OneCrossingConnection:
        connection = OneCrossingConnection(database)
        await connection  # starts the thread and opens the file
        return connection

    return connect
