"""A care campaign in a real browser: a manager writes it, checks the preview, sends it and
watches the progress turn to "sent" once the outbox worker has delivered it; the owner
sees it in the web chat with its unsubscribe button.

With ``OWNERDESK_SCREENSHOTS=DIR`` the pages are also saved as PNGs (docs/screenshots).
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any

from backend.demo import DEMO_PASSWORD
from tests.fakes.server import Served

TEXT_ZH = "{name}您好！{estate}本周六上午九点在中心花园举办业主开放日，欢迎全家参加。"
TEXT_EN = "Dear {name}, {estate} holds an owners' open day in the central garden this Saturday at 9 am. The whole family is welcome."
DESK = {"width": 1280, "height": 860}


def no_quiet_hours(served: Served) -> None:
    """Whatever the time of day the test runs at, the message may go at once."""
    path = served.database_url.split("///", 1)[1]
    with sqlite3.connect(path, timeout=30) as conn:
        conn.execute(
            "UPDATE estates SET settings = json_set(settings, '$.quiet_hours', "
            'json(\'["00:00", "00:00"]\'))'
        )


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("OWNERDESK_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console$"))


def test_write_preview_send_and_watch_it_arrive(browser: Any, served: Served) -> None:
    base = served.base_url
    no_quiet_hours(served)
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    login(page, base, "manager")
    page.click("header nav a[href='/console/campaigns']")
    page.wait_for_selector("table#campaigns")
    page.click("a[href='/console/campaigns/new']")
    page.fill("input[name=name]", "业主开放日")
    page.fill("textarea[name=text_zh]", TEXT_ZH)
    page.fill("textarea[name=text_en]", TEXT_EN)
    shoot(page, "campaign-form-zh")
    page.click("#campaign-save")

    page.wait_for_selector("#campaign-preview")
    assert page.inner_text("[data-count=reachable]") == "2"
    assert page.inner_text("[data-count=unreachable]") == "198"
    assert page.inner_text("#preview-zh").startswith("张伟您好！阳光花园本周六上午九点")
    assert page.inner_text("#preview-en").startswith("Dear Emily Chen, Lakeside Court holds")
    shoot(page, "campaign-preview-zh")

    page.click("button[data-action=send]")
    page.wait_for_selector(".flash.ok")
    # htmx polls the progress every 2 s until the worker has sent both messages.
    page.wait_for_selector("#campaign-progress[data-state=done]", timeout=20_000)
    assert page.inner_text("[data-count=sent]") == "2"
    assert page.inner_text("[data-count=queued]") == "0"
    shoot(page, "campaign-progress-zh")

    page.click("a[href='/console/campaigns']")
    row = page.wait_for_selector("tr[data-state=done]")
    assert "已发送 2 / 2" in row.inner_text()
    shoot(page, "campaigns-zh")
    page.click("header form[action='/console/lang'] button")
    page.wait_for_selector("text=Campaigns")
    shoot(page, "campaigns-en")
    page.click("tr[data-state=done] a")
    page.wait_for_selector("#campaign-progress[data-state=done]")
    shoot(page, "campaign-progress-en")
    page.click("header form[action='/console/lang'] button")  # back to Chinese for others
    context.close()

    owner = browser.new_page()
    owner.goto(f"{base}/chat?session=demo-session&lang=zh")
    owner.wait_for_selector("text=张伟您好！阳光花园本周六上午九点", timeout=15_000)
    owner.close()
