"""``ownerdesk report kpi``: the same figures as the service, as text, JSON and XLSX."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from backend.cli import main
from backend.models import Ticket


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_text_and_xlsx(
    march: dict[str, Ticket], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    xlsx = tmp_path / "march.xlsx"
    code, out, err = run(
        capsys, "report", "kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--json",
        "--xlsx", str(xlsx),
    )  # fmt: skip
    assert (code, err) == (0, "")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["period"]["from"] == "2026-03-01" and result["xlsx"] == str(xlsx)
    kpis = {k["key"]: (k["numerator"], k["denominator"], k["met"]) for k in result["kpis"]}
    assert kpis == {
        "tickets_recorded": (5, 7, False),
        "complaint_closure": (1, 3, False),
        "repair_satisfaction": (3, 5, False),
        "accepted_first_time": (4, 5, False),
        "repeat_repairs": (2, 6, False),
        "callbacks_done": (13, 15, False),
    }
    dispatch = next(r for r in result["sla"] if r["promise"] == "repair.dispatch")
    assert (dispatch["met"], dispatch["breached"], dispatch["median_minutes"]) == (5, 2, 8.0)
    assert result["volumes"]["by_kind"] == {"repair": 7, "complaint": 4, "enquiry": 2}

    book = load_workbook(xlsx)
    assert book.sheetnames == ["KPIs", "SLA", "Volumes", "Defects", "About"]
    rows = list(book["KPIs"].iter_rows(min_row=2, values_only=True))
    assert (
        rows[2][0] == "维修满意度" and rows[2][1] == pytest.approx(0.6) and rows[2][6] == "未达标"
    )
    sla = {r[-1]: r for r in book["SLA"].iter_rows(min_row=2, values_only=True)}
    assert sla["repair.callback"][1:8] == (7, 5, 2, 1, 1, 0, pytest.approx(5 / 7))

    code, out, _ = run(
        capsys, "report", "kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--estate",
        "EST-A", "--lang", "en",
    )  # fmt: skip
    assert code == 0
    assert "Repair satisfaction" in out and "75.0%" in out and "met" in out
    code, out, _ = run(
        capsys, "report", "kpi", "--from", "2026-03-01", "--to", "2026-03-31", "--estate",
        "EST-A", "--building", "A-A-1-102", "--json",
    )  # fmt: skip
    assert json.loads(out.splitlines()[-1])["volumes"]["total"] == 5


def test_errors_are_one_line(march: dict[str, Ticket], capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in (
        (["--from", "2026-03-40", "--to", "2026-03-31"], "--from must be a date"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "ends before it starts"),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--estate", "NOPE"], "unknown estate"),
        (["--from", "2026-03-01", "--to", "2026-03-31", "--building", "X"], "needs --estate"),
    ):
        code, _, err = run(capsys, "report", "kpi", *argv)
        assert code == 1 and message in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run(capsys, "report", "kpi", "--to", "2026-03-31")
    assert code != 0 and "--from" in err
