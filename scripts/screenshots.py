"""Screenshots for the README: web chat, console (queue, ticket page) and the KPI dashboard in
both languages.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts a real server on a throwaway database with the demo, drives Debian's Chromium.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from backend.demo import DEMO_PASSWORD  # noqa: E402
from backend.reports.simulate import seed_last_month  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS  # noqa: E402
from tests.fakes.server import serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, serve(Path(tmp)) as served:
        base = served.base_url
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS
            )
            phone = browser.new_context(
                viewport={"width": 400, "height": 760}, device_scale_factor=2
            )
            for lang, session, texts in (
                ("zh", "demo-session", ["物业费怎么交？", "厨房下水道堵了，明天上午来修"]),
                (
                    "en",
                    "demo-session-b",
                    [
                        "Where are the parcel lockers?",
                        "The bedroom window won't close, tomorrow morning please",
                    ],
                ),
            ):
                page = phone.new_page()
                page.goto(f"{base}/chat?session={session}&lang={lang}")
                page.wait_for_selector(".msg.bot")
                for text in texts:
                    answered = page.locator(".msg.bot").count()
                    page.fill("#text", text)
                    page.press("#text", "Enter")
                    page.wait_for_function(  # the bot's answer, before the next message
                        f"document.querySelectorAll('.msg.bot').length > {answered}"
                    )
                    page.wait_for_timeout(300)
                page.screenshot(path=str(args.out / f"webchat-{lang}.png"))
            desk = browser.new_context(viewport={"width": 1280, "height": 860})
            for lang, user in (("zh", "agent.a"), ("en", "agent.b")):
                page = desk.new_page()
                page.goto(f"{base}/console/login?lang={lang}")
                page.fill("#username", user)
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/console")
                if (lang == "en") != ("Open tickets" in page.content()):
                    page.click("header form[action='/console/lang'] button")
                    page.wait_for_load_state()
                page.screenshot(path=str(args.out / f"console-queue-{lang}.png"))
                page.click("table.queue tbody tr a >> nth=0")
                page.wait_for_selector("#reply-text")
                page.screenshot(path=str(args.out / f"console-ticket-{lang}.png"), full_page=True)
                page.click("header form[action='/console/logout'] button")
            # The KPI dashboard over last month, filled with a simulated month of tickets.
            with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
                month = pool.submit(asyncio.run, seed_last_month(served.database_url)).result()
            page = desk.new_page()
            page.goto(f"{base}/console/login")
            page.fill("#username", "manager")
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/console")
            for lang in ("zh", "en"):
                page.goto(f"{base}/console/reports?{urlencode(month)}")
                if (lang == "en") != ("KPI report" in page.content()):
                    page.click("header form[action='/console/lang'] button")
                    page.wait_for_load_state()
                    page.goto(f"{base}/console/reports?{urlencode(month)}")
                page.screenshot(path=str(args.out / f"dashboard-{lang}.png"), full_page=True)
            browser.close()
    for path in sorted(args.out.glob("*.png")):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
