"""Web-chat throughput and latency against a real ``ownerdesk serve`` on SQLite.

    .venv/bin/python benchmarks/webchat_bench.py [--owners 50] [--seconds 15] [--rate R ...]
        [--flood-owners 1000] [--flood-rate 1000] [--flood-max-wait S ...] [--json]

Closed loop: N owners, each sending its next message when the reply to the last one
arrives, for --seconds → messages/s. Open loop: messages sent on a fixed schedule at
each --rate per second (default: 10, 25, and 70 % of the closed-loop throughput; 0 means
the 70 %), latency counted from the *scheduled* send time so queueing is charged →
p50/p99. The same two runs against
a bare FastAPI echo endpoint (uvicorn, one process) give the ceiling of this machine.
Flood: --flood-owners owners at --flood-rate messages/s, far past capacity, against a
fresh server per --flood-max-wait (OWNERDESK_WEBCHAT_MAX_WAIT; 0 takes every message):
how many are answered, how fast, and how many are turned away with 503.

The load comes from a few lines of HTTP/1.1 over one keep-alive connection per owner,
not from httpx: httpx spends about 2 ms of CPU on a request, and on two cores that
would be measured as the server's. The server's and the client's CPU use are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

try:
    import uvloop
except ImportError:  # the client's own overhead is reported either way
    uvloop = None  # type: ignore[assignment]

ROOT = Path(__file__).parents[1]
MESSAGES = [
    "你好",
    "物业费怎么交？",
    "How do I apply for a parking permit?",
    "厨房下水道堵了，明天上午来修",
    "取消",
    "where are the parcel lockers",
    "谢谢",
    "快递柜放久了要收费吗",
]
ECHO_APP = """
from fastapi import FastAPI, Request
app = FastAPI()
@app.post("/api/webchat/messages")
async def echo(request: Request):
    body = await request.json()
    return {"replies": [{"text": body.get("text", ""), "buttons": []}]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(base: str, path: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(base + path)).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


class Connection:
    """One owner's keep-alive HTTP/1.1 connection (uvicorn answers with Content-Length)."""

    def __init__(self, base: str) -> None:
        host, _, port = base.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.lock = asyncio.Lock()  # one owner types one message at a time

    async def __aenter__(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *_: object) -> None:
        self.writer.close()

    async def post(self, payload: dict[str, str]) -> bytes:
        status, data = await self.send(payload)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {data[:200]!r}")
        return data

    async def send(self, payload: dict[str, str]) -> tuple[int, bytes]:
        body = json.dumps(payload).encode()
        request = (
            b"POST /api/webchat/messages HTTP/1.1\r\nHost: bench\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            # The server closed the idle connection (uvicorn's 5 s keep-alive) as the request
            # went out: it was not read, so open a new connection and send it again.
            self.writer.close()
            await self.__aenter__()
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(head[9:12]), await self.reader.readexactly(length)


async def connections(base: str, owners: list[str]) -> dict[str, Connection]:
    opened = [await Connection(base).__aenter__() for _ in owners]
    return dict(zip(owners, opened, strict=True))


async def closed_loop(base: str, owners: list[str], seconds: float) -> float:
    done = 0
    conns = await connections(base, owners)
    deadline = time.perf_counter() + seconds

    async def owner(session: str, offset: int) -> None:
        nonlocal done
        n = offset
        while time.perf_counter() < deadline:
            text = MESSAGES[n % len(MESSAGES)]
            await conns[session].post({"session": session, "text": text})
            done += 1
            n += 1

    start = time.perf_counter()
    try:
        await asyncio.gather(*(owner(s, i) for i, s in enumerate(owners)))
    finally:
        for conn in conns.values():
            await conn.__aexit__()
    return done / (time.perf_counter() - start)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, int(len(ordered) * share) - 1)], 1) if ordered else 0.0


async def open_loop(base: str, owners: list[str], rate: float, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    total = int(rate * seconds)
    conns = await connections(base, owners)
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        session = owners[i % len(owners)]
        conn = conns[session]
        async with conn.lock:
            await conn.post({"session": session, "text": MESSAGES[i % len(MESSAGES)]})
        latencies.append((time.perf_counter() - scheduled) * 1000)

    try:
        await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        for conn in conns.values():
            await conn.__aexit__()
    latencies.sort()
    return {
        "rate": rate,
        "messages": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": percentile(latencies, 0.99),
    }


async def flood(base: str, owners: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """Far more owners than the desk can answer, each on its own connection, at ``rate``.

    Each owner waits for the answer to one message before sending the next, as the page
    does; the messages the server turns away (503, nothing stored) are counted, not sent
    again. Latency is from sending to the answer: the server's queue, not the client's.
    """
    answered: list[float] = []
    refused: list[float] = []
    total = int(rate * seconds)
    conns = await connections(base, owners)
    start = time.perf_counter() + 0.2

    async def one(i: int) -> None:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        session = owners[i % len(owners)]
        conn = conns[session]
        async with conn.lock:
            sent = time.perf_counter()
            status, data = await conn.send(
                {"session": session, "text": MESSAGES[i % len(MESSAGES)]}
            )
        took = (time.perf_counter() - sent) * 1000
        if status == 200:
            answered.append(took)
        elif status == 503:
            refused.append(took)
        else:
            raise RuntimeError(f"HTTP {status}: {data[:200]!r}")

    try:
        await asyncio.gather(*(one(i) for i in range(total)))
    finally:
        for conn in conns.values():
            await conn.__aexit__()
    wall = time.perf_counter() - start
    return {
        "owners": len(owners),
        "offered_msg_s": rate,
        "answered_msg_s": round(len(answered) / wall, 1),
        "turned_away_pct": round(100 * len(refused) / total, 1),
        "answered_p50_ms": percentile(answered, 0.5),
        "answered_p99_ms": percentile(answered, 0.99),
        "answered_max_ms": round(max(answered, default=0.0), 1),
        "turned_away_p99_ms": percentile(refused, 0.99),
    }


def prepare_database(url: str, owners: int) -> list[str]:
    env = {**os.environ, "OWNERDESK_DATABASE_URL": url}
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "ownerdesk", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [bin_dir / "ownerdesk", "demo", "load"], env=env, check=True, capture_output=True
    )
    code = f"""
import asyncio
from sqlalchemy import select
from backend.db import Database
from backend.models import ChannelIdentity, Owner, utcnow
async def main():
    db = Database({url!r})
    async with db.session() as s:
        owners = (await s.scalars(select(Owner).order_by(Owner.id).limit({owners}))).all()
        for i, o in enumerate(owners):
            s.add(ChannelIdentity(channel="webchat", external_id=f"bench-{{i}}", owner_id=o.id, verified_at=utcnow(), language=o.language))
    await db.dispose()
asyncio.run(main())
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=ROOT)
    return [f"bench-{i}" for i in range(owners)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    base: str, owners: list[str], seconds: float, rates: list[float], server_pid: int
) -> dict[str, Any]:
    server0, client0, wall0 = cpu_seconds(server_pid), time.process_time(), time.perf_counter()
    throughput = await closed_loop(base, owners, seconds)
    wall = time.perf_counter() - wall0
    server_cpu = (cpu_seconds(server_pid) - server0) / wall
    client_cpu = (time.process_time() - client0) / wall
    latency = [
        await open_loop(base, owners, rate or max(1.0, round(throughput * 0.7)), seconds)
        for rate in rates
    ]
    return {
        "throughput_msg_s": round(throughput, 1),
        "server_cpu_pct": round(server_cpu * 100),
        "client_cpu_pct": round(client_cpu * 100),
        "server_cpu_ms_per_msg": round(server_cpu / throughput * 1000, 2),
        "latency": latency,
    }


@contextlib.asynccontextmanager
async def serving(env: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    """``ownerdesk serve`` on a free port: its base URL and process id."""
    port = free_port()
    server = subprocess.Popen(
        [Path(sys.executable).parent / "ownerdesk", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", "/healthz")
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--rate",
        type=float,
        action="append",
        help="open-loop messages/s, repeatable (0: 70%% of throughput; default 10, 25, 0)",
    )
    parser.add_argument(
        "--flood-owners",
        type=int,
        default=1000,
        help="owners of the flood run past capacity (0: no flood run)",
    )
    parser.add_argument("--flood-rate", type=float, default=1000.0, help="messages/s offered")
    parser.add_argument(
        "--flood-max-wait",
        type=float,
        action="append",
        help="OWNERDESK_WEBCHAT_MAX_WAIT of a flood run, repeatable (default: the service's)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rates = args.rate or [10.0, 25.0, 0.0]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        sessions = prepare_database(url, max(args.owners, args.flood_owners))
        owners = sessions[: args.owners]
        env = {**os.environ, "OWNERDESK_DATABASE_URL": url, "OWNERDESK_VAR_DIR": tmp}
        async with serving(env) as (base, pid):
            ownerdesk = await measure(base, owners, args.seconds, rates, pid)
        floods = []
        for max_wait in (args.flood_max_wait or [None]) if args.flood_owners else []:
            wait_env = {} if max_wait is None else {"OWNERDESK_WEBCHAT_MAX_WAIT": str(max_wait)}
            async with serving({**env, **wait_env}) as (base, _):
                result = await flood(base, sessions, args.flood_rate, args.seconds)
            floods.append({"max_wait_s": max_wait if max_wait is not None else "default", **result})
        (Path(tmp) / "echo_app.py").write_text(ECHO_APP)
        port = free_port()
        echo = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "echo_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}", "/docs")
            ceiling = await measure(
                f"http://127.0.0.1:{port}", owners, args.seconds, rates, echo.pid
            )
        finally:
            echo.terminate()
            echo.wait(timeout=30)
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "database": "SQLite (WAL)",
        "owners": args.owners,
        "ownerdesk": ownerdesk,
        "flood": floods,
        "echo_ceiling": ceiling,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if uvloop is not None:
        uvloop.run(main())
    else:
        asyncio.run(main())
