"""The callback task list in a browser: an ambassador records a phone callback.

With ``OWNERDESK_SCREENSHOTS=DIR`` the list is also saved as a PNG (docs/screenshots).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select

from backend import desk
from backend.actors import SYSTEM
from backend.callbacks import RETRY_AFTER, TASK_AFTER, run_callbacks
from backend.db import Database
from backend.models import CallbackTask, Estate, Ticket, utcnow
from tests.browser.test_campaigns import shoot
from tests.browser.test_console_flow import login
from tests.factories import morning_after
from tests.fakes.server import Served


async def make_task(url: str) -> int:
    db = Database(url)
    try:
        async with db.session() as s:
            ticket = await s.scalar(
                select(Ticket)
                .join(Estate, Estate.id == Ticket.estate_id)
                .where(Estate.code == "DEMO-A", Ticket.state == "done")
            )
            assert ticket is not None
            await desk.move(s, ticket, "callback", SYSTEM)
            later = morning_after(RETRY_AFTER, utcnow())
            await run_callbacks(s, later)
            await run_callbacks(s, later + TASK_AFTER)
            task = await s.scalar(select(CallbackTask).where(CallbackTask.ticket_id == ticket.id))
            assert task is not None
            return task.id
    finally:
        await db.dispose()


def test_an_ambassador_records_a_phone_callback(browser: Any, served: Served) -> None:
    # Playwright's sync API runs an event loop in this thread: use another for the database.
    with ThreadPoolExecutor(1) as pool:
        task_id = pool.submit(asyncio.run, make_task(served.database_url)).result()
    page = browser.new_page(viewport={"width": 1280, "height": 640})
    login(page, served.base_url, "agent.a")
    page.click("header >> text=回访任务")
    row = page.locator(f"tr[data-task='{task_id}']")
    shoot(page, "callbacks-zh")
    row.locator("select[name=outcome]").select_option("reached")
    row.locator("select[name=score]").select_option("4")
    row.locator("input[name=note]").fill("电话回访，业主满意")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    page.click("a[href='/console/callbacks?done=1']")
    page.wait_for_url("**done=1")
    assert "电话回访，业主满意" in page.inner_text("table")
