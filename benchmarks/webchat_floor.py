"""How fast could *any* OwnerDesk web chat be on this machine? Stripped servers, same client.

    .venv/bin/python benchmarks/webchat_floor.py [--seconds 10] [--rate 1000 ...] [--json]

``webchat_bench.py`` measures the product. This measures what is left when everything
but the work a turn cannot skip is taken out, so a goal can be checked against the
machine rather than against the code: the same FastAPI route and request body, the
real intent classifier, the real schema on SQLite (WAL, synchronous=NORMAL, foreign
keys on, the demo estate, 50 verified owners), and the same client as
``webchat_bench.py`` (50 owners on keep-alive connections, closed loop, then open loop
at each --rate with latency counted from the scheduled send). No dialog, knowledge
base, translation or ORM: the reply is a fixed text. Variants:

- ``http``: route + classification, no database (the ceiling for a classifying bot);
- ``txn``: + the statements of a turn in plain ``sqlite3`` (identity, store the
  message, conversation read and write, owner and estate, reply message, outbox row,
  mark answered), one transaction and one thread crossing a message;
- ``group``: the same statements, group commit: every message waiting when the
  database thread comes free is written in one transaction and one crossing;
  with 2 processes a file lock queues the writers (no polling in SQLite's busy handler).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from backend.db import sqlite_pragmas

sys.path.insert(0, str(Path(__file__).parent))
import webchat_bench as bench

VARIANTS = [("http", 1), ("http", 2), ("txn", 1), ("txn", 2), ("group", 1), ("group", 2)]
TURN = [
    "SELECT id, owner_id, language FROM channel_identities WHERE channel = 'webchat' AND external_id = ?",
    "INSERT INTO messages (channel, direction, identity_id, owner_id, text, media, created_at) VALUES ('webchat', 'in', ?, ?, ?, '{}', ?)",
    "UPDATE channel_identities SET last_inbound_at = ? WHERE id = ?",
    "SELECT id, flow, step, data FROM conversations WHERE identity_id = ?",
    "SELECT owners.*, estates.* FROM owners JOIN estates ON estates.id = owners.estate_id WHERE owners.id = ?",
    "INSERT INTO conversations (identity_id, data, updated_at) VALUES (?, '{}', ?)",
    "UPDATE conversations SET data = ?, updated_at = ? WHERE id = ?",
    "INSERT INTO messages (channel, direction, identity_id, owner_id, text, media, language, created_at) VALUES ('webchat', 'out', ?, ?, ?, '{}', ?, ?)",
    "INSERT INTO outbox (idempotency_key, channel, chat_id, identity_id, owner_id, message_id, payload, state, priority, attempts, next_attempt_at, last_error, created_at, sent_at) VALUES (?, 'webchat', ?, ?, ?, ?, ?, 'sent', 0, 0, ?, '', ?, ?)",
    "UPDATE messages SET language = ?, processed_at = ?, intent = ? WHERE id = ?",
]


class Body(BaseModel):
    session: str
    text: str
    value: str | None = None
    lang: str | None = None


class Store:
    """One connection in one thread, as the product's SQLite driver keeps it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.thread = ThreadPoolExecutor(1)
        self.local = threading.local()
        self.writer = open(path + ".writer", "a")  # noqa: SIM115 (held for the process's life)

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None)
            sqlite_pragmas(conn)  # the service's own settings
            self.local.conn = conn
        return conn

    def write(self, turns: list[tuple[str, str, str]]) -> list[int]:
        """Runs in the database thread: all ``turns`` in one transaction."""
        conn = self.connection()
        fcntl.flock(self.writer, fcntl.LOCK_EX)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = [self._turn(conn, *turn) for turn in turns]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return ids
        finally:
            fcntl.flock(self.writer, fcntl.LOCK_UN)

    @staticmethod
    def _turn(conn: sqlite3.Connection, session: str, text: str, reply: str) -> int:
        now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
        identity, owner, _lang = conn.execute(TURN[0], (session,)).fetchone()
        inbound = conn.execute(TURN[1], (identity, owner, text, now)).lastrowid
        conn.execute(TURN[2], (now, identity))
        conversation = conn.execute(TURN[3], (identity,)).fetchone()
        conn.execute(TURN[4], (owner,)).fetchone()
        if conversation is None:
            conn.execute(TURN[5], (identity, now))
        else:
            conn.execute(TURN[6], (conversation[3], now, conversation[0]))
        answer = conn.execute(TURN[7], (identity, owner, reply, "zh_CN", now)).lastrowid
        payload = json.dumps({"text": reply, "buttons": []})
        conn.execute(
            TURN[8],
            (f"reply:{inbound}:0", session, identity, owner, answer, payload, now, now, now),
        )
        conn.execute(TURN[9], ("zh_CN", now, "enquiry", inbound))
        return int(answer or 0)


class GroupCommit:
    """Messages that arrive while a transaction runs are written together in the next."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.waiting: list[tuple[tuple[str, str, str], asyncio.Future[int]]] = []
        self.running = False

    async def write(self, turn: tuple[str, str, str]) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.waiting.append((turn, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, []
                try:
                    ids = await loop.run_in_executor(
                        self.store.thread, self.store.write, [turn for turn, _ in batch]
                    )
                except Exception as exc:
                    for _, future in batch:
                        future.set_exception(exc)
                else:
                    for (_, future), answer in zip(batch, ids, strict=True):
                        future.set_result(answer)
        finally:
            self.running = False


def create_app() -> FastAPI:
    """uvicorn --factory entry point; FLOOR_MODE and FLOOR_DB choose the variant."""
    from bot.intents import understand

    understand("你好")  # load the model before the first request
    mode = os.environ["FLOOR_MODE"]
    store = Store(os.environ["FLOOR_DB"])
    group = GroupCommit(store)
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/api/webchat/messages")
    async def message(body: Body) -> dict[str, Any]:
        reply = f"reply to a {understand(body.text).kind}"
        answer = 0
        if mode == "txn":
            loop = asyncio.get_running_loop()
            answer = (
                await loop.run_in_executor(
                    store.thread, store.write, [(body.session, body.text, reply)]
                )
            )[0]
        elif mode == "group":
            answer = await group.write((body.session, body.text, reply))
        return {"replies": [{"id": answer, "text": reply, "buttons": []}]}

    return app


async def run_variant(
    db: str, owners: list[str], mode: str, workers: int, seconds: float, rates: list[float]
) -> dict[str, Any]:
    port = bench.free_port()
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "--factory", "webchat_floor:create_app"),
            *("--port", str(port), "--workers", str(workers)),
            *("--log-level", "warning", "--no-access-log"),
        ],
        cwd=Path(__file__).parent,
        env={**os.environ, "FLOOR_MODE": mode, "FLOOR_DB": db},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await bench.wait_ready(base, "/healthz")
        await asyncio.sleep(1)  # every worker up
        throughput = await bench.closed_loop(base, owners, seconds)
        latency = [await bench.open_loop(base, owners, rate, seconds) for rate in rates]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "variant": mode,
        "processes": workers,
        "throughput_msg_s": round(throughput),
        "latency": latency,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, action="append", help="open-loop msg/s (1000)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rates = args.rate or [1000.0]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/floor.db"
        owners = bench.prepare_database(url, args.owners)
        for mode, workers in VARIANTS:
            results.append(
                await run_variant(f"{tmp}/floor.db", owners, mode, workers, args.seconds, rates)
            )
            if not args.json:
                print(json.dumps(results[-1]), flush=True)
    if args.json:
        print(json.dumps({"machine": f"{os.cpu_count()} cores", "variants": results}))


if __name__ == "__main__":
    if bench.uvloop is not None:
        bench.uvloop.run(main())
    else:
        asyncio.run(main())
