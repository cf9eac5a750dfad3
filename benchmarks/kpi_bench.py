"""Time of the KPI report for one month of N tickets (goal: under 2 s for 100 000).

    .venv/bin/python benchmarks/kpi_bench.py [--tickets 100000] [--database-url URL]
        [--runs 5] [--without-indexes] [--json]

Builds a company (10 estates × 10 buildings × 100 units, one owner each) and a month of
tickets with events, deadlines, ratings, callback tasks and owner messages by bulk insert
(backend/reports/simulate.py), then times ``kpi_report`` for that month: the first run
(cold caches) and the median of ``--runs`` more. Without ``--database-url`` a throwaway
SQLite file is used; a PostgreSQL URL must name an empty database (it is migrated here).
The indexes the report wants (``REPORT_INDEXES``) are created unless
``--without-indexes``; the migrations are expected to carry them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from backend.db import Database
from backend.migrate import upgrade_async
from backend.models import Company, Estate, Ticket
from backend.reports import kpi_report, period_bounds
from backend.reports.simulate import Plan, add_households, generate

ZONE = ZoneInfo("Asia/Shanghai")
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
# (name, table, columns): what the KPI queries range-scan on (docs/kpi.md, "Indexes").
REPORT_INDEXES = (
    ("ix_tickets_identity_created", "tickets", ("identity_id", "created_at")),
    ("ix_tickets_owner_created", "tickets", ("owner_id", "created_at")),
    ("ix_deadlines_promise_due", "deadlines",
     ("promise", "due_at", "state", "met_at", "started_at", "ticket_id")),
    ("ix_ticket_events_state_at", "ticket_events", ("to_state", "at", "action", "ticket_id")),
    ("ix_ratings_created", "ratings", ("created_at",)),
    ("ix_messages_created", "messages", ("created_at",)),
)  # fmt: skip


async def build_company(db: Database, estates: int, buildings: int, units: int) -> int:
    async with db.session() as s:
        company = Company(code="BENCH", name="基准物业", name_en="Bench Property")
        s.add(company)
        await s.flush()
        for e in range(estates):
            estate = Estate(company_id=company.id, code=f"BENCH-{e:02d}", name=f"小区{e}")
            s.add(estate)
            await s.flush()
            await add_households(s, estate.id, buildings, units, prefix="")
        return company.id


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--without-indexes", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade_async(url)
        db = Database(url)
        async with db.session() as s:
            if await s.scalar(select(func.count()).select_from(Ticket)):
                raise SystemExit("the benchmark needs an empty database")
        company_id = await build_company(db, 10, 10, 100)
        start, end = period_bounds(FIRST, LAST, ZONE)
        now = end + timedelta(days=10)
        began = time.perf_counter()
        async with db.session() as s:
            truth = await generate(s, company_id, Plan(args.tickets, start, end, now, seed=11))
        generated = time.perf_counter() - began
        async with db.engine.begin() as conn:
            if not args.without_indexes:
                for name, table, columns in REPORT_INDEXES:
                    await conn.execute(
                        text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})")
                    )
            if db.is_sqlite:
                await conn.execute(text("ANALYZE"))
        if not db.is_sqlite:  # what autovacuum does after a bulk load: statistics, visibility
            async with db.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM ANALYZE"))
        timings, estate_timings = [], []
        report = None
        for _ in range(args.runs + 1):
            async with db.sessions() as s:
                t0 = time.perf_counter()
                report = await kpi_report(s, company_id=company_id, start=start, end=end, now=now)
                timings.append(time.perf_counter() - t0)
        async with db.sessions() as s:  # one estate of ten, as a supervisor sees it
            estate_id = await s.scalar(select(func.min(Estate.id)))
            for _ in range(3):
                t0 = time.perf_counter()
                await kpi_report(
                    s, company_id=company_id, start=start, end=end, now=now, estate_id=estate_id
                )
                estate_timings.append(time.perf_counter() - t0)
        await db.dispose()
    assert report is not None and report.volumes.total == args.tickets
    result = {
        "tickets": args.tickets,
        "rows": dict(truth.rows),
        "database": "PostgreSQL" if url.startswith("postgresql") else "SQLite",
        "report_indexes": not args.without_indexes,
        "generate_s": round(generated, 1),
        "first_report_s": round(timings[0], 3),
        "median_report_s": round(statistics.median(timings[1:]), 3),
        "max_report_s": round(max(timings[1:]), 3),
        "median_estate_report_s": round(statistics.median(estate_timings), 3),
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"python {platform.python_version()}".strip(),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
