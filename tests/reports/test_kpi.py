"""Every KPI of March 2026 counted by hand: the tickets are described in
``tests/reports/march.py``; each expected figure below says which tickets make it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend import tickets
from backend.actors import Actor
from backend.errors import InvalidInput, NotFound
from backend.models import Company, Estate, Message, Ticket, Unit
from backend.reports import KpiReport, kpi_report, period_bounds
from tests.factories import World, make_owner, make_unit
from tests.reports.march import END, NOW, START, ZONE, at


async def report(session: AsyncSession, world: World, **kw: object) -> KpiReport:
    return await kpi_report(
        session,
        company_id=world.company.id,
        start=START,
        end=END,
        now=NOW,
        **kw,  # type: ignore[arg-type]
    )


async def building_of(session: AsyncSession, unit_id: int) -> int:
    unit = await session.get(Unit, unit_id)
    assert unit is not None
    return unit.building_id


def kpi(r: KpiReport, key: str) -> tuple[int, int, bool | None]:
    k = r.kpi(key)
    return k.numerator, k.denominator, k.met


def sla_counts(r: KpiReport) -> dict[str, tuple[int, int, int, int]]:
    return {row.promise: (row.met, row.late, row.open, row.pending) for row in r.sla}


def sla_minutes(r: KpiReport) -> dict[str, tuple[float | None, float | None]]:
    def m(s: float | None) -> float | None:
        return None if s is None else round(s / 60, 3)

    return {row.promise: (m(row.median_s), m(row.p90_s)) for row in r.sla}


async def test_company_kpis_count_by_hand(
    session: AsyncSession, world: World, march: dict[str, Ticket]
) -> None:
    r = await report(session, world)
    # Recorded: m1 m2 m3 m4 m10 of m1 m2 m3 m4 m5 m9 m10.
    assert kpi(r, "tickets_recorded") == (5, 7, False)
    assert r.kpi("tickets_recorded").parts == {"linked": 2, "matched": 3, "unplaced": 2}
    # Complaints accepted in March, not cancelled: C1 C2 C4; closed at the end: C1 only
    # (C2 was reopened on 03-23; C4 was only confirmed by 31 March, tracked in April).
    assert kpi(r, "complaint_closure") == (1, 3, False)
    # Repair ratings given in March: R1 5, R2 2, R2 4, R7 5, R8 3 (R6's is in April,
    # complaint ratings do not count).
    assert kpi(r, "repair_satisfaction") == (3, 5, False)
    assert r.kpi("repair_satisfaction").parts == {
        "score_5": 2,
        "score_4": 1,
        "score_3": 1,
        "score_2": 1,
        "score_1": 0,
    }
    # Repairs closed in March: R1 R2 R3 R7 R8; R2 had been reopened (R7 only in April).
    assert kpi(r, "accepted_first_time") == (4, 5, False)
    # Repairs opened in March, not cancelled: R1 R2 R3 R4 R6 R8; repeats: R2 (reopened),
    # R4 (same unit, spot and problem as R2).
    assert kpi(r, "repeat_repairs") == (2, 6, False)
    assert r.kpi("repeat_repairs").parts == {"same_spot_within_90_days": 1, "reopened": 1}
    # Callback promises due in March: repair R1 R2 R2' R3 R4 R7 R8 (R4 never done), accept
    # C1 C2 C4 (C4 late, in April), closure C1 C2 C5 = 12 of 13; phone tasks T1 T2: 1 of 2.
    assert kpi(r, "callbacks_done") == (13, 15, False)
    assert r.kpi("callbacks_done").parts == {
        "promises_due": 13,
        "promises_kept": 12,
        "phone_tasks_due": 2,
        "phone_tasks_done": 1,
    }


async def test_sla_counts_and_times_by_hand(
    session: AsyncSession, world: World, march: dict[str, Ticket]
) -> None:
    r = await report(session, world)
    assert sla_counts(r) == {
        # R1 R2' R3 R4 R8 kept; R2 (30 min) and R6 (80 min) late; R5 cancelled; R7 in Feb.
        "repair.dispatch": (5, 2, 0, 0),
        # R1 R2 R2' R4 R8 kept; R3 late (42 min); R6's is due in April.
        "repair.on_site": (5, 1, 0, 0),
        # R1 R2' R3 R7 R8 kept; R2 late; R4 never called back.
        "repair.callback": (5, 1, 1, 0),
        "repair.second_callback": (0, 0, 0, 0),  # due in May (R2's first was cancelled)
        "complaint.first_response": (2, 1, 0, 0),  # C1 C4 kept, C2 late, C3 cancelled
        "complaint.reply": (2, 1, 1, 0),  # C1 C5 kept, C2 late, C2's second never kept
        "complaint.accept_callback": (2, 1, 0, 0),  # C1 C2 kept, C4 late
        "complaint.closure_callback": (2, 1, 0, 0),  # C1 C5 kept, C2 late
        "enquiry.callback": (0, 0, 1, 0),  # E1 answered 03-05, never called back (E2: April)
    }
    assert r.sla_row("repair.dispatch").rate == pytest.approx(5 / 7)
    assert r.sla_row("repair.second_callback").rate is None
    # Minutes from start to kept, median and p90 (linear between closest ranks):
    assert sla_minutes(r) == {
        "repair.dispatch": (8.0, 50.0),  # 5 5 5 8 8 30 80
        "repair.on_site": (21.0, 33.5),  # 15 20 20 22 25 42
        "repair.callback": (540.0, 2160.0),  # 120 120 120 960 1380 2940
        "repair.second_callback": (None, None),
        "complaint.first_response": (30.0, 150.0),  # 20 30 180
        "complaint.reply": (1440.0, 4704.0),  # 1380 1440 5520
        "complaint.accept_callback": (1380.0, 3732.0),  # 1200 1380 4320
        "complaint.closure_callback": (4320.0, 7776.0),  # 1440 4320 8640
        "enquiry.callback": (None, None),
    }


async def test_volumes_and_defects_by_hand(
    session: AsyncSession, world: World, march: dict[str, Ticket]
) -> None:
    r = await report(session, world)
    v = r.volumes
    assert (v.total, v.cancelled) == (13, 2)  # R1-R6 R8, C1-C4, E1 E2; R5 C3 cancelled
    assert v.tables["kind"] == {"repair": 7, "complaint": 4, "enquiry": 2}
    assert v.tables["channel"] == {"wechat": 6, "webchat": 3, "console": 2, "telegram": 2}
    assert v.tables["category"] == {
        "plumbing": 1,
        "water_leak": 2,
        "door_window": 1,
        "electrical": 1,
        "crack": 1,
        "public_area": 1,
    }
    assert v.tables["topic"] == {"noise": 2, "parking": 1, "fees": 1}
    assert v.tables["estate"] == {"EST-A": 11, "EST-B": 2}
    assert v.tables["building"] == {
        "EST-A A-A-1-101": 6,
        "EST-A A-A-1-102": 5,
        "EST-B B-B-1-101": 2,
    }
    assert [(d.estate, d.building, d.location, d.category, d.count) for d in r.defects] == [
        ("EST-A", "A-A-1-101", "bathroom", "water_leak", 2),
        ("EST-A", "A-A-1-101", "kitchen", "plumbing", 1),
        ("EST-A", "A-A-1-102", "balcony", "door_window", 1),
        ("EST-A", "A-A-1-102", "living_room", "crack", 1),
        ("EST-B", "B-B-1-101", "corridor", "public_area", 1),
    ]
    assert r.defects_by("category")[0] == ("water_leak", 2)


async def test_one_estate_and_one_building(
    session: AsyncSession, world: World, march: dict[str, Ticket]
) -> None:
    r = await report(session, world, estate_id=world.estate.id)
    assert r.scope.estates == ("EST-A",)
    assert kpi(r, "tickets_recorded") == (4, 4, True)  # m1 m3 m4 m10; m2 m5 cannot be placed
    assert kpi(r, "repair_satisfaction") == (3, 4, True)  # exactly 75 % meets "≥ 75 %"
    assert kpi(r, "accepted_first_time") == (3, 4, False)  # R1 R3 R7 of R1 R2 R3 R7
    assert kpi(r, "repeat_repairs") == (2, 5, False)
    assert kpi(r, "callbacks_done") == (11, 13, False)
    b = await report(
        session, world, building_id=await building_of(session, world.neighbour.unit_id)
    )
    assert b.volumes.total == 5  # R3 R5 R6 C2 C4
    assert kpi(b, "complaint_closure") == (0, 2, False)
    assert sla_counts(b)["repair.on_site"] == (0, 1, 0, 0)  # R3


async def test_a_period_with_nothing_has_no_verdicts(session: AsyncSession, world: World) -> None:
    start, end = period_bounds(datetime(2026, 1, 1).date(), datetime(2026, 1, 31).date(), ZONE)
    r = await kpi_report(session, company_id=world.company.id, start=start, end=end, now=NOW)
    for k in r.kpis:
        assert (k.numerator, k.denominator, k.value, k.met) == (0, 0, None, None)
    assert all(row.due == 0 and row.rate is None and row.median_s is None for row in r.sla)
    assert r.volumes.total == 0 and r.defects == []


async def test_a_running_period_counts_what_is_due_so_far(
    session: AsyncSession, world: World
) -> None:
    opened = at("03-16", "09:00")
    ticket = await tickets.open_ticket(
        session,
        kind="repair",
        estate_id=world.estate.id,
        owner_id=world.owner.id,
        actor=Actor.of_staff(world.agent),
        category="plumbing",
        location="kitchen",
        now=opened,
    )
    await tickets.transition(
        session,
        ticket,
        "dispatched",
        Actor.of_staff(world.agent),
        assignee_id=world.technician.id,
        now=opened + timedelta(minutes=4),
    )
    await session.commit()
    now = opened + timedelta(minutes=20)  # the on-site promise runs until 09:34
    r = await kpi_report(session, company_id=world.company.id, start=START, end=END, now=now)
    assert sla_counts(r)["repair.dispatch"] == (1, 0, 0, 0)
    assert sla_counts(r)["repair.on_site"] == (0, 0, 0, 1)
    assert r.sla_row("repair.on_site").rate is None  # nothing decided yet: no verdict
    later = await kpi_report(
        session,
        company_id=world.company.id,
        start=START,
        end=END,
        now=opened + timedelta(minutes=40),
    )
    assert sla_counts(later)["repair.on_site"] == (0, 0, 1, 0)  # now overdue: breached


async def test_scope_outside_the_company_or_the_allowed_estates_is_not_found(
    session: AsyncSession, world: World
) -> None:
    with pytest.raises(NotFound):
        await report(session, world, estate_id=world.other_estate.id, estate_ids={world.estate.id})
    with pytest.raises(NotFound):
        far = await building_of(session, world.far_owner.unit_id)
        await report(session, world, estate_id=world.estate.id, building_id=far)
    with pytest.raises(NotFound):
        await report(session, world, estate_id=99999)
    with pytest.raises(InvalidInput):
        period_bounds(datetime(2026, 3, 2).date(), datetime(2026, 3, 1).date(), ZONE)


async def test_another_company_in_the_same_database_is_left_out(
    session: AsyncSession, world: World, march: dict[str, Ticket]
) -> None:
    before = await report(session, world)
    assert before.scope.whole_database  # one company: no company check needed
    company = Company(code="OTHER", name="别家物业")
    session.add(company)
    await session.flush()
    estate = Estate(company_id=company.id, code="OTH-A", name="别家小区")
    session.add(estate)
    await session.flush()
    owner = await make_owner(session, await make_unit(session, estate, "O-1-101"), "王五", "1")
    await tickets.open_ticket(
        session, kind="repair", estate_id=estate.id, owner_id=owner.id, actor=Actor("bot"),
        category="crack", location="roof", now=at("03-10", "10:00"),
    )  # fmt: skip
    session.add(
        Message(channel="webchat", platform_message_id="other-1", direction="in",
                owner_id=owner.id, created_at=at("03-01", "10:00"), intent="repair")
    )  # fmt: skip
    await session.commit()
    after = await report(session, world)
    assert not after.scope.whole_database
    for part in ("kpis", "sla", "volumes", "defects"):
        assert after.as_json()[part] == before.as_json()[part], part
    theirs = await kpi_report(session, company_id=company.id, start=START, end=END, now=NOW)
    assert theirs.volumes.total == 1 and theirs.sla_row("repair.dispatch").open == 1
    # Messages no estate can be found for (m2, m5) count company-wide for either company.
    assert (
        theirs.kpi("tickets_recorded").numerator,
        theirs.kpi("tickets_recorded").denominator,
    ) == (1, 3)
