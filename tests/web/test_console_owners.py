"""Console owners: search, the household file, edits, members, binding chat accounts."""

from __future__ import annotations

from sqlalchemy import select

from backend.composition import Runtime
from backend.models import AuditEntry, ChannelIdentity, Estate, HouseholdMember, Owner, Unit
from backend.vocabulary import Stage
from tests.fakes.chat import Chat
from tests.web.conftest import ConsoleClient


async def owner_at(runtime: Runtime, estate: str, unit: str) -> Owner:
    async with runtime.db.session() as s:
        owner = await s.scalar(
            select(Owner)
            .join(Unit, Unit.id == Owner.unit_id)
            .join(Estate, Estate.id == Owner.estate_id)
            .where(Estate.code == estate, Unit.number == unit)
        )
        assert owner is not None
        return owner


async def identity(runtime: Runtime, channel: str, external_id: str) -> ChannelIdentity:
    async with runtime.db.session() as s:
        found = await s.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
            )
        )
        assert found is not None
        return found


async def audited(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.db.session() as s:
        return list(
            await s.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def edit_form(owner: Owner, **changes: str) -> dict[str, str]:
    form = {
        "phone": owner.phone,
        "language": owner.language,
        "stage": owner.stage,
        "birthday": owner.birthday.isoformat() if owner.birthday else "",
    }
    if owner.key_owner:
        form["key_owner"] = "1"
    return {**form, **changes}


async def test_search_within_the_visible_estates(console: ConsoleClient, runtime: Runtime) -> None:
    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    await console.login("agent.a")
    for term in ("张伟", "138 0013 8000", "a-1-101"):
        page = await console.http.get("/console/owners", params={"q": term})
        assert page.status_code == 200 and f'data-owner="{zhang.id}"' in page.text, term
    assert (
        "Emily Chen" not in (await console.http.get("/console/owners", params={"q": "Emily"})).text
    )
    everyone = await console.http.get("/console/owners")
    assert "共 120 户" in everyone.text and "第 1 / 3 页" in everyone.text
    last = await console.http.get("/console/owners", params={"page": 3})
    assert "第 3 / 3 页" in last.text and last.text.count("data-owner=") == 20

    await console.post("/console/logout")
    await console.login("agent.b")
    page = await console.http.get("/console/owners", params={"q": "emily"})
    assert "Emily Chen" in page.text


async def test_the_household_file(console: ConsoleClient, runtime: Runtime) -> None:
    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    await Chat(runtime.desk, "demo-session").say("物业费怎么交")
    await console.login("agent.a")
    page = await console.http.get(f"/console/owners/{zhang.id}")
    assert page.status_code == 200
    for text in ("张伟", "demo-openid-0001", "900001", "demo-session", "物业费怎么交", "防水"):
        assert text in page.text, text
    assert 'name="opt_out" value="birthday"' in page.text


async def test_another_estates_owner_is_not_found(console: ConsoleClient, runtime: Runtime) -> None:
    emily = await owner_at(runtime, "DEMO-B", "B-1-101")
    bound = await identity(runtime, "telegram", "900002")
    await console.login("agent.a")
    assert (await console.http.get(f"/console/owners/{emily.id}")).status_code == 404
    posts = {
        f"/console/owners/{emily.id}": edit_form(emily, phone="+6591234568"),
        f"/console/owners/{emily.id}/members": {"name": "X", "relation": "child"},
        f"/console/owners/{emily.id}/identities/{bound.id}/unbind": {},
        f"/console/owners/{emily.id}/bind": {"channel": "webchat", "external_id": "demo-session"},
    }
    for path, form in posts.items():
        assert (await console.post(path, **form)).status_code == 404, path
    assert (await owner_at(runtime, "DEMO-B", "B-1-101")).phone == "+6591234567"
    assert (await identity(runtime, "telegram", "900002")).owner_id == emily.id


async def test_edit_is_validated_and_audited(console: ConsoleClient, runtime: Runtime) -> None:
    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    stage = next(s.value for s in Stage if s.value != zhang.stage)
    await console.login("agent.a")
    response = await console.post(
        f"/console/owners/{zhang.id}",
        **edit_form(zhang, phone="138-0013-8001", stage=stage, key_owner="1", language="en"),
        opt_out="birthday",
    )
    assert response.status_code == 303
    changed = await owner_at(runtime, "DEMO-A", "A-1-101")
    assert changed.phone == "13800138001" and changed.stage == stage
    assert changed.key_owner and changed.language == "en"
    assert changed.care_opt_outs == ["birthday"]
    [entry] = await audited(runtime, "owner_update")
    assert entry.target_id == zhang.id
    assert set(entry.detail["changed"]) == {
        "phone",
        "stage",
        "key_owner",
        "language",
        "care_opt_outs",
    }

    bad = await console.post(f"/console/owners/{zhang.id}", **edit_form(changed, phone="12345"))
    assert bad.status_code == 303
    page = await console.http.get(f"/console/owners/{zhang.id}")
    assert "malformed phone number" in page.text
    assert (await owner_at(runtime, "DEMO-A", "A-1-101")).phone == "13800138001"
    assert len(await audited(runtime, "owner_update")) == 1
    odd = await console.post(f"/console/owners/{zhang.id}", **edit_form(changed, stage="retired"))
    assert odd.status_code == 303
    assert (await owner_at(runtime, "DEMO-A", "A-1-101")).stage == stage


async def test_members_add_and_remove(console: ConsoleClient, runtime: Runtime) -> None:
    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    emily = await owner_at(runtime, "DEMO-B", "B-1-101")
    await console.login("agent.a")
    added = await console.post(
        f"/console/owners/{zhang.id}/members",
        name="张小明",
        relation="child",
        birthday="2015-06-01",
    )
    assert added.status_code == 303
    async with runtime.db.session() as s:
        member = await s.scalar(select(HouseholdMember).where(HouseholdMember.name == "张小明"))
        assert member is not None and member.owner_id == zhang.id
        other = HouseholdMember(owner_id=emily.id, name="Other", relation="child")
        s.add(other)
        await s.flush()
        other_id = other.id
    page = await console.http.get(f"/console/owners/{zhang.id}")
    assert "张小明" in page.text
    # another household's member cannot be removed through this household's URL
    sneaky = await console.post(f"/console/owners/{zhang.id}/members/{other_id}/remove")
    assert sneaky.status_code == 404
    removed = await console.post(f"/console/owners/{zhang.id}/members/{member.id}/remove")
    assert removed.status_code == 303
    async with runtime.db.session() as s:
        assert await s.get(HouseholdMember, member.id) is None
        assert await s.get(HouseholdMember, other_id) is not None
    assert [e.action for e in await audited(runtime, "member_add")] == ["member_add"]
    assert len(await audited(runtime, "member_remove")) == 1


async def test_unbind_and_bind_chat_accounts(console: ConsoleClient, runtime: Runtime) -> None:
    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    wechat = await identity(runtime, "wechat", "demo-openid-0001")
    await console.login("agent.a")
    response = await console.post(f"/console/owners/{zhang.id}/identities/{wechat.id}/unbind")
    assert response.status_code == 303
    loose = await identity(runtime, "wechat", "demo-openid-0001")
    assert loose.owner_id is None and loose.verified_at is None
    [entry] = await audited(runtime, "identity_unbind")
    assert entry.target_id == zhang.id and entry.detail["external_id"] == "demo-openid-0001"

    # the owner phones the front desk from a new web chat; the agent binds it
    await Chat(runtime.desk, "walk-in").say("你好")
    bound = await console.post(
        f"/console/owners/{zhang.id}/bind", channel="webchat", external_id="walk-in"
    )
    assert bound.status_code == 303
    walk_in = await identity(runtime, "webchat", "walk-in")
    assert walk_in.owner_id == zhang.id and walk_in.verified_at is not None
    again = await console.post(
        f"/console/owners/{zhang.id}/bind", channel="wechat", external_id="demo-openid-0001"
    )
    assert again.status_code == 303
    assert (await identity(runtime, "wechat", "demo-openid-0001")).owner_id == zhang.id
    assert len(await audited(runtime, "identity_bind")) == 2

    # someone else's account, or one never seen, cannot be bound
    for external_id, message in (("900002", "another household"), ("nobody", "has written")):
        refused = await console.post(
            f"/console/owners/{zhang.id}/bind", channel="telegram", external_id=external_id
        )
        assert refused.status_code == 303
        page = await console.http.get(f"/console/owners/{zhang.id}")
        assert message in page.text
    assert (await identity(runtime, "telegram", "900002")).owner_id != zhang.id
    assert len(await audited(runtime, "identity_bind")) == 2


async def test_roles_and_csrf(console: ConsoleClient, runtime: Runtime) -> None:
    emily = await owner_at(runtime, "DEMO-B", "B-1-101")
    await console.login("manager")
    page = await console.http.get(f"/console/owners/{emily.id}")
    assert page.status_code == 200 and "disabled" in page.text  # read only
    edit = await console.post(f"/console/owners/{emily.id}", **edit_form(emily, stage="veteran"))
    assert edit.status_code == 403
    await console.post("/console/logout")

    await console.login("tech.a")
    assert (await console.http.get("/console/owners")).status_code == 403
    await console.post("/console/logout")

    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    await console.login("agent.a")
    forged = await console.http.post(
        f"/console/owners/{zhang.id}", data=edit_form(zhang, stage="veteran")
    )
    assert forged.status_code == 403
    assert (await owner_at(runtime, "DEMO-A", "A-1-101")).stage == zhang.stage


async def test_a_rebound_account_does_not_carry_the_old_households_messages(
    console: ConsoleClient, runtime: Runtime
) -> None:
    zhang = await owner_at(runtime, "DEMO-A", "A-1-101")
    neighbour = await owner_at(runtime, "DEMO-A", "A-1-102")
    await Chat(runtime.desk, "demo-session").say("我家的门禁卡丢了")
    web = await identity(runtime, "webchat", "demo-session")
    await console.login("agent.a")
    await console.post(f"/console/owners/{zhang.id}/identities/{web.id}/unbind")
    await console.post(
        f"/console/owners/{neighbour.id}/bind", channel="webchat", external_id="demo-session"
    )
    assert (await identity(runtime, "webchat", "demo-session")).owner_id == neighbour.id
    page = await console.http.get(f"/console/owners/{neighbour.id}")
    assert "demo-session" in page.text and "我家的门禁卡丢了" not in page.text
    assert "我家的门禁卡丢了" in (await console.http.get(f"/console/owners/{zhang.id}")).text
