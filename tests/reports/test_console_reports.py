"""The KPI dashboard and its XLSX export in the console: scoped, with a verdict per KPI."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import select

from backend.composition import Runtime
from backend.models import Building, Estate, utcnow
from tests.web.conftest import ConsoleClient


def period() -> dict[str, str]:
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()
    return {"from": str(today - timedelta(days=30)), "to": str(today)}


async def ids(runtime: Runtime) -> dict[str, int]:
    async with runtime.db.session() as s:
        estates = {e.code: e.id for e in await s.scalars(select(Estate))}
        b = await s.scalar(select(Building).where(Building.estate_id == estates["DEMO-B"]))
        assert b is not None
        return {**estates, "building_b": b.id}


async def test_a_supervisor_sees_the_kpis_of_their_estate(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await console.login("supervisor.a")
    page = await console.http.get("/console/reports", params=period())
    assert page.status_code == 200
    html = page.text
    assert 'href="/console/reports"' in html  # the nav link
    for key in ("tickets_recorded", "complaint_closure", "repair_satisfaction",
                "accepted_first_time", "repeat_repairs", "callbacks_done"):  # fmt: skip
        assert f'data-kpi="{key}"' in html
    assert "≥ 75%" in html and "≤ 4%" in html
    assert "新建工单 7 张" in html  # the demo's seven tickets of DEMO-A, not DEMO-B's
    assert 'data-promise="repair.dispatch"' in html and "<svg" in html
    estates = await ids(runtime)
    other = await console.http.get("/console/reports", params={"estate": estates["DEMO-B"]})
    assert other.status_code == 404
    building = await console.http.get(
        "/console/reports", params={"building": estates["building_b"]}
    )
    assert building.status_code == 404
    xlsx = await console.http.get(
        "/console/reports/kpi.xlsx", params={**period(), "estate": estates["DEMO-B"]}
    )
    assert xlsx.status_code == 404


async def test_the_xlsx_has_one_sheet_per_table(console: ConsoleClient, runtime: Runtime) -> None:
    await console.login("manager")
    response = await console.http.get("/console/reports/kpi.xlsx", params=period())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["KPIs", "SLA", "Volumes", "Defects", "About"]
    kpis = book["KPIs"]
    assert kpis["A1"].font.bold
    assert [row[-1] for row in kpis.iter_rows(min_row=2, values_only=True)] == [
        "tickets_recorded", "complaint_closure", "repair_satisfaction", "accepted_first_time",
        "repeat_repairs", "callbacks_done",
    ]  # fmt: skip
    satisfaction = next(
        r for r in kpis.iter_rows(min_row=2) if r[-1].value == "repair_satisfaction"
    )
    assert satisfaction[5].value == 0.75 and satisfaction[5].number_format == "0%"
    volumes = {(r[3], r[4]): r[2] for r in book["Volumes"].iter_rows(min_row=2, values_only=True)}
    assert volumes[("total", None)] == 14  # both demo estates
    assert volumes[("estate", "DEMO-A")] == volumes[("estate", "DEMO-B")] == 7
    sla = {r[-1]: r for r in book["SLA"].iter_rows(min_row=2, values_only=True)}
    assert set(sla) >= {"repair.dispatch", "complaint.first_response"}
    assert all(isinstance(r[1], int) for r in sla.values())
    defects = list(book["Defects"].iter_rows(min_row=2, values_only=True))
    assert sum(r[4] for r in defects) == 8  # four repairs in each estate
    estates = await ids(runtime)
    one = await console.http.get(
        "/console/reports", params={**period(), "estate": estates["DEMO-B"]}
    )
    assert one.status_code == 200 and "新建工单 7 张" in one.text


async def test_front_desk_staff_may_not_see_reports(console: ConsoleClient) -> None:
    await console.login("agent.a")
    assert (await console.http.get("/console/reports")).status_code == 403
    assert (await console.http.get("/console/reports/kpi.xlsx")).status_code == 403
    page = await console.http.get("/console")
    assert 'href="/console/reports"' not in page.text


async def test_a_bad_period_is_an_error_page_not_a_crash(console: ConsoleClient) -> None:
    await console.login("manager")
    bad = await console.http.get("/console/reports", params={"from": "2026-13-01"})
    assert bad.status_code == 422
    backwards = await console.http.get(
        "/console/reports", params={"from": "2026-03-02", "to": "2026-03-01"}
    )
    assert backwards.status_code == 422
