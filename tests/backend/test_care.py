"""The daily care sweep: who gets what, when, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend.care import run_care
from backend.messaging import identity_for
from backend.models import HouseholdMember, OutboxItem, Owner, WarrantyItem
from backend.vocabulary import Relation
from tests.factories import World, make_owner, make_unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


async def bind(session: AsyncSession, owner: Owner, chat: str) -> None:
    identity = await identity_for(session, "webchat", chat)
    identity.owner_id = owner.id
    identity.verified_at = datetime(2026, 1, 1, tzinfo=UTC)
    await session.flush()


async def queued(session: AsyncSession) -> dict[str, OutboxItem]:
    return {row.idempotency_key: row for row in await session.scalars(select(OutboxItem))}


async def test_birthday_greeting_at_nine_and_only_once(session: AsyncSession, world: World) -> None:
    world.owner.birthday = date(1980, 11, 26)
    await bind(session, world.owner, "zs")
    day = date(2026, 11, 26)
    first = await run_care(session, day, at(day))
    assert first.enqueued == 1 and first.by_type["birthday"] == 1
    row = (await queued(session))[f"care:birthday:owner:{world.owner.id}:2026"]
    assert row.next_attempt_at == at(day, 9).astimezone(UTC)
    assert (
        "生日快乐" in row.payload["text"]
        and row.payload["buttons"][0]["value"] == "unsubscribe:birthday"
    )
    again = await run_care(session, day, at(day))
    assert (again.enqueued, again.skipped) == (0, 1)


async def test_greetings_come_in_the_language_the_owner_chats_in(
    session: AsyncSession, world: World
) -> None:
    """The household file says Chinese, but the owner switched the chat to English."""
    world.owner.birthday, world.owner.language = date(1980, 11, 26), "zh"
    await bind(session, world.owner, "en-chat")
    identity = await identity_for(session, "webchat", "en-chat")
    identity.language = "en"
    day = date(2026, 11, 26)
    await run_care(session, day, at(day))
    row = (await queued(session))[f"care:birthday:owner:{world.owner.id}:2026"]
    assert "birthday" in row.payload["text"].lower()


async def test_29_february_birthdays_in_common_and_leap_years(
    session: AsyncSession, world: World
) -> None:
    world.owner.birthday = date(1976, 2, 29)
    await bind(session, world.owner, "leap")
    assert (await run_care(session, date(2027, 2, 28), at(date(2027, 2, 28)))).by_type[
        "birthday"
    ] == 1
    assert (await run_care(session, date(2028, 2, 28), at(date(2028, 2, 28)))).by_type[
        "birthday"
    ] == 0
    assert (await run_care(session, date(2028, 2, 29), at(date(2028, 2, 29)))).by_type[
        "birthday"
    ] == 1


async def test_opt_outs_and_unreachable_owners_are_skipped(
    session: AsyncSession, world: World
) -> None:
    world.owner.birthday = world.neighbour.birthday = world.far_owner.birthday = date(1990, 5, 5)
    world.owner.care_opt_outs = ["birthday"]
    await bind(session, world.owner, "a")
    await bind(session, world.far_owner, "c")  # the neighbour has no chat account
    report = await run_care(session, date(2026, 5, 5), at(date(2026, 5, 5)))
    assert report.enqueued == 1 and report.unreachable == 1 and report.skipped == 2
    [row] = (await queued(session)).values()
    assert row.owner_id == world.far_owner.id and "Happy birthday" in row.payload["text"]


async def test_double_ninth_2027_for_elderly_households_without_a_published_table(
    session: AsyncSession, world: World
) -> None:
    session.add(
        HouseholdMember(
            owner_id=world.owner.id,
            name="奶奶",
            relation=Relation.ELDER.value,
            birthday=date(1940, 1, 1),
        )
    )
    for owner, chat in ((world.owner, "o"), (world.neighbour, "n")):
        await bind(session, owner, chat)
    day = date(2027, 10, 8)  # 重阳 2027, computed from the lunar calendar
    report = await run_care(session, day, at(day))
    assert report.by_type["holiday"] == 1
    [key] = (await queued(session)).keys()
    assert key == f"care:holiday:double_ninth:2027:owner:{world.owner.id}"


async def test_national_day_greets_everyone_reachable(session: AsyncSession, world: World) -> None:
    for owner, chat in ((world.owner, "o"), (world.neighbour, "n"), (world.far_owner, "f")):
        await bind(session, owner, chat)
    report = await run_care(session, date(2026, 10, 1), at(date(2026, 10, 1)))
    assert report.by_type["holiday"] == 3


async def test_warranty_notice_thirty_days_before_one_per_item(
    session: AsyncSession, world: World
) -> None:
    session.add(
        WarrantyItem(unit_id=world.unit.id, item="waterproofing", expires_on=date(2026, 12, 26))
    )
    session.add(
        WarrantyItem(unit_id=world.unit.id, item="doors_windows", expires_on=date(2026, 12, 27))
    )
    await bind(session, world.owner, "o")
    report = await run_care(session, date(2026, 11, 26), at(date(2026, 11, 26)))
    assert report.by_type["warranty"] == 1
    [row] = (await queued(session)).values()
    assert "防水" in row.payload["text"] and "2026-12-26" in row.payload["text"]


async def test_quiet_hours_hold_care_until_morning(session: AsyncSession, world: World) -> None:
    world.owner.birthday = date(1980, 11, 26)
    await bind(session, world.owner, "o")
    day = date(2026, 11, 26)
    late = at(day, 22)  # the sweep ran late in the evening
    await run_care(session, day, late)
    [row] = (await queued(session)).values()
    assert row.next_attempt_at == at(day + timedelta(days=1), 8).astimezone(UTC)


async def test_owner_stages(session: AsyncSession, world: World) -> None:
    world.owner.stage = "prospective"
    world.neighbour.moved_in_on = date(2026, 9, 30)
    unit = await make_unit(session, world.estate, "A-9-909")
    unit.handover_date = date(2026, 10, 1) - timedelta(days=180)
    waiting = await make_owner(session, unit, "王五", "13800000009")
    soon = await make_unit(session, world.estate, "A-9-910")
    soon.handover_date = date(2026, 10, 8)
    buyer = await make_owner(session, soon, "赵六", "13800000010")
    buyer.stage = "prospective"
    for owner, chat in ((world.owner, "o"), (world.neighbour, "n"), (waiting, "w"), (buyer, "b")):
        await bind(session, owner, chat)
    report = await run_care(session, date(2026, 10, 1), at(date(2026, 10, 1)))
    rows = await queued(session)
    keys = set(rows.keys())
    assert f"care:bulletin:2026Q4:owner:{world.owner.id}" in keys
    assert f"care:welcome:owner:{world.neighbour.id}" in keys
    assert f"care:not_moved_in:owner:{waiting.id}" in keys
    greeting = rows[f"care:before_move_in:owner:{buyer.id}"].payload["text"]
    assert "A-9-910" in greeting and "2026-10-08" in greeting and "收房" in greeting
    assert report.enqueued >= 4


async def test_dry_run_counts_the_same_as_a_run(session: AsyncSession, world: World) -> None:
    world.owner.birthday = date(1980, 11, 26)
    await bind(session, world.owner, "o")
    day = date(2026, 11, 26)
    dry = await run_care(session, day, at(day), dry_run=True)
    assert dry.enqueued == 1 and await queued(session) == {}
