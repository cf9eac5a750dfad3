"""Telegram delivery throughput against Telegram's limits.

Queues N outbox rows for ~100 Telegram chats in a fresh SQLite database, then runs the
real ``DeliveryWorker`` with the real ``TelegramSender`` (python-telegram-bot over HTTP)
against the fake Bot API server in enforcing mode: at most 30 sends in any one-second
window and one a second per chat, anything over answered with 429 ``retry_after``.

Reports throughput (first to last accepted send) as a share of 30 msg/s and the number
of throttling errors (429s the fake had to give). Goal: ≥ 95 % and 0. The fake runs in
its own process, as Telegram runs elsewhere: its work must not stall the worker being
measured, nor the worker's delay the fake's clock.

    .venv/bin/python benchmarks/delivery_bench.py [--messages 600] [--chats 100] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from backend.db import Database
from backend.messaging import OutboundMessage, enqueue, identity_for
from backend.migrate import upgrade_async
from backend.models import OutboxItem
from backend.settings import Settings
from bot.channels.delivery import DeliveryWorker
from bot.channels.telegram import TelegramSender

ROOT = Path(__file__).resolve().parents[1]  # the fake is run from here: tests.fakes…
LIMIT = 30.0  # Telegram: messages per second per bot
PER_CHAT = 1.0  # seconds between two messages to one chat
FIRST_CHAT = 7_000_000


async def queue(db: Database, messages: int, chats: int) -> dict[int, list[str]]:
    """Round-robin over the chats, as replies to many owners would interleave."""
    expected: dict[int, list[str]] = {FIRST_CHAT + c: [] for c in range(chats)}
    async with db.session() as session:
        identities = [await identity_for(session, "telegram", str(chat)) for chat in expected]
        await session.flush()
        for i in range(messages):
            identity = identities[i % chats]
            text = f"notice {i} for {identity.external_id}"
            expected[int(identity.external_id)].append(text)
            await enqueue(
                session, key=f"bench:{i}", identity=identity, message=OutboundMessage(text)
            )
    return expected


async def run(messages: int, chats: int, give_up_after: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ownerdesk-bench-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        db = Database(url)
        expected = await queue(db, messages, chats)
        async with fake_telegram_process() as (base_url, token, state):
            settings = Settings(
                database_url=url,
                var_dir=Path(tmp) / "var",
                secret_key="bench-" + "x" * 30,
                telegram_token=token,
                telegram_base_url=base_url,
            )
            sender = TelegramSender(settings)
            await sender.initialise()  # getMe, as the Telegram extension does at start-up
            worker = DeliveryWorker(db, {"telegram": sender})
            stop = asyncio.Event()
            started = time.monotonic()
            task = asyncio.create_task(worker.run(stop))
            try:
                while (await state())["sent"] < messages:
                    if time.monotonic() - started > give_up_after or task.done():
                        raise SystemExit("gave up before every message was delivered")
                    await asyncio.sleep(0.25)
            finally:
                stop.set()
                await asyncio.wait_for(task, 10)
                await sender.aclose()
            wall = time.monotonic() - started
            seen = await state(full=True)
            async with db.session() as session:
                states = list(await session.scalars(select(OutboxItem.state)))
            await db.dispose()
        sent = [(int(chat), text, at) for chat, text, at in seen["messages"]]
        to: dict[int, list[tuple[str, float]]] = {chat: [] for chat in expected}
        for chat, text, at in sent:
            to[chat].append((text, at))
        span = sent[-1][2] - sent[0][2]
        throughput = (len(sent) - 1) / span if span > 0 else float("inf")
        in_order = all([t for t, _ in to[chat]] == texts for chat, texts in expected.items())
        gaps = [b[1] - a[1] for chat in to for a, b in zip(to[chat], to[chat][1:], strict=False)]
        return {
            "messages": messages,
            "chats": chats,
            "delivered": len(sent),
            "seconds": round(span, 2),
            "wall_seconds": round(wall, 2),
            "throughput_per_s": round(throughput, 2),
            "percent_of_limit": round(100 * throughput / LIMIT, 1),
            # With few chats the 1-a-second-per-chat rule is the tighter one.
            "percent_of_ceiling": round(100 * throughput / min(LIMIT, chats / PER_CHAT), 1),
            "throttling_errors": seen["violations"],
            "over_global_limit": seen["violations_global"],
            "over_chat_limit": seen["violations_chat"],
            "min_gap_same_chat_s": round(min(gaps), 3) if gaps else None,
            "in_order_per_chat": in_order,
            "outbox_sent": states.count("sent"),
            "outbox_failed": states.count("failed"),
            "machine": machine(),
            "database": "SQLite (file, WAL)",
        }


@contextlib.asynccontextmanager
async def fake_telegram_process() -> AsyncIterator[tuple[str, str, Any]]:
    """The fake Bot API in its own process, enforcing the limits: like Telegram, it runs
    elsewhere, so its work neither stalls the worker nor is stalled by it (one GIL)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_api",
        "--enforce-limits",
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stdin is not None
    where = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
    root = where["base_url"].removesuffix("/bot")
    async with httpx.AsyncClient(base_url=root) as client:

        async def state(full: bool = False) -> dict[str, Any]:
            response = await client.get("/_fake/state", params={"full": full})
            return dict(response.json())

        try:
            yield where["base_url"], where["token"], state
        finally:
            process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()


def machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU, load {load:.1f}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=300.0, help="give up after (s)")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args.messages, args.chats, args.timeout))
    if args.json:
        print(json.dumps(result))
        return
    goal = result["percent_of_ceiling"] >= 95 and result["throttling_errors"] == 0
    print(
        f"{result['delivered']}/{result['messages']} messages to {result['chats']} chats "
        f"in {result['seconds']} s ({result['wall_seconds']} s wall)"
    )
    print(
        f"throughput {result['throughput_per_s']} msg/s = {result['percent_of_limit']} % of "
        f"30 msg/s ({result['percent_of_ceiling']} % of what {result['chats']} chats allow)"
    )
    print(
        f"throttling errors (429) {result['throttling_errors']} "
        f"(global {result['over_global_limit']}, per chat {result['over_chat_limit']}); "
        f"smallest gap to one chat {result['min_gap_same_chat_s']} s"
    )
    print(
        f"order kept per chat: {result['in_order_per_chat']}; outbox sent "
        f"{result['outbox_sent']}, failed {result['outbox_failed']}"
    )
    print(f"{result['machine']}; {result['database']}")
    print("goal (≥ 95 %, 0 throttling errors):", "met" if goal else "NOT met")


if __name__ == "__main__":
    main()
