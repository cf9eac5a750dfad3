"""``ownerdesk owners import``: household files from CSV or XLSX, all or nothing.

Every row is checked before anything is written; one bad row means nothing is
imported and the report names each bad row. Rows are keyed by estate + unit + phone,
so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import InvalidInput
from backend.fields import (
    normalize_phone,
    normalize_unit,
    parse_bool,
    parse_date,
    parse_stage,
)
from backend.models import Building, Estate, HouseholdMember, Owner, Unit, WarrantyItem, utcnow
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


# --- writing ---------------------------------------------------------------------------


async def _ensure_units(
    session: AsyncSession, records: list[OwnerRecord], estate_ids: dict[str, int]
) -> dict[tuple[int, str], Unit]:
    wanted_estates = {estate_ids[r.estate] for r in records}
    buildings = {
        (b.estate_id, b.code): b.id
        for b in await session.scalars(
            select(Building).where(Building.estate_id.in_(wanted_estates))
        )
    }
    new_buildings = sorted({(estate_ids[r.estate], r.building) for r in records} - buildings.keys())
    if new_buildings:
        rows = await session.execute(
            insert(Building).returning(
                Building.id, Building.estate_id, Building.code, sort_by_parameter_order=True
            ),
            [{"estate_id": e, "code": c, "name": c} for e, c in new_buildings],
        )
        buildings.update({(e, c): i for i, e, c in rows.all()})
    units = {
        (u.estate_id, u.number): u
        for u in await session.scalars(select(Unit).where(Unit.estate_id.in_(wanted_estates)))
    }
    new_units: dict[tuple[int, str], dict[str, Any]] = {}
    for r in records:
        key = (estate_ids[r.estate], r.unit)
        if key not in units and key not in new_units:
            new_units[key] = {
                "estate_id": key[0],
                "building_id": buildings[(key[0], r.building)],
                "number": r.unit,
                "handover_date": r.handover_date,
            }
    for start in range(0, len(new_units), CHUNK):
        await session.execute(insert(Unit), list(new_units.values())[start : start + CHUNK])
    if new_units:
        units = {
            (u.estate_id, u.number): u
            for u in await session.scalars(select(Unit).where(Unit.estate_id.in_(wanted_estates)))
        }
    handovers = [
        {"id": units[(estate_ids[r.estate], r.unit)].id, "handover_date": r.handover_date}
        for r in records
        if r.handover_date
        and units[(estate_ids[r.estate], r.unit)].handover_date != r.handover_date
    ]
    if handovers:
        await session.execute(update(Unit), handovers)  # bulk UPDATE by primary key
    return units


async def apply_records(
    session: AsyncSession,
    records: list[OwnerRecord],
    report: ImportReport,
    progress: Progress | None,
) -> None:
    estates = {e.code: e for e in await session.scalars(select(Estate))}
    estate_ids = {code: e.id for code, e in estates.items()}
    units = await _ensure_units(session, records, estate_ids)
    unit_ids = {u.id for u in units.values()}
    existing: dict[tuple[int, str], Owner] = {}
    for start in range(0, len(unit_ids), 30000):
        chunk = list(unit_ids)[start : start + 30000]
        for owner in await session.scalars(select(Owner).where(Owner.unit_id.in_(chunk))):
            existing[(owner.unit_id, owner.phone)] = owner
    members = await _members_of(session, [o.id for o in existing.values()])
    now = utcnow()
    to_insert: list[tuple[OwnerRecord, dict[str, Any]]] = []
    changed: list[tuple[OwnerRecord, Owner]] = []
    for record in records:
        unit = units[(estate_ids[record.estate], record.unit)]
        found = existing.get((unit.id, record.phone))
        fields = record.owner_fields()
        if found is None:
            to_insert.append(
                (
                    record,
                    {
                        **fields,
                        "company_id": estates[record.estate].company_id,
                        "estate_id": unit.estate_id,
                        "unit_id": unit.id,
                        "phone": record.phone,
                        "created_at": now,
                        "updated_at": now,
                    },
                ),
            )
        elif any(getattr(found, k) != v for k, v in fields.items()) or sorted(
            members.get(found.id, [])
        ) != sorted(record.members):
            changed.append((record, found))
        else:
            report.unchanged += 1
    done = report.unchanged
    member_rows: list[dict[str, Any]] = []
    warranty_rows: list[dict[str, Any]] = []
    for start in range(0, len(to_insert), CHUNK):
        batch = to_insert[start : start + CHUNK]
        ids = await session.scalars(
            insert(Owner).returning(Owner.id, sort_by_parameter_order=True), [v for _, v in batch]
        )
        for (record, values), owner_id in zip(batch, ids.all(), strict=True):
            member_rows += _member_rows(owner_id, record)
            warranty_rows += _warranty_rows(values["unit_id"], record)
        done += len(batch)
        if progress:
            progress(done, len(records))
    report.created = len(to_insert)
    if changed:
        await session.execute(
            update(Owner),
            [{"id": o.id, **r.owner_fields(), "updated_at": now} for r, o in changed],
        )
        await session.execute(
            delete(HouseholdMember).where(HouseholdMember.owner_id.in_([o.id for _, o in changed]))
        )
        for record, owner in changed:
            member_rows += _member_rows(owner.id, record)
            warranty_rows += _warranty_rows(owner.unit_id, record)
    report.updated = len(changed)
    for start in range(0, len(member_rows), CHUNK):
        await session.execute(insert(HouseholdMember), member_rows[start : start + CHUNK])
    await _upsert_warranty(session, warranty_rows)
    if progress:
        progress(len(records), len(records))


async def _members_of(
    session: AsyncSession, owner_ids: list[int]
) -> dict[int, list[tuple[str, str, date | None]]]:
    found: dict[int, list[tuple[str, str, date | None]]] = {}
    for start in range(0, len(owner_ids), 30000):
        rows = await session.execute(
            select(
                HouseholdMember.owner_id,
                HouseholdMember.name,
                HouseholdMember.relation,
                HouseholdMember.birthday,
            ).where(HouseholdMember.owner_id.in_(owner_ids[start : start + 30000]))
        )
        for owner_id, name, relation, birthday in rows.all():
            found.setdefault(owner_id, []).append((name, relation, birthday))
    return found


def _member_rows(owner_id: int, record: OwnerRecord) -> list[dict[str, Any]]:
    return [
        {"owner_id": owner_id, "name": n, "relation": rel, "birthday": b, "phone": ""}
        for n, rel, b in record.members
    ]


def _warranty_rows(unit_id: int, record: OwnerRecord) -> list[dict[str, Any]]:
    return [{"unit_id": unit_id, "item": item, "expires_on": d} for item, d in record.warranty]


async def _upsert_warranty(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    latest = {(r["unit_id"], r["item"]): r for r in rows}
    unit_ids = sorted({u for u, _ in latest})
    current = {
        (w.unit_id, w.item): w
        for start in range(0, len(unit_ids), 30000)
        for w in await session.scalars(
            select(WarrantyItem).where(WarrantyItem.unit_id.in_(unit_ids[start : start + 30000]))
        )
    }
    fresh = [r for k, r in latest.items() if k not in current]
    moved = [
        {"id": current[k].id, "expires_on": r["expires_on"]}
        for k, r in latest.items()
        if k in current and current[k].expires_on != r["expires_on"]
    ]
    for start in range(0, len(fresh), CHUNK):
        await session.execute(insert(WarrantyItem), fresh[start : start + CHUNK])
    if moved:
        await session.execute(update(WarrantyItem), moved)


async def import_owners(
    session: AsyncSession, path: Path, *, progress: Progress | None = None
) -> ImportReport:
    """Check the whole file, then write it in the caller's transaction, or write nothing."""
    estates = set((await session.scalars(select(Estate.code))).all())
    records, report = check_file(path, estates)
    if report.ok:
        await apply_records(session, records, report, progress)
    return report
