"""Household files as owners' CSV/XLSX exports have them: reading and checking every row.

The importer (``backend.owners_import``) writes nothing until this module found no
problem in any row; each problem is reported with its row and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from backend.errors import InvalidInput
from backend.fields import (
    normalize_phone,
    normalize_unit,
    parse_bool,
    parse_date,
    parse_stage,
)
from backend.vocabulary import CareType, Language, Relation

REQUIRED = ("estate", "unit", "name", "phone")
OPTIONAL = (
    "building",
    "email",
    "birthday",
    "language",
    "stage",
    "key_owner",
    "handover_date",
    "moved_in_on",
    "members",
    "warranty",
    "care_opt_outs",
)
COLUMNS = REQUIRED + OPTIONAL
CHUNK = 2000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f" ({self.column})" if self.column else ""
        return f"row {self.row}{where}: {self.message}"


@dataclass
class OwnerRecord:
    row: int
    estate: str
    building: str
    unit: str
    name: str
    phone: str
    email: str = ""
    birthday: date | None = None
    language: str = "zh"
    stage: str = "stable"
    key_owner: bool = False
    handover_date: date | None = None
    moved_in_on: date | None = None
    members: list[tuple[str, str, date | None]] = field(default_factory=list)
    warranty: list[tuple[str, date]] = field(default_factory=list)
    care_opt_outs: list[str] = field(default_factory=list)

    def owner_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "birthday": self.birthday,
            "language": self.language,
            "stage": self.stage,
            "key_owner": self.key_owner,
            "moved_in_on": self.moved_in_on,
            "care_opt_outs": self.care_opt_outs,
        }


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {
            "imported": self.ok,
            "rows": self.rows,
            "created": self.created if self.ok else 0,
            "updated": self.updated if self.ok else 0,
            "unchanged": self.unchanged if self.ok else 0,
            "errors": [
                {"row": e.row, "column": e.column, "message": e.message} for e in self.errors
            ],
        }


# --- reading ---------------------------------------------------------------------------


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as the user sees it, {column: value}) for CSV or XLSX."""
    if not path.exists():
        raise InvalidInput(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        yield from _read_xlsx(path)
    elif suffix in (".csv", ".txt"):
        yield from _read_csv(path)
    else:
        raise InvalidInput(f"unsupported file type {suffix or '(none)'}: use .csv or .xlsx")


def _header(cells: list[Any]) -> list[str]:
    names = [str(c or "").strip().lower().lstrip("\ufeff") for c in cells]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(f"missing column(s): {', '.join(missing)}")
    return names


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")  # Excel on Chinese Windows saves CSV in GBK
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader))
    except StopIteration:
        raise InvalidInput("the file is empty") from None
    for index, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        yield index, dict(zip(header, cells, strict=False))


def _read_xlsx(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidInput(f"cannot read {path.name} as XLSX: {exc}") from None
    try:
        rows = book.active.iter_rows(values_only=True) if book.active else iter(())
        try:
            header = _header(list(next(rows)))
        except StopIteration:
            raise InvalidInput("the sheet is empty") from None
        for index, cells in enumerate(rows, start=2):
            if not any(c not in (None, "") for c in cells):
                continue
            yield index, dict(zip(header, cells, strict=False))
    finally:
        book.close()


# --- checking --------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed into Excel comes back as 13800138000.0
    return str(value).strip()


def _members(raw: str) -> list[tuple[str, str, date | None]]:
    """``name/relation/birthday; …`` e.g. ``李华/child/2016-06-01; 王芳/spouse``."""
    members = []
    for part in filter(None, (p.strip() for p in raw.replace("；", ";").split(";"))):
        bits = [b.strip() for b in part.split("/")]
        relation = (bits[1] if len(bits) > 1 else "other").lower() or "other"
        if relation not in Relation.__members__.values():
            raise InvalidInput(f"unknown relation {relation!r} in members")
        members.append((bits[0], relation, parse_date(bits[2]) if len(bits) > 2 else None))
    return members


def _warranty(raw: str) -> list[tuple[str, date]]:
    """``item:YYYY-MM-DD; …`` e.g. ``waterproofing:2031-06-30; windows:2028-06-30``."""
    items = []
    for part in filter(None, (p.strip() for p in raw.replace("；", ";").split(";"))):
        item, _, when = part.partition(":")
        expires = parse_date(when)
        if not item.strip() or expires is None:
            raise InvalidInput(f"warranty entry {part!r} is not item:YYYY-MM-DD")
        items.append((item.strip().lower(), expires))
    return items


def _opt_outs(raw: str) -> list[str]:
    values = sorted({p.strip().lower() for p in raw.replace(",", ";").split(";") if p.strip()})
    for value in values:
        if value not in CareType.__members__.values():
            raise InvalidInput(f"unknown care message type {value!r}")
    return values


def check_row(row: int, cells: dict[str, Any], estates: set[str]) -> OwnerRecord | list[RowError]:
    errors: list[RowError] = []

    def take(column: str, parse: Callable[[str], Any], default: Any = None) -> Any:
        raw = cells.get(column)
        try:
            if column in ("birthday", "handover_date", "moved_in_on"):
                return parse_date(raw)
            return parse(_text(raw))
        except InvalidInput as exc:
            errors.append(RowError(row, column, exc.message))
            return default

    estate = _text(cells.get("estate"))
    if not estate:
        errors.append(RowError(row, "estate", "estate code is empty"))
    elif estate not in estates:
        errors.append(RowError(row, "estate", f"unknown estate {estate!r}"))
    unit = take("unit", normalize_unit, "")
    name = _text(cells.get("name"))
    if not name:
        errors.append(RowError(row, "name", "owner name is empty"))
    phone = take("phone", normalize_phone, "")
    language = _text(cells.get("language")).lower() or "zh"
    if language not in Language.__members__.values():
        errors.append(RowError(row, "language", f"unknown language {language!r} (zh or en)"))
    record = OwnerRecord(
        row=row,
        estate=estate,
        building=_text(cells.get("building")) or (unit.split("-")[0] if unit else ""),
        unit=unit,
        name=name,
        phone=phone,
        email=_text(cells.get("email")),
        birthday=take("birthday", str),
        language=language,
        stage=take("stage", parse_stage, "stable"),
        key_owner=take("key_owner", parse_bool, False),
        handover_date=take("handover_date", str),
        moved_in_on=take("moved_in_on", str),
        members=take("members", _members, []),
        warranty=take("warranty", _warranty, []),
        care_opt_outs=take("care_opt_outs", _opt_outs, []),
    )
    if record.birthday and not date(1900, 1, 1) <= record.birthday <= date.today():
        errors.append(RowError(row, "birthday", f"birthday {record.birthday} is not plausible"))
    return errors or record


def check_file(path: Path, estates: set[str]) -> tuple[list[OwnerRecord], ImportReport]:
    report = ImportReport()
    records: list[OwnerRecord] = []
    seen_phone: dict[tuple[str, str, str], int] = {}
    seen_name: dict[tuple[str, str, str], int] = {}
    for row, cells in read_rows(path):
        report.rows += 1
        result = check_row(row, cells, estates)
        if isinstance(result, list):
            report.errors.extend(result)
            continue
        for seen, key_part in ((seen_phone, result.phone), (seen_name, result.name)):
            key = (result.estate, result.unit, key_part)
            if key in seen:
                report.errors.append(
                    RowError(row, "unit", f"duplicate unit+owner: same as row {seen[key]}")
                )
                break
            seen[key] = row
        else:
            records.append(result)
    if report.rows == 0:
        report.errors.append(RowError(0, "", "the file has no data rows"))
    return records, report
