"""Console staff admin: admins only, own company only, passwords never shown, all audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.composition import Runtime
from backend.demo import DEMO_PASSWORD
from backend.models import AuditEntry, Company, Staff
from tests.web.conftest import ConsoleClient

NEW_PASSWORD = "a-new-password-1"


async def staff(runtime: Runtime, username: str) -> Staff:
    async with runtime.db.session() as s:
        found = await s.scalar(
            select(Staff).where(Staff.username == username).options(selectinload(Staff.estates))
        )
        assert found is not None
        return found


async def actions(runtime: Runtime) -> list[tuple[str, int | None]]:
    async with runtime.db.session() as s:
        rows = await s.execute(
            select(AuditEntry.action, AuditEntry.target_id)
            .where(AuditEntry.action.like("staff_%"))
            .order_by(AuditEntry.id)
        )
        return [(a, t) for a, t in rows]


async def test_list_and_add(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    await console.login("admin")
    page = await console.http.get("/console/staff")
    assert page.status_code == 200
    for username in ("admin", "manager", "agent.a", "tech.b"):
        assert f'data-staff="{username}"' in page.text
    assert "argon2" not in page.text and "password_hash" not in page.text

    added = await console.post(
        "/console/staff",
        username="agent.c",
        display_name="周敏",
        phone="139 0000 0099",
        role="agent",
        estates="DEMO-A",
        language="zh",
        password=NEW_PASSWORD,
    )
    assert added.status_code == 303
    new = await staff(runtime, "agent.c")
    assert added.headers["location"] == f"/console/staff/{new.id}"
    assert new.role == "agent" and [e.code for e in new.estates] == ["DEMO-A"]
    assert new.phone == "13900000099" and new.display_name == "周敏"
    assert (await other_console.login("agent.c", NEW_PASSWORD)).status_code == 303
    assert await actions(runtime) == [("staff_add", new.id)]
    async with runtime.db.session() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "staff_add"))
        assert entry is not None and NEW_PASSWORD not in str(entry.detail)


async def test_add_is_validated(console: ConsoleClient, runtime: Runtime) -> None:
    await console.login("admin")
    before = (await staff(runtime, "agent.a")).password_hash
    cases = {
        "is taken": {"username": "agent.a", "role": "agent", "estates": "DEMO-A"},
        "needs at least one estate": {"username": "agent.d", "role": "agent"},
        "unknown role": {"username": "agent.d", "role": "boss", "estates": "DEMO-A"},
        "unknown estate": {"username": "agent.d", "role": "agent", "estates": "NOPE"},
    }
    for message, form in cases.items():
        response = await console.post("/console/staff", password=NEW_PASSWORD, **form)
        assert response.status_code == 303
        page = await console.http.get("/console/staff")
        assert message in page.text, message
    short = await console.post(
        "/console/staff", username="agent.d", role="agent", estates="DEMO-A", password="short"
    )
    assert short.status_code == 303
    assert (await staff(runtime, "agent.a")).password_hash == before
    async with runtime.db.session() as s:
        assert await s.scalar(select(Staff).where(Staff.username == "agent.d")) is None
    assert await actions(runtime) == []


async def test_change_role_and_estates(console: ConsoleClient, runtime: Runtime) -> None:
    target = await staff(runtime, "agent.b")
    await console.login("admin")
    page = await console.http.get(f"/console/staff/{target.id}")
    assert page.status_code == 200 and "Sarah Lim" in page.text
    response = await console.http.post(
        f"/console/staff/{target.id}",
        data={
            "csrf_token": console.csrf,
            "role": "supervisor",
            "estates": ["DEMO-A", "DEMO-B"],
            "display_name": "Sarah Lim",
            "phone": "+6581000001",
            "language": "en",
        },
    )
    assert response.status_code == 303
    changed = await staff(runtime, "agent.b")
    assert changed.role == "supervisor"
    assert sorted(e.code for e in changed.estates) == ["DEMO-A", "DEMO-B"]
    assert await actions(runtime) == [("staff_update", target.id)]
    async with runtime.db.session() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "staff_update"))
        assert entry is not None and set(entry.detail["changed"]) == {"role", "estates"}


async def test_reset_password_ends_other_sessions(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    target = await staff(runtime, "agent.a")
    assert (await other_console.login("agent.a")).status_code == 303
    assert (await other_console.http.get("/console")).status_code == 200
    await console.login("admin")
    response = await console.post(f"/console/staff/{target.id}/password", password=NEW_PASSWORD)
    assert response.status_code == 303
    assert (await other_console.http.get("/console")).status_code == 303  # logged out
    assert (await other_console.login("agent.a", DEMO_PASSWORD)).status_code == 401
    assert (await other_console.login("agent.a", NEW_PASSWORD)).status_code == 303
    assert await actions(runtime) == [("staff_password_reset", target.id)]
    page = await console.http.get(f"/console/staff/{target.id}")
    assert NEW_PASSWORD not in page.text

    # resetting one's own password keeps this session
    me = await staff(runtime, "admin")
    assert (
        await console.post(f"/console/staff/{me.id}/password", password=NEW_PASSWORD)
    ).status_code == 303
    assert (await console.http.get("/console/staff")).status_code == 200


async def test_deactivate_and_reactivate(
    console: ConsoleClient, other_console: ConsoleClient, runtime: Runtime
) -> None:
    target = await staff(runtime, "agent.a")
    await other_console.login("agent.a")
    await console.login("admin")
    assert (await console.post(f"/console/staff/{target.id}/deactivate")).status_code == 303
    assert not (await staff(runtime, "agent.a")).active
    assert (await other_console.http.get("/console")).status_code == 303
    assert (await other_console.login("agent.a")).status_code == 401
    assert (await console.post(f"/console/staff/{target.id}/reactivate")).status_code == 303
    assert (await other_console.login("agent.a")).status_code == 303
    assert await actions(runtime) == [
        ("staff_deactivate", target.id),
        ("staff_reactivate", target.id),
    ]


async def test_an_admin_cannot_lock_themself_out(console: ConsoleClient, runtime: Runtime) -> None:
    me = await staff(runtime, "admin")
    await console.login("admin")
    assert (await console.post(f"/console/staff/{me.id}/deactivate")).status_code == 303
    page = await console.http.get(f"/console/staff/{me.id}")
    assert "you cannot deactivate your own account" in page.text
    demoted = await console.post(f"/console/staff/{me.id}", role="agent", estates="DEMO-A")
    assert demoted.status_code == 303
    after = await staff(runtime, "admin")
    assert after.active and after.role == "admin"
    assert await actions(runtime) == []


async def test_only_admins_and_only_their_company(console: ConsoleClient, runtime: Runtime) -> None:
    target = await staff(runtime, "agent.a")
    for username in ("manager", "supervisor.a", "agent.a"):
        await console.login(username)
        assert (await console.http.get("/console/staff")).status_code == 403
        assert (await console.http.get(f"/console/staff/{target.id}")).status_code == 403
        assert (await console.post(f"/console/staff/{target.id}/deactivate")).status_code == 403
        add = await console.post(
            "/console/staff", username="x.y", role="admin", password=NEW_PASSWORD
        )
        assert add.status_code == 403
        await console.post("/console/logout")
    assert (await staff(runtime, "agent.a")).active

    async with runtime.db.session() as s:
        other = Company(code="OTHER", name="其他物业")
        s.add(other)
        await s.flush()
        stranger = Staff(company_id=other.id, username="stranger", role="admin", password_hash="x")
        s.add(stranger)
        await s.flush()
        stranger_id = stranger.id
    await console.login("admin")
    assert (await console.http.get(f"/console/staff/{stranger_id}")).status_code == 404
    assert (await console.post(f"/console/staff/{stranger_id}/deactivate")).status_code == 404
    assert 'data-staff="stranger"' not in (await console.http.get("/console/staff")).text
    forged = await console.http.post(f"/console/staff/{target.id}/deactivate")
    assert forged.status_code == 403
    assert (await staff(runtime, "agent.a")).active
