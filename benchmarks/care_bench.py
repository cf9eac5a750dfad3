"""The daily care sweep over N owners (default 1,000,000), on SQLite or PostgreSQL.

    .venv/bin/python benchmarks/care_bench.py [--owners 1000000] [--reachable 0.3] [--database-url URL] [--json]

Generates N households (units, owners, a third of them with a chat account, a warranty
item for one unit in ten) with bulk inserts, then times ``run_care`` for an ordinary day
(birthdays, warranty notices, owner stages; no festival) and a second, repeated run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text

from backend.care import run_care
from backend.db import Database
from backend.migrate import upgrade_async
from backend.models import Building, ChannelIdentity, Company, Estate, Owner, Unit, WarrantyItem

DAY = date(2026, 11, 26)  # a Thursday, no festival
CHUNK = 20_000


async def generate(db: Database, owners: int, reachable: float) -> None:
    rng = random.Random(42)
    async with db.session() as s:
        company = Company(code="BENCH", name="基准物业")
        s.add(company)
        await s.flush()
        estate = Estate(company_id=company.id, code="BENCH-1", name="基准小区")
        s.add(estate)
        await s.flush()
        building = Building(estate_id=estate.id, code="A", name="A")
        s.add(building)
        await s.flush()
        company_id, estate_id, building_id = company.id, estate.id, building.id
    now = datetime.now(UTC)
    for start in range(0, owners, CHUNK):
        n = min(CHUNK, owners - start)
        units = [
            {
                "id": start + i + 1,
                "estate_id": estate_id,
                "building_id": building_id,
                "number": f"A-{(start + i) // 1000}-{(start + i) % 1000}",
                "handover_date": date(2015, 1, 1) + timedelta(days=rng.randrange(0, 4000)),
            }
            for i in range(n)
        ]
        people = [
            {
                "id": start + i + 1,
                "company_id": company_id,
                "estate_id": estate_id,
                "unit_id": start + i + 1,
                "name": f"业主{start + i}",
                "phone": f"139{start + i:08d}",
                "birthday": date(1950, 1, 1) + timedelta(days=rng.randrange(0, 20000)),
                "language": "zh" if rng.random() < 0.8 else "en",
                "stage": "stable",
                "key_owner": False,
                "moved_in_on": None
                if rng.random() < 0.05
                else date(2015, 3, 1) + timedelta(days=rng.randrange(0, 4000)),
                "care_opt_outs": ["birthday"] if rng.random() < 0.02 else [],
                "email": "",
                "notes": "",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(n)
        ]
        chats = [
            {
                "channel": "webchat",
                "external_id": f"bench-{start + i}",
                "owner_id": start + i + 1,
                "verified_at": now,
                "display_name": "",
                "created_at": now,
            }
            for i in range(n)
            if rng.random() < reachable
        ]
        items = [
            {
                "unit_id": start + i + 1,
                "item": "waterproofing",
                "expires_on": DAY + timedelta(days=rng.randrange(0, 365)),
            }
            for i in range(n)
            if rng.random() < 0.1
        ]
        async with db.session() as s:
            await s.execute(insert(Unit), units)
            await s.execute(insert(Owner), people)
            if chats:
                await s.execute(insert(ChannelIdentity), chats)
            if items:
                await s.execute(insert(WarrantyItem), items)
    if not db.is_sqlite:
        async with db.session() as s:
            for table in ("units", "owners"):
                await s.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                    )
                )
            await s.execute(text("ANALYZE"))


async def timed(db: Database) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    async with db.session() as s:
        report = await run_care(s, DAY, datetime(2026, 11, 26, 0, 30, tzinfo=UTC))
    return time.perf_counter() - start, report.as_json()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=1_000_000)
    parser.add_argument("--reachable", type=float, default=0.3)
    parser.add_argument("--database-url")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/care.db"
        await upgrade_async(url)
        db = Database(url)
        t0 = time.perf_counter()
        await generate(db, args.owners, args.reachable)
        generated = time.perf_counter() - t0
        first, report = await timed(db)
        second, again = await timed(db)
        await db.dispose()
    result = {
        "owners": args.owners,
        "database": url.split(":")[0],
        "generate_s": round(generated, 1),
        "sweep_s": round(first, 2),
        "repeat_s": round(second, 2),
        "first": report,
        "repeat": again,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
