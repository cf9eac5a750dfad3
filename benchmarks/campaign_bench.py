"""Planning a campaign to N owners: choosing the audience and queueing one outbox row each.

Generates N owners bound to Telegram (bulk inserts, not timed) in a fresh SQLite
database, or in the PostgreSQL database given (use a throwaway one:
``scripts/postgres.sh start DIR`` prints its URL), schedules a campaign to all of them
and times the scheduler's tick that starts it (``backend.campaigns.start_due``: audience
query, reach, rendering, ``enqueue_many``, commit). Also times the preview (audience
count and texts) and a second start of the same campaign, which must queue nothing.
The tables are not analysed after the load, as just after an owners import: the
audience queries must not depend on fresh planner statistics.
Goal: planning 100,000 owners in under 10 s on SQLite and on PostgreSQL.

    .venv/bin/python benchmarks/campaign_bench.py [--owners 100000] [--database-url URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from backend import campaigns  # noqa: E402
from backend.campaign_audience import AudienceSpec, CampaignKind, CampaignState  # noqa: E402
from backend.db import Database  # noqa: E402
from backend.migrate import upgrade_async  # noqa: E402
from backend.models import Campaign, OutboxItem, utcnow  # noqa: E402
from tests.campaigns.population import populate  # noqa: E402

GOAL_SECONDS = 10.0


async def measure(url: str, owners: int) -> dict[str, Any]:
    await upgrade_async(url)
    db = Database(url)
    try:
        stamp = int(time.time() * 1000) % 1_000_000_000
        started = time.perf_counter()
        people = await populate(db, owners, code=f"BENCH-{stamp}", first_chat=stamp * 1000)
        generated = time.perf_counter() - started
        now = utcnow()
        async with db.session() as session:
            campaign = Campaign(
                company_id=people.company_id,
                name="benchmark",
                kind=CampaignKind.CAMPAIGN.value,
                audience=AudienceSpec(estate_ids=(people.estate_id,)).to_json(),
                text_zh="{name}您好，{estate}本周六上午举办社区开放日，欢迎参加。",
                text_en="Dear {name}, {estate} holds an open day this Saturday morning.",
                state=CampaignState.SCHEDULED.value,
                scheduled_at=now,
            )
            session.add(campaign)
        async with db.session() as session:
            campaign = await session.get(Campaign, campaign.id)
            assert campaign is not None
            started = time.perf_counter()
            shown = await campaigns.preview(session, campaign)
            preview_s = time.perf_counter() - started
        started = time.perf_counter()
        async with db.session() as session:
            queued = await campaigns.start_due(session, now)
        plan_s = time.perf_counter() - started
        started = time.perf_counter()
        async with db.session() as session:
            campaign = await session.get(Campaign, campaign.id)
            assert campaign is not None
            again = await campaigns.plan(session, campaign, now)
        replan_s = time.perf_counter() - started
        async with db.session() as session:
            rows = await session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.campaign_id == campaign.id)
            )
    finally:
        await db.dispose()
    return {
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "owners": owners,
        "reachable": shown.reachable,
        "queued": queued,
        "outbox_rows": rows,
        "plan_seconds": round(plan_s, 2),
        "owners_per_second": round(queued / plan_s) if plan_s else None,
        "preview_seconds": round(preview_s, 2),
        "replan_seconds": round(replan_s, 2),
        "replan_queued": again,
        "generate_seconds": round(generated, 2),
        "goal_seconds": GOAL_SECONDS,
        "ok": plan_s < GOAL_SECONDS and queued == owners and again == 0,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ownerdesk-campaign-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        result = asyncio.run(measure(url, args.owners))
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['database']}: planned {result['queued']:,} of {result['owners']:,} owners "
        f"in {result['plan_seconds']} s ({result['owners_per_second']:,}/s; goal < "
        f"{GOAL_SECONDS:.0f} s) · preview {result['preview_seconds']} s · second start "
        f"{result['replan_seconds']} s, {result['replan_queued']} queued · {result['machine']}"
    )
    if not result["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
