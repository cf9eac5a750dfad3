"""Server time to render a console ticket page whose conversation holds 500 messages.

    .venv/bin/python benchmarks/ticket_page_bench.py [--messages 500] [--requests 40] [--json]

In-process (httpx over ASGI): what is measured is the application's own time, from
request to rendered HTML, on SQLite, after one warm-up request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import tempfile
import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from backend.composition import build_extensions, build_runtime
from backend.db import Database
from backend.demo import DEMO_PASSWORD, load_demo
from backend.messaging import OutboundMessage, enqueue
from backend.migrate import upgrade_async
from backend.models import ChannelIdentity, Message, Ticket, utcnow
from backend.settings import Settings
from backend.web.app import create_app


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await upgrade_async(url)
        db = Database(url)
        async with db.session() as s:
            await load_demo(s)
            identity = await s.scalar(
                select(ChannelIdentity).where(ChannelIdentity.external_id == "demo-session")
            )
            ticket = await s.scalar(
                select(Ticket).where(Ticket.owner_id == identity.owner_id).limit(1)
            )  # type: ignore[union-attr]
            assert identity is not None and ticket is not None
            start = utcnow() - timedelta(days=3)
            for n in range(args.messages):
                at = start + timedelta(minutes=n)
                if n % 2:
                    await enqueue(
                        s,
                        key=f"bench:{n}",
                        identity=identity,
                        message=OutboundMessage(f"回复 {n}：师傅会尽快联系您。"),
                        ticket_id=ticket.id,
                    )
                else:
                    s.add(
                        Message(
                            channel="webchat",
                            platform_message_id=f"bench-{n}",
                            direction="in",
                            identity_id=identity.id,
                            owner_id=identity.owner_id,
                            text=f"业主第 {n} 条消息：卫生间还在漏水 <b>急</b>",
                            created_at=at,
                            processed_at=at,
                        )
                    )
            ticket_id = ticket.id
        settings = Settings(database_url=url, var_dir=f"{tmp}/var", secret_key="bench-" + "x" * 30)
        runtime = build_runtime(settings, db)
        app = create_app(settings, db, build_extensions(runtime)[:2])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            page = await client.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            await client.post(
                "/console/login",
                data={"username": "agent.a", "password": DEMO_PASSWORD, "csrf_token": token},
            )
            first = await client.get(f"/console/tickets/{ticket_id}")
            assert first.status_code == 200 and first.text.count('class="bubble') >= args.messages
            timings = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                response = await client.get(f"/console/tickets/{ticket_id}")
                timings.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200
        await db.dispose()
    timings.sort()
    result = {
        "messages": args.messages,
        "requests": args.requests,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 1),
        "max_ms": round(timings[-1], 1),
        "database": "SQLite",
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
