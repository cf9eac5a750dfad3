"""``ownerdesk owners import``: household files from CSV or XLSX, all or nothing.

Every row is checked first (``backend.owners_file``); one bad row means nothing is
imported and the report names each bad row. Rows are keyed by estate + unit + phone,
so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Building, Estate, HouseholdMember, Owner, Unit, WarrantyItem, utcnow
from backend.owners_file import ImportReport, OwnerRecord, check_file

CHUNK = 2000
Progress = Callable[[int, int], None]


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
