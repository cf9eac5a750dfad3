"""Web-chat throughput and latency against a real ``ownerdesk serve`` on SQLite.

    .venv/bin/python benchmarks/webchat_bench.py [--owners 50] [--seconds 15] [--rate 0] [--json]

Closed loop: N owners, each sending its next message when the reply to the last one
arrives, for --seconds → messages/s. Open loop: messages sent on a fixed schedule at
--rate per second (default: 70 % of the closed-loop throughput), latency counted from
the *scheduled* send time so queueing is charged → p50/p99. The same two runs against
a bare FastAPI echo endpoint (uvicorn, one process) give the ceiling of this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

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


async def closed_loop(base: str, owners: list[str], seconds: float) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=len(owners), max_keepalive_connections=len(owners))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def owner(session: str, offset: int) -> None:
            nonlocal done
            n = offset
            while time.perf_counter() < deadline:
                text = MESSAGES[n % len(MESSAGES)]
                r = await client.post(
                    "/api/webchat/messages", json={"session": session, "text": text}
                )
                r.raise_for_status()
                done += 1
                n += 1

        start = time.perf_counter()
        await asyncio.gather(*(owner(s, i) for i, s in enumerate(owners)))
        return done / (time.perf_counter() - start)


async def open_loop(base: str, owners: list[str], rate: float, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    total = int(rate * seconds)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        start = time.perf_counter() + 0.2
        locks = {s: asyncio.Lock() for s in owners}

        async def one(i: int) -> None:
            scheduled = start + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            session = owners[i % len(owners)]
            async with locks[session]:  # one owner types one message at a time
                r = await client.post(
                    "/api/webchat/messages",
                    json={"session": session, "text": MESSAGES[i % len(MESSAGES)]},
                )
            r.raise_for_status()
            latencies.append((time.perf_counter() - scheduled) * 1000)

        await asyncio.gather(*(one(i) for i in range(total)))
    latencies.sort()
    return {
        "rate": rate,
        "messages": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
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


async def measure(base: str, owners: list[str], seconds: float, rate: float) -> dict[str, float]:
    throughput = await closed_loop(base, owners, seconds)
    latency = await open_loop(base, owners, rate or max(1.0, round(throughput * 0.7)), seconds)
    return {"throughput_msg_s": round(throughput, 1), **latency}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument(
        "--rate", type=float, default=0, help="open-loop messages/s (0: 70%% of throughput)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        owners = prepare_database(url, args.owners)
        port = free_port()
        env = {**os.environ, "OWNERDESK_DATABASE_URL": url, "OWNERDESK_VAR_DIR": tmp}
        server = subprocess.Popen(
            [Path(sys.executable).parent / "ownerdesk", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}", "/healthz")
            ownerdesk = await measure(f"http://127.0.0.1:{port}", owners, args.seconds, args.rate)
        finally:
            server.terminate()
            server.wait(timeout=30)
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
            ceiling = await measure(f"http://127.0.0.1:{port}", owners, args.seconds, args.rate)
        finally:
            echo.terminate()
            echo.wait(timeout=30)
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}",
        "database": "SQLite (WAL)",
        "owners": args.owners,
        "ownerdesk": ownerdesk,
        "echo_ceiling": ceiling,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
