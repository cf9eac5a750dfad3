"""How long ``ownerdesk owners import`` takes for N household rows (default 100,000).

    .venv/bin/python benchmarks/import_owners.py [--rows 100000] [--database-url URL] [--json]

Builds a fresh database (SQLite in a temp dir unless --database-url), loads the demo
estates, writes a CSV with N distinct units and owners, and times a first import
(everything created) and a second one of the same file (everything unchanged).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import platform
import random
import tempfile
import time
from pathlib import Path

from backend.db import Database
from backend.demo import load_demo
from backend.migrate import upgrade
from backend.owners_import import import_owners


def write_rows(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["estate", "unit", "name", "phone", "birthday", "language", "stage",
                      "handover_date", "members", "warranty"])  # fmt: skip
        for i in range(rows):
            estate = "DEMO-A" if i % 2 else "DEMO-B"
            building, rest = divmod(i, 2000)
            entrance, room = divmod(rest, 400)
            unit = f"X{building}-{entrance + 1}-{room // 8 + 1}{room % 8 + 1:02d}"
            out.writerow([
                estate, unit, f"业主{i}", f"13{rng.randrange(100_000_000, 999_999_999)}",
                f"{rng.randrange(1950, 2000)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "zh" if i % 3 else "en", "stable", "2022-06-30",
                "孩子/child/2016-06-01" if i % 4 == 0 else "",
                "waterproofing:2027-06-30" if i % 5 == 0 else "",
            ])  # fmt: skip


async def timed_import(db: Database, path: Path) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    async with db.session() as session:
        report = await import_owners(session, path)
    elapsed = time.perf_counter() - start
    assert report.ok, report.errors[:5]
    return elapsed, {"created": report.created, "unchanged": report.unchanged}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        async with db.session() as session:
            await load_demo(session)
        path = Path(tmp) / "owners.csv"
        write_rows(path, args.rows)
        first, first_counts = await timed_import(db, path)
        second, second_counts = await timed_import(db, path)
        await db.dispose()
    result = {
        "rows": args.rows,
        "database": url.split(":")[0],
        "first_import_s": round(first, 2),
        "rows_per_s": round(args.rows / first),
        "reimport_s": round(second, 2),
        "first": first_counts,
        "second": second_counts,
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.rows} rows on {result['database']}: first import {first:.1f} s "
            f"({result['rows_per_s']} rows/s), re-import {second:.1f} s"
        )


if __name__ == "__main__":
    asyncio.run(main())
