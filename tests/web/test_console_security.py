"""Console security: login, sessions, CSRF, roles and estate scoping, escaping."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.composition import Runtime
from backend.models import AuditEntry, Estate, Ticket
from tests.web.conftest import ConsoleClient


async def ticket_of(runtime: Runtime, estate_code: str, state: str = "received") -> Ticket:
    async with runtime.db.session() as s:
        ticket = await s.scalar(
            select(Ticket)
            .join(Estate, Estate.id == Ticket.estate_id)
            .where(Estate.code == estate_code, Ticket.state == state)
            .limit(1)
        )
        assert ticket is not None
        return ticket


async def test_no_login_redirects_to_the_login_page(console: ConsoleClient) -> None:
    response = await console.http.get("/console")
    assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
    fragment = await console.http.get("/console/queue/rows", headers={"HX-Request": "true"})
    assert fragment.status_code == 401 and fragment.headers["HX-Redirect"] == "/console/login"
    api = await console.http.get("/console/api/tickets/1")
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthorized"


async def test_wrong_password_and_rate_limit(console: ConsoleClient, runtime: Runtime) -> None:
    for _ in range(5):
        response = await console.login("agent.a", "wrong-password")
        assert response.status_code == 401 and "账号或密码不正确" in response.text
    blocked = await console.login("agent.a")  # even the right password, for a while
    assert blocked.status_code == 429
    async with runtime.db.session() as s:
        failed = await s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "login_failed")
        )
    assert failed == 5


async def test_session_cookie_flags(console: ConsoleClient) -> None:
    response = await console.login("agent.a")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "ownerdesk_session=" in cookie


async def test_posts_without_the_csrf_token_are_refused(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await console.login("agent.a")
    ticket = await ticket_of(runtime, "DEMO-A")
    response = await console.http.post(f"/console/tickets/{ticket.id}/note", data={"note": "hi"})
    assert response.status_code == 403
    response = await console.http.post(
        f"/console/tickets/{ticket.id}/note", data={"note": "hi", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    response = await console.http.post(
        f"/console/tickets/{ticket.id}/note",
        data={"note": "hi"},
        headers={"X-CSRF-Token": console.csrf},
    )
    assert response.status_code == 303
    assert (await console.post("/console/logout")).status_code == 303
    assert (await console.http.get("/console")).status_code == 303


async def test_another_estates_ticket_is_not_found_everywhere(
    console: ConsoleClient, runtime: Runtime
) -> None:
    await console.login("agent.a")
    other = await ticket_of(runtime, "DEMO-B")
    mine = await ticket_of(runtime, "DEMO-A")
    assert (await console.http.get(f"/console/tickets/{mine.id}")).status_code == 200
    assert (await console.http.get(f"/console/tickets/{other.id}")).status_code == 404
    assert (await console.http.get(f"/console/api/tickets/{other.id}")).status_code == 404
    assert (await console.post(f"/console/tickets/{other.id}/note", note="x")).status_code == 404
    rows = await console.http.get(
        "/console/queue/rows", params={"q": other.number}, headers={"HX-Request": "true"}
    )
    assert other.number not in rows.text
    queue = await console.http.get("/console")
    assert mine.number in queue.text and other.number not in queue.text


async def test_roles(console: ConsoleClient, runtime: Runtime) -> None:
    ticket = await ticket_of(runtime, "DEMO-A")
    await console.login("manager")
    assert (
        await console.http.get(f"/console/tickets/{ticket.id}")
    ).status_code == 200  # reads everything
    assert (await console.post(f"/console/tickets/{ticket.id}/reply", text="hi")).status_code == 403
    other = await ticket_of(runtime, "DEMO-B")
    assert (await console.http.get(f"/console/tickets/{other.id}")).status_code == 200


async def test_a_technician_sees_only_tickets_dispatched_to_them(
    console: ConsoleClient, runtime: Runtime
) -> None:
    dispatched = await ticket_of(runtime, "DEMO-A", "dispatched")
    received = await ticket_of(runtime, "DEMO-A", "received")
    await console.login("tech.a")
    assert (await console.http.get(f"/console/tickets/{dispatched.id}")).status_code == 200
    assert (await console.http.get(f"/console/tickets/{received.id}")).status_code == 404
    # a technician may record on-site, not close or reply
    assert (
        await console.post(
            f"/console/tickets/{dispatched.id}/move", to_state="cancelled", reason="x"
        )
    ).status_code == 403
    assert (
        await console.post(f"/console/tickets/{dispatched.id}/reply", text="hi")
    ).status_code == 403
    assert (
        await console.post(f"/console/tickets/{dispatched.id}/move", to_state="on_site")
    ).status_code == 303


async def test_owner_text_is_escaped(console: ConsoleClient, runtime: Runtime) -> None:
    from tests.fakes.chat import Chat

    chat = Chat(runtime.desk, "demo-session")
    await chat.say("<script>alert('x')</script> 厨房水龙头漏水")
    await chat.tap("time:asap")
    await chat.tap("repair:submit")
    await console.login("agent.a")
    async with runtime.db.session() as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.summary.like("<script>%")))
        assert ticket is not None
    page = await console.http.get(f"/console/tickets/{ticket.id}")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    queue = await console.http.get("/console")
    assert "<script>alert" not in queue.text
