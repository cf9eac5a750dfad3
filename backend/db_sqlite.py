"""aiosqlite connections that cross to the database thread once per statement.

aiosqlite runs each call on the connection's own thread, and SQLAlchemy's adapter makes
four calls a statement (open a cursor, execute, fetch, close). On a small VM each
crossing costs about 0.1 ms of CPU, more than the statement itself: the owner-message
path runs a dozen statements, so half of its time went on crossings
(benchmarks/webchat_bench.py). These cursors execute, fetch every row and close in one
crossing; the rows were fetched at once before as well (SQLAlchemy buffers them), so
nothing is held longer; a commit or rollback with no transaction open does not cross at
all. Handed to the engine as its ``async_creator``.

Writers queue in this process instead of in SQLite. SQLite lets one transaction write at
a time; a second one waits in SQLite's busy handler, which polls with growing sleeps (up
to 100 ms each) and favours no one, so under a steady stream of owner messages some
waited over a second while others went straight through. Here a transaction that is
about to write first takes the engine's writer lock (first come, first served) and gives
it back when it commits or rolls back; reads never wait. Other processes (the CLI) still
meet SQLite's busy timeout.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

Description = tuple[tuple[Any, ...], ...] | None
# Statements after which the connection holds (or may hold) SQLite's write lock.
WRITES = (
    "INSERT",
    "UPDATE",
    "DELETE",
    "REPLACE",
    "SAVEPOINT",
    "BEGIN",
    "CREATE",
    "DROP",
    "ALTER",
    "WITH",
)
WRITER_WAIT = 10.0  # seconds, as PRAGMA busy_timeout: then "database is locked", as SQLite


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
        await self._connection.claim_writer(sql)
        params = () if parameters is None else parameters
        self._take(await self._connection.on_thread(_run, sql, params, False))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> PrefetchingCursor:
        await self._connection.claim_writer(sql)
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
    def __init__(self, database: str, writers: asyncio.Lock) -> None:
        super().__init__(lambda: sqlite3.connect(database), iter_chunk_size=64)
        # As SQLAlchemy does for its own aiosqlite connections: a connection the pool
        # never closed must not keep the interpreter from exiting.
        self._thread.daemon = True
        self._writers = writers
        self._writing = False

    def cursor(self) -> PrefetchingCursor:  # type: ignore[override]
        return PrefetchingCursor(self)

    async def on_thread(self, fn: Any, *args: Any) -> Any:
        return await self._execute(fn, self._conn, *args)

    async def claim_writer(self, sql: str) -> None:
        """Wait for the writer lock before the first statement that may write."""
        if self._writing or not sql.lstrip()[:9].upper().startswith(WRITES):
            return
        try:
            async with asyncio.timeout(WRITER_WAIT):
                await self._writers.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._writing = True

    def _settle(self, *, closing: bool = False) -> None:
        """Give the writer lock back once no transaction is open (or the file is closed)."""
        if self._writing and (closing or self._connection is None or not self.in_transaction):
            self._writing = False
            self._writers.release()

    # Outside a transaction both are no-ops for sqlite3: skip the crossing. The pool
    # rolls back every connection it takes back, and most sessions have committed.
    async def commit(self) -> None:
        if self.in_transaction:
            await super().commit()
        self._settle()

    async def rollback(self) -> None:
        if self._connection is not None and self.in_transaction:
            await super().rollback()
        self._settle()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._settle(closing=True)

    def stop(self) -> asyncio.Future[Any] | None:
        self._settle(closing=True)
        return super().stop()


def connector(database: str) -> Any:
    """The ``async_creator`` for an engine on the SQLite file ``database``."""

    writers = asyncio.Lock()  # one per engine: the process's writers to this file

    async def connect() -> OneCrossingConnection:
        connection = OneCrossingConnection(database, writers)
        await connection  # starts the thread and opens the file
        return connection

    return connect
