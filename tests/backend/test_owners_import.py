"""Household import: CSV and XLSX, all or nothing, idempotent, row-by-row report."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput
from backend.models import Building, HouseholdMember, Owner, Unit, WarrantyItem
from backend.owners_file import COLUMNS
from backend.owners_import import import_owners
from tests.factories import World

SAMPLE = Path(__file__).parents[2] / "samples"
HEADER = ["estate", "unit", "name", "phone", "birthday", "language", "stage", "key_owner",
          "handover_date", "members", "warranty", "care_opt_outs"]  # fmt: skip
GOOD = [
    ["EST-A", "A-2-301", "刘洋", "139 1234 5601", "1982-03-14", "zh", "稳定期", "no", "2021-06-30",
     "刘小宝/child/2015-06-01; 刘建国/elder/1950-10-11", "waterproofing:2026-06-30", ""],
    ["EST-A", "A-2-302", "陈静", "+86 139-1234-5602", "", "", "running_in", "yes", "2026-03-31",
     "", "", "campaign"],
    ["EST-B", "B-2-201", "Oliver Smith", "+65 9123 4502", "1979/09/09", "en", "stable", "", "",
     "Lily Smith/child", "", "birthday;holiday"],
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def counts(session: AsyncSession) -> tuple[int, ...]:
    found = []
    for model in (Owner, Unit, Building, HouseholdMember, WarrantyItem):
        found.append(await session.scalar(select(func.count()).select_from(model)) or 0)
    return tuple(found)


async def test_csv_import_creates_units_owners_members_and_warranty(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    before = await counts(session)
    report = await import_owners(session, write_csv(tmp_path / "o.csv", GOOD))
    await session.commit()
    assert report.ok and (report.rows, report.created, report.updated, report.unchanged) == (
        3,
        3,
        0,
        0,
    )
    owners, units, _, members, warranty = await counts(session)
    assert (owners - before[0], units - before[1], members - before[3], warranty - before[4]) == (
        3,
        3,
        3,
        1,
    )
    liu = await session.scalar(select(Owner).where(Owner.name == "刘洋"))
    assert liu is not None
    assert (
        liu.phone == "13912345601" and liu.stage == "stable" and liu.birthday == date(1982, 3, 14)
    )
    chen = await session.scalar(select(Owner).where(Owner.name == "陈静"))
    assert chen is not None and chen.key_owner and chen.phone == "13912345602"
    assert chen.care_opt_outs == ["campaign"]
    oliver = await session.scalar(select(Owner).where(Owner.name == "Oliver Smith"))
    assert (
        oliver is not None
        and oliver.language == "en"
        and oliver.care_opt_outs == ["birthday", "holiday"]
    )
    unit = await session.get(Unit, liu.unit_id)
    assert unit is not None and unit.handover_date == date(2021, 6, 30)


async def test_reimporting_the_same_file_changes_nothing(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "o.csv", GOOD)
    await import_owners(session, path)
    await session.commit()
    before = await counts(session)
    again = await import_owners(session, path)
    await session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert await counts(session) == before


async def test_a_changed_row_updates_the_household(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    await import_owners(session, write_csv(tmp_path / "o.csv", GOOD))
    changed = [row[:] for row in GOOD]
    changed[0][9] = "刘小宝/child/2015-06-01"  # grandfather moved out
    changed[1][6] = "stable"
    report = await import_owners(session, write_csv(tmp_path / "o2.csv", changed))
    assert (report.created, report.updated, report.unchanged) == (0, 2, 1)
    liu = await session.scalar(select(Owner).where(Owner.name == "刘洋"))
    assert liu is not None
    members = (
        await session.scalars(select(HouseholdMember).where(HouseholdMember.owner_id == liu.id))
    ).all()
    assert [m.name for m in members] == ["刘小宝"]


BAD_ROWS = [
    (["NOPE", "A-2-301", "甲", "13912345601"], "estate", "unknown estate 'NOPE'"),
    (["EST-A", "A-2-302", "乙", "12345"], "phone", "malformed phone number"),
    (["EST-A", "A-2-303", "丙", "13912345603", "1990-13-01"], "birthday", "malformed date"),
    (["EST-A", "A 2 304", "丁", "13912345604"], "unit", "malformed unit number"),
    (["EST-A", "A-2-305", "", "13912345605"], "name", "owner name is empty"),
    (["EST-A", "A-2-306", "戊", "13912345606", "", "fr"], "language", "unknown language"),
    (["EST-A", "A-2-307", "己", "13912345607", "", "", "tenant"], "stage", "unknown stage"),
    (["EST-A", "A-2-308", "庚", "13912345608", "", "", "", "maybe"], "key_owner", "yes/no"),
    (["EST-A", "A-2-309", "辛", "13912345609", "", "", "", "", "", "x/cousin"], "members", "unknown relation"),
    (["EST-A", "A-2-310", "壬", "13912345610", "", "", "", "", "", "", "roof"], "warranty", "item:YYYY-MM-DD"),
    (["EST-A", "A-2-311", "癸", "13912345611", "2990-01-01"], "birthday", "not plausible"),
]  # fmt: skip


async def test_any_bad_row_imports_nothing_and_each_is_named(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    before = await counts(session)
    rows = [GOOD[0]] + [(r + [""] * len(HEADER))[: len(HEADER)] for r, _, _ in BAD_ROWS]
    rows.append(GOOD[0])  # duplicate unit+owner of row 2
    report = await import_owners(session, write_csv(tmp_path / "bad.csv", rows))
    await session.commit()
    assert not report.ok
    assert await counts(session) == before
    by_row = {e.row: e for e in report.errors}
    for offset, (_, column, message) in enumerate(BAD_ROWS, start=3):
        assert by_row[offset].column == column, by_row[offset]
        assert message in by_row[offset].message
    duplicate = by_row[len(rows) + 1]
    assert "duplicate unit+owner" in duplicate.message and "row 2" in duplicate.message
    assert str(by_row[3]).startswith("row 3 (estate): unknown estate")
    data = report.as_json()
    assert (
        data["imported"] is False
        and data["created"] == 0
        and len(data["errors"]) == len(BAD_ROWS) + 1
    )


async def test_xlsx_with_typed_cells(session: AsyncSession, world: World, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Estate", "Unit", "Name", "Phone", "Birthday", "Handover_Date", "Key_Owner"])
    sheet.append(
        ["EST-A", "a-3-101", "周杰", 13912345699, datetime(1980, 1, 2), date(2020, 5, 1), 1]
    )
    sheet.append([None, None, None, None, None, None, None])  # blank rows are skipped
    path = tmp_path / "owners.xlsx"
    book.save(path)
    report = await import_owners(session, path)
    assert report.ok, report.errors
    owner = await session.scalar(select(Owner).where(Owner.name == "周杰"))
    assert owner is not None and owner.phone == "13912345699" and owner.key_owner
    assert owner.birthday == date(1980, 1, 2)
    unit = await session.get(Unit, owner.unit_id)
    assert unit is not None and unit.number == "A-3-101"


async def test_the_shipped_samples_import(session: AsyncSession, tmp_path: Path) -> None:
    from backend.demo import load_demo

    await load_demo(session)
    for name in ("owners.csv", "owners.xlsx"):
        report = await import_owners(session, SAMPLE / name)
        assert report.ok, report.errors
    assert report.unchanged == 6  # the XLSX holds the same rows as the CSV


async def test_file_problems_are_clear_errors(
    session: AsyncSession, world: World, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        await import_owners(session, tmp_path / "missing.csv")
    (tmp_path / "o.json").write_text("{}")
    with pytest.raises(InvalidInput, match="unsupported file type"):
        await import_owners(session, tmp_path / "o.json")
    with pytest.raises(InvalidInput, match="missing column"):
        await import_owners(session, write_csv(tmp_path / "h.csv", [], header=["estate", "unit"]))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InvalidInput, match="empty"):
        await import_owners(session, tmp_path / "empty.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(InvalidInput, match="cannot read"):
        await import_owners(session, tmp_path / "broken.xlsx")
    report = await import_owners(session, write_csv(tmp_path / "none.csv", []))
    assert not report.ok and "no data rows" in report.errors[0].message


async def test_gbk_csv_from_excel(session: AsyncSession, world: World, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("estate,unit,name,phone\nEST-A,A-9-101,吴敏,13912340000\n".encode("gb18030"))
    report = await import_owners(session, path)
    assert report.ok and report.created == 1


def test_documented_columns() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"`{column}`" in readme
