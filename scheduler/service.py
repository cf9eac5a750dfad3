"""APScheduler 3 inside ``ownerdesk serve``: a persistent SQLAlchemy job store, coalescing
and a generous misfire grace time (a job missed by a restart runs once when it can), and
exactly one scheduler per database: a PostgreSQL advisory lock, or a file lock for SQLite.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
from pathlib import Path
from typing import IO, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from backend.db import Database, sqlite_file
from backend.settings import Settings
from scheduler import jobs

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
LOCK_KEY = 727_001  # the advisory lock every OwnerDesk process competes for
RETRY_LEADERSHIP = 30.0
JOBS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("sla_watch", "interval", {"seconds": 60}),
    ("callbacks", "interval", {"minutes": 5}),
    ("campaigns", "interval", {"seconds": 60}),
    ("care_daily", "cron", {"minute": 5}),  # hourly: idempotent, and it catches up after downtime
    ("group_alerts", "interval", {"minutes": 5}),
    # Hourly, each does its work once when due (08:00 local by default): any time zone, catch-up.
    ("daily_report", "cron", {"minute": 10}),
    ("monthly_report", "cron", {"minute": 20}),
)


def sync_url(url: str) -> str:
    """Where the job store lives, through a blocking driver (APScheduler 3's store is
    synchronous, and the scheduler calls it on the event loop).

    PostgreSQL: the service's database. SQLite: a file of its own next to the service's
    (``ownerdesk.db`` → ``ownerdesk-jobs.db``). In the same file, the store's update after
    a job run had to wait for SQLite's write lock while an owner's message was being
    answered, and since it waited on the event loop, the answer could not finish: the
    whole service stood still for the store's 5-second busy timeout, once a minute under
    load (benchmarks/webchat_bench.py).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(url)
        if database:
            path = Path(database)
            database = str(path.with_name(f"{path.stem}-jobs{path.suffix or '.db'}"))
        return parsed.set(drivername="sqlite", database=database).render_as_string()
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


class SchedulerService:
    def __init__(self, settings: Settings, db: Database, wake: Any = None) -> None:
        self.settings = settings
        self.db = db
        self.wake = wake
        self.scheduler: AsyncIOScheduler | None = None
        self._lock_connection: AsyncConnection | None = None
        self._lock_file: IO[str] | None = None
        self._waiting: asyncio.Task[None] | None = None
        self.leader = False

    async def start(self) -> None:
        jobs.configure(self.db, wake=self.wake)
        if await self._lead():
            self._start_scheduler()
        else:
            log.info("another process runs the scheduler; this one will take over if it stops")
            self._waiting = asyncio.create_task(
                self._wait_for_leadership(), name="scheduler-leadership"
            )

    async def _wait_for_leadership(self) -> None:
        while True:
            await asyncio.sleep(RETRY_LEADERSHIP)
            if await self._lead():
                self._start_scheduler()
                return

    async def _lead(self) -> bool:
        if self.db.is_sqlite:
            path = Path(self.settings.var_dir) / "scheduler.lock"
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock_file = handle
            self.leader = True
            return True
        connection = await self.db.engine.connect()
        got = (
            await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
        ).scalar()
        if not got:
            await connection.close()
            return False
        self._lock_connection = connection  # the lock lives as long as this connection
        self.leader = True
        return True

    def _start_scheduler(self) -> None:
        store = SQLAlchemyJobStore(url=sync_url(self.db.url), tablename=JOB_TABLE)
        scheduler = AsyncIOScheduler(
            jobstores={"default": store},
            job_defaults={"coalesce": True, "misfire_grace_time": 6 * 3600, "max_instances": 1},
            timezone="UTC",
        )
        for name, trigger, spec in JOBS:
            scheduler.add_job(
                f"scheduler.jobs:{name}", trigger, id=name, replace_existing=True, **spec
            )
        scheduler.start()
        self.scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(n for n, _, _ in JOBS))

    async def stop(self) -> None:
        if self._waiting:
            self._waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._waiting
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
        if self._lock_connection is not None:
            with contextlib.suppress(Exception):
                await self._lock_connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY}
                )
                await self._lock_connection.close()
            self._lock_connection = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
        self.leader = False

    def health(self) -> dict[str, Any]:
        if not self.leader or self.scheduler is None:
            return {"leader": False}
        upcoming = {
            job.id: job.next_run_time.isoformat() if job.next_run_time else None
            for job in self.scheduler.get_jobs()
        }
        return {"leader": True, "jobs": upcoming}
