"""The KPI dashboard in a real browser, on a simulated month whose answers are known: a KPI
row and the SLA breaches on the page, the XLSX downloaded and opened with openpyxl."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from openpyxl import load_workbook

from backend.demo import DEMO_PASSWORD
from backend.reports.simulate import seed_month
from backend.reports.simulate_rows import Truth
from tests.fakes.server import Served


@pytest.fixture(scope="module")
def month(served: Served) -> tuple[dict[str, str], Truth]:
    """A month long past (no demo ticket in it) with 1 500 simulated tickets."""
    first = (date.today().replace(day=1) - timedelta(days=70)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        truth = pool.submit(
            asyncio.run, seed_month(served.database_url, first, last, tickets=1500, seed=5)
        ).result()
    return {"from": first.isoformat(), "to": last.isoformat()}, truth


def login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console$"))


def test_the_dashboard_shows_the_known_answers_and_exports_them(
    browser: Any, served: Served, month: tuple[dict[str, str], Truth], tmp_path: Path
) -> None:
    query, truth = month
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, served.base_url, "manager")
    page.click("header >> a[href='/console/reports']")
    page.wait_for_selector("tr[data-kpi]")
    page.fill("input[name=from]", query["from"])
    page.fill("input[name=to]", query["to"])
    page.click("#report-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*from=" + query["from"]))

    satisfied, rated = truth.ratings["satisfied"], truth.ratings["all"]
    row = page.locator("tr[data-kpi=repair_satisfaction]")
    text = row.inner_text()
    assert f"{satisfied} / {rated}" in text and "≥ 75%" in text
    assert f"{satisfied / rated:.1%}" in text
    assert ("未达标" if satisfied / rated < 0.75 else "达标") in row.locator(".mark").inner_text()
    for promise, injected in truth.injected.items():
        cell = page.locator(f"tr[data-promise='{promise}'] td.breached")
        assert cell.inner_text() == str(injected["late"] + injected["never"]), promise
    assert page.locator("svg.chart").count() >= 7
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / "kpi.xlsx"
    download.value.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["KPIs", "SLA", "Volumes", "Defects", "About"]
    kpis = {r[-1]: r for r in book["KPIs"].iter_rows(min_row=2, values_only=True)}
    assert kpis["repair_satisfaction"][2:4] == (satisfied, rated)
    sla = {r[-1]: r for r in book["SLA"].iter_rows(min_row=2, values_only=True)}
    for promise, injected in truth.injected.items():
        assert sla[promise][3] == injected["late"] + injected["never"], promise
    about = dict(book["About"].iter_rows(min_row=2, values_only=True))
    assert query["from"] in about.values() and query["to"] in about.values()

    page.select_option("select[name=estate]", index=1)
    page.click("#report-filters button[type=submit]")
    page.wait_for_url(re.compile(r".*estate=\d+"))
    assert "DEMO-A" in page.inner_text("#report-scope")
    assert page.locator("select[name=building] option").count() > 1  # the estate's buildings
    query_string = urlencode({**query, "estate": "999999"})
    missing = page.goto(f"{served.base_url}/console/reports?{query_string}")
    assert missing is not None and missing.status == 404
