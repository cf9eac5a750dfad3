"""The front desk's day in a real browser: a web-chat ticket arrives, is answered and
dispatched; the technician finishes it on a phone; the supervisor sees a breach."""

from __future__ import annotations

import re
from typing import Any

import httpx

from backend.demo import DEMO_PASSWORD
from tests.fakes.server import Served

PHONE = {"width": 390, "height": 844}


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console$"))


def new_webchat_repair(base: str) -> str:
    """An owner reports a repair through the web chat API; returns the ticket number."""
    first = httpx.post(
        f"{base}/api/webchat/messages",
        json={"session": "demo-session", "text": "主卧空调漏水了，今天下午来修"},
    ).json()
    submit = next(
        b for r in first["replies"] for b in r["buttons"] if b["value"] == "repair:submit"
    )
    done = httpx.post(
        f"{base}/api/webchat/messages",
        json={"session": "demo-session", "text": submit["label"], "value": submit["value"]},
    ).json()
    return str(done["ticket"]["number"])


def test_reply_reaches_the_owner_and_the_technician_finishes_on_a_phone(
    browser: Any, served: Served
) -> None:
    base = served.base_url
    number = new_webchat_repair(base)
    agent = browser.new_page()
    login(agent, base, "agent.a")
    agent.wait_for_selector(f"tr[data-ticket='{number}']")
    agent.click(f"tr[data-ticket='{number}'] a")
    agent.wait_for_selector("#reply-text")
    assert "主卧空调漏水了" in agent.inner_text("#conversation")

    agent.fill("#reply-text", "您好，师傅马上联系您。")
    agent.click("button:has-text('发送')")
    agent.wait_for_selector(".flash.ok")

    owner = browser.new_page()
    owner.goto(f"{base}/chat?session=demo-session&lang=zh")
    owner.wait_for_selector("text=您好，师傅马上联系您。", timeout=15000)

    agent.select_option("select[name=assignee_id]", label="赵师傅")
    agent.click("button:has-text('派单')")
    agent.wait_for_selector(".flash.ok")
    assert "已派单" in agent.inner_text("h1")
    owner.wait_for_selector("text=维修师傅：赵师傅", timeout=15000)

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    tech = context.new_page()
    login(tech, base, "tech.a")
    tech.click(f"tr[data-ticket='{number}'] a")
    tech.click("button[data-move=on_site]")
    tech.wait_for_selector(".flash.ok")
    tech.click("button[data-move=done]")
    tech.wait_for_selector(".flash.ok")
    assert "维修完成，待回访" in tech.inner_text("h1")
    assert (
        tech.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1
    )  # no sideways scrolling
    context.close()
    owner.wait_for_selector("text=已维修完成", timeout=15000)


def test_the_supervisor_sees_a_breached_promise(browser: Any, served: Served) -> None:
    page = browser.new_page()
    login(page, served.base_url, "supervisor.a")
    page.check("input[name=overdue]")
    page.click("text=筛选")
    page.wait_for_selector(".badge.red")
    badge = page.inner_text(".badge.red")
    assert "超时" in badge
    row = page.locator("tr", has=page.locator(".badge.red")).first
    assert "卫生间天花板渗水" in row.inner_text()


def test_english_console_and_escaping(browser: Any, served: Served) -> None:
    httpx.post(
        f"{served.base_url}/api/webchat/messages",
        json={
            "session": "demo-session-b",
            "text": "<img src=x onerror=alert(1)> my lift is broken",
        },
    )
    page = browser.new_page()
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    login(page, served.base_url, "agent.b")
    page.click("text=中文") if "Open tickets" not in page.content() else None
    page.click("header >> text=English") if "待处理工单" in page.content() else None
    page.wait_for_selector("text=Open tickets")
    assert alerts == []
