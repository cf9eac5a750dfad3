"""Holiday campaigns drafted from the calendar (2026 and 2027), approved, then sent on the
festival day at the care hour, once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import campaigns
from backend.campaign_audience import AudienceSpec
from backend.errors import Forbidden, IllegalTransition
from backend.models import Campaign, Company, HouseholdMember
from tests.campaigns.conftest import bind, ctx_of, local, owners_of, rows


async def company(s: AsyncSession, holiday_campaigns: bool = True) -> Company:
    found = await s.scalar(select(Company).where(Company.code == "DEMO"))
    assert found is not None
    found.settings = {**found.settings, "holiday_campaigns": holiday_campaigns}
    await s.flush()
    return found


async def drafts(s: AsyncSession) -> dict[tuple[str | None, int | None], Campaign]:
    return {(c.festival, c.festival_year): c for c in await s.scalars(select(Campaign))}


async def test_drafts_for_the_next_two_weeks_in_2027_once(s: AsyncSession) -> None:
    await company(s)
    made = await campaigns.holiday_drafts(s, date(2027, 9, 28))
    assert [(c.festival, c.festival_year) for c in made] == [
        ("national_day", 2027),
        ("double_ninth", 2027),
    ]
    double_ninth = (await drafts(s))[("double_ninth", 2027)]
    assert double_ninth.scheduled_at == local(2027, 10, 8, 9)  # 重阳 2027 is 8 October
    assert double_ninth.state == "pending_approval" and double_ninth.kind == "holiday"
    assert AudienceSpec.of(double_ninth.audience).relations == ("elder", "parent")
    assert "{name}" in double_ninth.text_zh and "{name}" in double_ninth.text_en
    assert "重阳" in double_ninth.text_zh and double_ninth.name.startswith("2027 重阳节")
    national = (await drafts(s))[("national_day", 2027)]
    assert AudienceSpec.of(national.audience) == AudienceSpec()
    assert await campaigns.holiday_drafts(s, date(2027, 9, 29)) == []  # idempotent
    assert await campaigns.holiday_drafts(s, date(2027, 10, 2)) == []


async def test_drafts_in_2026_and_across_the_year_end(s: AsyncSession) -> None:
    await company(s)
    made = await campaigns.holiday_drafts(s, date(2026, 5, 20))
    assert [(c.festival, c.scheduled_at) for c in made] == [
        ("childrens_day", local(2026, 6, 1, 9)),
    ]
    assert AudienceSpec.of(made[0].audience).relations == ("child",)
    made = await campaigns.holiday_drafts(s, date(2026, 7, 20))
    assert [c.festival for c in made] == ["army_day"]
    assert AudienceSpec.of(made[0].audience).relations == ("serviceman",)
    made = await campaigns.holiday_drafts(s, date(2026, 12, 25))
    assert [(c.festival, c.festival_year) for c in made] == [("new_year", 2027)]
    made = await campaigns.holiday_drafts(s, date(2027, 1, 28))
    assert [(c.festival, c.scheduled_at) for c in made] == [
        ("spring_festival", local(2027, 2, 6, 9))
    ]


async def test_no_drafts_unless_the_company_switched_to_campaigns(s: AsyncSession) -> None:
    await company(s, holiday_campaigns=False)
    assert await campaigns.holiday_drafts(s, date(2027, 9, 28)) == []


async def test_approved_greeting_goes_out_on_the_day_once(s: AsyncSession) -> None:
    await company(s)
    (draft,) = [
        c
        for c in await campaigns.holiday_drafts(s, date(2027, 9, 28))
        if c.festival == "national_day"
    ]
    supervisor, manager = await ctx_of(s, "supervisor.a"), await ctx_of(s, "manager")
    with pytest.raises((Forbidden, IllegalTransition)):
        await campaigns.approve(s, supervisor, draft.id)
    with pytest.raises(IllegalTransition):  # not before it is approved
        await campaigns.start(s, manager, draft.id, now=local(2027, 9, 28))
    await campaigns.approve(s, manager, draft.id, now=local(2027, 9, 28))
    assert draft.state == "scheduled" and draft.approved_by_id == manager.staff.id
    assert await campaigns.start_due(s, local(2027, 9, 30, 12)) == 0
    assert await campaigns.start_due(s, local(2027, 10, 1, 9)) == 2
    assert await campaigns.start_due(s, local(2027, 10, 1, 9, 1)) == 0
    sent = await rows(s, draft.id)
    assert {r.next_attempt_at for r in sent} == {local(2027, 10, 1, 9)}
    assert {r.payload["buttons"][0]["value"] for r in sent} == {"unsubscribe:holiday"}
    assert any(r.payload["text"].startswith("张伟您好") for r in sent)


async def test_editing_an_approved_greeting_needs_approval_again(s: AsyncSession) -> None:
    await company(s)
    draft = (await campaigns.holiday_drafts(s, date(2027, 9, 28)))[0]
    manager = await ctx_of(s, "manager")
    await campaigns.approve(s, manager, draft.id, now=local(2027, 9, 28))
    changed = campaigns.CampaignForm(
        draft.name, "{name}您好！国庆快乐！", "Dear {name}, happy National Day!", AudienceSpec()
    )
    await campaigns.update_draft(s, manager, draft.id, changed, now=local(2027, 9, 29))
    assert (draft.state, draft.approved_by_id) == ("pending_approval", None)
    assert draft.scheduled_at == local(2027, 10, 1, 9)  # the festival day stays


async def test_a_draft_nobody_approved_is_cancelled_after_its_day(s: AsyncSession) -> None:
    await company(s)
    await campaigns.holiday_drafts(s, date(2027, 9, 28))
    await campaigns.holiday_drafts(s, date(2027, 10, 2))
    found = await drafts(s)
    assert found[("national_day", 2027)].state == "cancelled"
    assert found[("double_ninth", 2027)].state == "pending_approval"


async def test_a_greeting_not_approved_before_its_festival_cannot_be_approved_after(
    s: AsyncSession,
) -> None:
    await company(s)
    (draft,) = [
        c
        for c in await campaigns.holiday_drafts(s, date(2027, 9, 28))
        if c.festival == "national_day"
    ]
    manager = await ctx_of(s, "manager")
    with pytest.raises(IllegalTransition, match="festival is over"):
        await campaigns.approve(s, manager, draft.id, now=local(2027, 10, 2, 9))
    await campaigns.approve(s, manager, draft.id, now=local(2027, 10, 1, 20))  # still the day
    assert draft.state == "scheduled"


async def test_a_festival_campaign_greets_whom_the_care_sweep_would(s: AsyncSession) -> None:
    """Double Ninth: households with an elder or parent of 60 or more, and owners of 60 or
    more themselves; a young "parent" does not make a household elderly."""
    await company(s)
    first, second, third = (await owners_of(s, "DEMO-A"))[10:13]
    await s.execute(
        delete(HouseholdMember).where(HouseholdMember.owner_id.in_([first.id, second.id, third.id]))
    )
    first.birthday = date(1950, 3, 1)  # 77 in 2027, no members
    second.birthday = date(1985, 3, 1)
    s.add(
        HouseholdMember(
            owner_id=second.id, name="母亲", relation="parent", birthday=date(1955, 5, 5)
        )
    )
    third.birthday = date(1985, 3, 1)
    s.add(
        HouseholdMember(
            owner_id=third.id, name="孩子", relation="parent", birthday=date(1990, 5, 5)
        )
    )
    await bind(s, [first, second, third])
    (draft,) = [
        c
        for c in await campaigns.holiday_drafts(s, date(2027, 9, 28))
        if c.festival == "double_ninth"
    ]
    reached = {r.owner_id for r in (await campaigns.select_audience(s, draft)).recipients}
    assert {first.id, second.id} <= reached and third.id not in reached
